"""Server mode: the same index code against a real `chroma run` on loopback."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import chromadb
import pytest

from assistant.embed import Embedder
from assistant.index import IndexUnavailable, build_index, open_index
from assistant.retrieve import Retriever
from assistant.runtime import Runtime
from assistant.service import Assistant

from .conftest import listening_port, make_settings, refused_port


class ChromaServer:
    """A real `chroma run` on loopback that a test can stop and start again on the same port and data."""

    def __init__(self, data_dir: Path) -> None:
        # The CLI comes with the chromadb package, next to the interpreter (the venv need not be activated).
        beside = Path(sys.executable).parent / "chroma"
        exe = str(beside) if beside.exists() else shutil.which("chroma")
        assert exe, "the chroma CLI comes with the chromadb package"
        self.command = [exe, "run", "--path", str(data_dir), "--host", "127.0.0.1", "--port"]
        self.port = 0  # the first start binds port 0; a restart uses the port it got
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen([*self.command, str(self.port)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.port = self.port or listening_port(self.proc.pid)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/api/v2/heartbeat", timeout=1).read()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        pytest.fail("chroma run did not answer its heartbeat within 30 s")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "chroma-server")
    server.start()
    yield server
    server.stop()


def test_index_in_chroma_server(
    chroma_server: ChromaServer, tiny_corpus: Path, tmp_path: Path, embedder: Embedder
) -> None:
    settings = make_settings(tiny_corpus, tmp_path / "index", chroma_url=chroma_server.url)
    report = build_index(settings, embedder=embedder)
    assert report.changed
    index = open_index(settings, embedder)
    assert index.manifest["chroma"]["target"] == {"mode": "server", "url": chroma_server.url}
    assert not (index.dir / "chroma").exists()  # vectors live in the server
    hits = Retriever(index).search("eldre som bor hjemme og frivillige", k=3)
    assert hits[0].key == "helseplan/1"

    # A second index dir on the same server keeps its own collections.
    other = make_settings(tiny_corpus, tmp_path / "other-index", chroma_url=chroma_server.url)
    build_index(other, embedder=embedder)
    (tiny_corpus / "strategies" / "helseplan.md").write_text("# Helseplan\n\nBare én ny setning om ungdom.\n")
    build_index(settings, embedder=embedder)
    build_index(settings, embedder=embedder, rebuild=True)
    assert Retriever(open_index(other, embedder)).search("eldre som bor hjemme", k=1)[0].key == "helseplan/1"
    assert Retriever(open_index(settings, embedder)).search("ungdom", k=1)[0].key == "helseplan/innledning"


def test_unreachable_server_gives_clear_message(tiny_corpus: Path, tmp_path: Path, embedder: Embedder) -> None:
    with refused_port() as port:
        settings = make_settings(tiny_corpus, tmp_path / "index", chroma_url=f"http://127.0.0.1:{port}")
        with pytest.raises(IndexUnavailable, match="Får ikke kontakt med Chroma-serveren"):
            build_index(settings, embedder=embedder)
    assert not (tmp_path / "index" / "CURRENT").exists()


QUESTION = "Hvordan kan kommunen samskape med frivillige om eldre som bor hjemme?"


def app_on_server(server: ChromaServer, corpus: Path, tmp_path: Path, embedder: Embedder) -> Runtime:
    """The app's runtime over an index of the tiny corpus kept in the Chroma server."""
    settings = make_settings(corpus, tmp_path / "index", chroma_url=server.url)
    build_index(settings, embedder=embedder)
    return Runtime(settings, lambda s: Assistant(s, embedder=embedder))


def test_server_restart_mid_session_recovers_without_restarting_the_app(
    chroma_server: ChromaServer, tiny_corpus: Path, tmp_path: Path, embedder: Embedder
) -> None:
    runtime = app_on_server(chroma_server, tiny_corpus, tmp_path, embedder)
    assert "helseplan/1" in runtime.ask(QUESTION, "prosjektleder", []).retrieved

    chroma_server.stop()
    down = runtime.ask(QUESTION, "prosjektleder", [])
    assert down.refused and "Søket er midlertidig utilgjengelig" in down.text
    assert "Får ikke kontakt med Chroma-serveren" in down.text and not runtime.repairing  # no rebuild for a dead server

    chroma_server.start()  # same port, same data
    again = runtime.ask(QUESTION, "prosjektleder", [])
    assert not again.refused and "helseplan/1" in again.retrieved


def test_server_that_lost_the_collection_is_refilled_from_the_corpus(
    chroma_server: ChromaServer, tiny_corpus: Path, tmp_path: Path, embedder: Embedder
) -> None:
    runtime = app_on_server(chroma_server, tiny_corpus, tmp_path, embedder)
    name = runtime.assistant.index.manifest["chroma"]["collection"]
    chromadb.HttpClient(host="127.0.0.1", port=int(chroma_server.url.rsplit(":", 1)[1])).delete_collection(name)

    lost = runtime.ask(QUESTION, "prosjektleder", [])
    assert lost.refused and "har ikke lenger samlingen" in lost.text and "bygges nå på nytt" in lost.text
    assert runtime.wait_for_repair(120) and runtime.repair_error == ""
    assert "helseplan/1" in runtime.ask(QUESTION, "prosjektleder", []).retrieved
