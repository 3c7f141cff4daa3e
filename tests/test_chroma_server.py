"""Server mode: the same index code against a real `chroma run` on loopback."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.embed import Embedder
from assistant.index import IndexUnavailable, build_index, open_index
from assistant.retrieve import Retriever

from .conftest import free_port, make_settings


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    # The CLI comes with the chromadb package, next to the interpreter (the venv need not be activated).
    beside = Path(sys.executable).parent / "chroma"
    exe = str(beside) if beside.exists() else shutil.which("chroma")
    assert exe, "the chroma CLI comes with the chromadb package"
    port = free_port()
    proc = subprocess.Popen(
        [exe, "run", "--path", str(tmp_path / "chroma-server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/api/v2/heartbeat", timeout=1).read()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not answer its heartbeat within 30 s")
    yield url
    proc.terminate()
    proc.wait(10)


def test_index_in_chroma_server(chroma_server: str, tiny_corpus: Path, tmp_path: Path, embedder: Embedder) -> None:
    settings = make_settings(tiny_corpus, tmp_path / "index", chroma_url=chroma_server)
    report = build_index(settings, embedder=embedder)
    assert report.changed
    index = open_index(settings, embedder)
    assert index.manifest["chroma"]["target"] == {"mode": "server", "url": chroma_server}
    assert not (index.dir / "chroma").exists()  # vectors live in the server
    hits = Retriever(index).search("eldre som bor hjemme og frivillige", k=3)
    assert hits[0].key == "helseplan/1"

    # A second index dir on the same server keeps its own collections.
    other = make_settings(tiny_corpus, tmp_path / "other-index", chroma_url=chroma_server)
    build_index(other, embedder=embedder)
    (tiny_corpus / "strategies" / "helseplan.md").write_text("# Helseplan\n\nBare én ny setning om ungdom.\n")
    build_index(settings, embedder=embedder)
    build_index(settings, embedder=embedder, rebuild=True)
    assert Retriever(open_index(other, embedder)).search("eldre som bor hjemme", k=1)[0].key == "helseplan/1"
    assert Retriever(open_index(settings, embedder)).search("ungdom", k=1)[0].key == "helseplan/innledning"


def test_unreachable_server_gives_clear_message(tiny_corpus: Path, tmp_path: Path, embedder: Embedder) -> None:
    settings = make_settings(tiny_corpus, tmp_path / "index", chroma_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(IndexUnavailable, match="Får ikke kontakt med Chroma-serveren"):
        build_index(settings, embedder=embedder)
    assert not (tmp_path / "index" / "CURRENT").exists()
