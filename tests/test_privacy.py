"""Privacy and security at the app level.

Nothing a user types or uploads reaches the app's output or disk unless they opt in; the language-model
key never leaks; stored feedback and uploads can be deleted; the app listens on loopback only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings
from assistant.embed import Embedder
from assistant.feedback import FeedbackStore, feedback_path
from assistant.index import BuildReport, build_index, open_index
from assistant.retrieve import Retriever
from assistant.ui import UPLOAD_DIR, save_uploads

from .conftest import CORPUS, ROOT, STRATEGY_MD, make_settings

KEY = "sk-samskap-PRIVKEY-7f3a9c"
# Distinctive words in what users type: a name, a national identity number, a case detail.
ASK_NB = "Vi vil samskape med frivillige om tilbudet til eldre som bor hjemme, blant annet Kari Zebrafinkstad (fødselsnummer 01017012345). Hvilken metode passer?"
ASK_EN = "May the municipality share documents about the citizen Ola Quetzalbekk with volunteers in a co-creation project?"
ASK_DEAD = "Kan kommunen gi innsyn i dokumenter om Per Pangolinsen etter offentleglova?"
CHAT = "Må kommunen gi innsyn i saksdokumenter om barnevernssaken til Liv Okapiberg?"
CHAT_FOLLOW = "Hva med unntak for Okapiberg-familiens helseopplysninger?"
OPT_IN = "Kan vi dele referatet fra møtet med Tor Narhvalsen med frivillige?"
UPLOAD_TEXT = "# Kulturplan Tapirholmen\n\n## Fritidsklubb\n\nFritidsklubben Tapirholmen skal utvikles i samskaping med ungdomsrådet.\n"
QUESTION_MARKERS = ["Zebrafinkstad", "01017012345", "Quetzalbekk", "Pangolinsen", "Okapiberg"]
OPT_IN_MARKER = "Narhvalsen"
UPLOAD_MARKER = "Tapirholmen"


# --------------------------------------------------------------- a language model that rejects the key ----------


@dataclass
class LLMLog:
    requests: list[dict[str, Any]] = field(default_factory=list)


class _RejectingLLM(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that answers 401 and echoes the key it got (as some proxies do)."""

    log: LLMLog

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        auth = self.headers.get("Authorization", "")
        self.log.requests.append({"auth": auth, "body": body})
        payload = json.dumps({"error": {"message": f"Incorrect API key provided: {auth}", "type": "invalid_request_error"}})
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload.encode())


# --------------------------------------------------------------- the web page's side of the queue protocol ------


class PageSession:
    """One browser tab: triggers UI events (chat, feedback, about) with per-session state.

    The UI's events are api_visibility="private", which gradio_client refuses to call; this speaks the two
    HTTP calls the page itself makes (join the queue, read the event stream).
    """

    def __init__(self, url: str) -> None:
        import httpx

        self.url = url.rstrip("/")
        self.http = httpx.Client(timeout=120)
        self.session = uuid.uuid4().hex[:12]
        config = self.http.get(f"{self.url}/config").json()
        self.ids = {c["props"].get("elem_id"): c["id"] for c in config["components"] if c.get("props")}
        self.deps = config["dependencies"]

    def trigger(self, elem_id: str | None, event: str, data: list[Any]) -> list[Any]:
        """Run the handler of `event` on the element (None: the page itself) and return its final outputs."""
        target = self.ids[elem_id] if elem_id else None
        fn, trigger = next(
            (d["id"], t[0]) for d in self.deps for t in d["targets"]
            if t[1] == event and (target is None or t[0] == target)
        )
        joined = self.http.post(f"{self.url}/gradio_api/queue/join", json={
            "data": data, "event_data": None, "fn_index": fn, "trigger_id": trigger, "session_hash": self.session,
        })
        event_id = joined.json()["event_id"]
        with self.http.stream("GET", f"{self.url}/gradio_api/queue/data", params={"session_hash": self.session}) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") == event_id and message.get("msg") == "process_completed":
                    assert message["success"], message
                    return list(message["output"]["data"])
        raise AssertionError(f"no result for {elem_id} {event}")

    def close(self) -> None:
        self.http.close()


# --------------------------------------------------------------- the real app in a subprocess -------------------


@dataclass
class App:
    url: str
    proc: subprocess.Popen[bytes]
    out: Path
    err: Path
    base: Path
    index_dir: Path
    llm_log: LLMLog
    llm_server: ThreadingHTTPServer

    def logs(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace") + self.err.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """`python app.py` on a tiny corpus, with a language model configured that rejects the key."""
    base = tmp_path_factory.mktemp("privacy-app")
    corpus = base / "corpus"
    (corpus / "strategies").mkdir(parents=True)
    (corpus / "laws").mkdir()
    (corpus / "strategies" / "helseplan.md").write_text(STRATEGY_MD, encoding="utf-8")
    shutil.copy(CORPUS / "laws/lovdata-current/lov-2006-05-19-16.html", corpus / "laws")
    for name in ("gradio", "tmp"):
        (base / name).mkdir()

    log = LLMLog()
    llm = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_RejectingLLM,), {"log": log}))
    threading.Thread(target=llm.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMSKAP_")}
    env.update({
        "SAMSKAP_PORT": "0",  # the first free port from 7860, chosen by the app as it binds
        "SAMSKAP_CORPUS_DIR": str(corpus),
        "SAMSKAP_INDEX_DIR": str(base / "index"),
        "SAMSKAP_LLM_BASE_URL": f"http://127.0.0.1:{llm.server_address[1]}/v1",
        "SAMSKAP_LLM_MODEL": "test-model",
        "SAMSKAP_LLM_API_KEY": KEY,
        "SAMSKAP_LLM_TIMEOUT": "5",
        "GRADIO_TEMP_DIR": str(base / "gradio"),
        "TMPDIR": str(base / "tmp"),
        "PYTHONUNBUFFERED": "1",
    })
    out, err = base / "stdout.txt", base / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=base, env=env, stdout=stdout, stderr=stderr)
    running = App("", proc, out, err, base, base / "index", log, llm)
    try:
        deadline = time.monotonic() + 300  # builds the tiny index first
        while not (started := re.search(r"Running on local URL: +(http://127\.0\.0\.1:\d+)", running.logs())):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the app did not start:\n{running.logs()}")
            time.sleep(0.5)
        running.url = started.group(1) + "/"
        yield running
    finally:
        running.stop()
        llm.shutdown()
        llm.server_close()


def _files_containing(folder: Path, needle: str) -> list[str]:
    pattern = needle.encode()
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and pattern in p.read_bytes())


@pytest.mark.slow
def test_nothing_typed_or_uploaded_reaches_logs_or_disk_and_the_key_never_leaks(app: App, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    client = Client(app.url, verbose=False)
    page = PageSession(app.url)
    try:
        # Through the API: Norwegian and English, both roles; the model rejects the key (HTTP 401).
        answers = [client.predict(ASK_NB, "prosjektleder", "", api_name="/ask"),
                   client.predict(ASK_EN, "jurist", "", api_name="/ask")]
        for answer in answers:
            assert answer["citations"] and answer["engine"] == "offline"
            assert any("avviste API-nøkkelen (HTTP 401)" in n for n in answer["notices"]), answer["notices"]
        # What went to the model: the question and the numbered passages, with the key only in the header.
        sent = json.dumps(app.llm_log.requests[0]["body"], ensure_ascii=False)
        assert "Zebrafinkstad" in sent and "<<<KILDE 1>>>" in sent and KEY not in sent
        assert app.llm_log.requests[0]["auth"] == f"Bearer {KEY}"

        # Through the page: a chat question and a follow-up (the earlier turn goes to the model as history),
        # 👍 without the question, then a question stored on opt-in.
        page.trigger("send", "click", [CHAT, "jurist", "nb", None])
        page.trigger("send", "click", [CHAT_FOLLOW, "jurist", "nb", None])
        follow_up = json.dumps(app.llm_log.requests[-1]["body"], ensure_ascii=False)
        assert CHAT_FOLLOW in follow_up and "Liv Okapiberg" in follow_up
        status, _ = page.trigger("fb-up", "click", ["Nyttig svar", False, None, "nb"])
        assert "uten spørsmålet" in status
        page.trigger("new", "click", ["nb"])
        page.trigger("send", "click", [OPT_IN, "prosjektleder", "nb", None])
        status, _ = page.trigger("fb-down", "click", ["", True, None, "nb"])
        assert "sammen med spørsmålet" in status
        about = page.trigger(None, "load", ["nb"])[0]

        # An upload (through the undocumented /upload endpoint that reuses the page's handler).
        document = tmp_path / "kulturplan-tapirholmen.md"
        document.write_text(UPLOAD_TEXT, encoding="utf-8")
        report, about_after, *_ = client.predict([handle_file(str(document))], "nb", api_name="/upload")
        assert "Lagt til i indeksen" in report

        # The model endpoint goes away: the answer says so, still without the key.
        app.llm_server.shutdown()
        app.llm_server.server_close()
        dead = client.predict(ASK_DEAD, "jurist", "", api_name="/ask")
        assert any("Fikk ikke kontakt med språkmodellen" in n for n in dead["notices"]), dead["notices"]
        answers.append(dead)
    finally:
        page.close()
        client.close()
        app.stop()

    logs = app.logs()
    assert f"Running on local URL:  http://127.0.0.1:{app.url.split(':')[-1].strip('/')}" in logs
    assert "gradio.live" not in logs and "public URL" not in logs
    for text in [KEY, *QUESTION_MARKERS, OPT_IN_MARKER, UPLOAD_MARKER, *(a["text"][:60] for a in answers)]:
        assert text not in logs, f"{text!r} is in the app's output:\n{logs}"
    for shown in [*map(json.dumps, answers), about, about_after, report]:
        assert KEY not in shown
    assert "test-model" in about

    # Feedback: the question only where the user opted in; nothing else typed is in the file.
    db = feedback_path(make_settings(app.base / "corpus", app.index_dir))
    rows = FeedbackStore(db).all()
    assert [(r["rating"], r["question"], r["comment"]) for r in rows] == [("up", None, "Nyttig svar"), ("down", OPT_IN, "")]
    raw = db.read_bytes()
    assert all(m.encode() not in raw for m in QUESTION_MARKERS) and raw.count(OPT_IN_MARKER.encode()) == 1

    # No question reaches any file the app wrote: index, caches, Gradio's and Python's temp folders.
    for marker in [*QUESTION_MARKERS, KEY]:
        for folder in (app.base / "index", app.base / "gradio", app.base / "tmp", app.base / "corpus"):
            assert _files_containing(folder, marker) == [], (marker, folder)
    assert _files_containing(app.base / "index", OPT_IN_MARKER) == [db.name]


# --------------------------------------------------------------- delete-data ------------------------------------


def run_cli(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMSKAP_")}
    env.update({"SAMSKAP_CORPUS_DIR": str(settings.corpus_dir), "SAMSKAP_INDEX_DIR": str(settings.index_dir)})
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=settings.index_dir.parent, env=env,
                          input=stdin, capture_output=True, text=True)


def _hashes(corpus: Path) -> dict[str, str]:
    return {str(p.relative_to(corpus)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(corpus.rglob("*")) if p.is_file() and UPLOAD_DIR.as_posix() not in p.as_posix()}


def _store_feedback(settings: Settings) -> FeedbackStore:
    from assistant.answer import Answer

    answer = Answer(question=OPT_IN, role="prosjektleder")
    store = FeedbackStore(feedback_path(settings))
    store.record("up", answer, "bra", store_question=False)
    store.record("down", answer, "", store_question=True)
    assert OPT_IN_MARKER.encode() in feedback_path(settings).read_bytes()
    return store


@pytest.mark.slow
def test_delete_data_removes_feedback_and_uploads_from_disk_and_search(
    tiny_corpus: Path, tmp_path: Path, embedder: Embedder
) -> None:
    settings = make_settings(tiny_corpus, tmp_path / "index")
    document = tmp_path / "Kulturplan Tapirholmen.md"
    document.write_text(UPLOAD_TEXT, encoding="utf-8")
    build_index(settings, embedder=embedder)
    assert save_uploads(settings, [document]).saved
    build_index(settings, embedder=embedder)  # the upload's generation; the one before stays as fallback
    query = "Fritidsklubben Tapirholmen ungdomsrådet"
    hits = Retriever(open_index(settings, embedder)).search(query, k=5)
    upload_keys = {h.key for h in hits if h.chunk.source_path.startswith(UPLOAD_DIR.as_posix())}
    assert upload_keys == {"kulturplan-tapirholmen/fritidsklubb"}
    store = _store_feedback(settings)
    before = _hashes(tiny_corpus)

    result = run_cli(settings, "delete-data", "--yes")
    assert result.returncode == 0, result.stderr
    assert "Slettet 2 tilbakemeldinger." in result.stdout
    assert "Slettet 1 opplastet fil." in result.stdout
    assert "Indeksen er oppdatert" in result.stdout

    hits = Retriever(open_index(settings, embedder)).search(query, k=10)
    assert not upload_keys & {h.key for h in hits}
    assert not [p for p in (tiny_corpus / UPLOAD_DIR).rglob("*") if p.is_file()]
    assert _hashes(tiny_corpus) == before  # the rest of the corpus is byte-identical
    assert store.count() == 0
    # Gone from disk, not just hidden: no fallback generation, no free SQLite pages keep the text.
    assert _files_containing(settings.index_dir, UPLOAD_MARKER) == []
    assert _files_containing(settings.index_dir, OPT_IN_MARKER) == []

    again = run_cli(settings, "delete-data", "--yes")
    assert again.returncode == 0 and "Ingenting er slettet" in again.stdout


@pytest.mark.slow
def test_delete_data_asks_first_and_deletes_only_what_was_chosen(tiny_corpus: Path, tmp_path: Path) -> None:
    settings = make_settings(tiny_corpus, tmp_path / "index")
    store = FeedbackStore(feedback_path(settings))
    store.record("up", None, "bra")
    upload = tiny_corpus / UPLOAD_DIR / "plan.md"
    upload.parent.mkdir(parents=True)
    upload.write_text(UPLOAD_TEXT, encoding="utf-8")

    refused = run_cli(settings, "delete-data", "--feedback", stdin="n\n")
    assert refused.returncode == 1
    assert "1 tilbakemelding i" in refused.stdout and "Avbrutt. Ingenting er slettet." in refused.stdout
    assert store.count() == 1

    no_answer = run_cli(settings, "delete-data")  # no terminal to answer on: nothing is deleted
    assert no_answer.returncode == 1 and "plan.md" in no_answer.stdout and store.count() == 1

    confirmed = run_cli(settings, "delete-data", "--feedback", stdin="j\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert "Slettet 1 tilbakemelding." in confirmed.stdout
    assert store.count() == 0 and upload.exists()


def test_feedback_delete_all_leaves_no_text_in_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from assistant import feedback
    from assistant.answer import Answer

    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = real_connect(*args, **kwargs)
        conn.execute("PRAGMA secure_delete = OFF")  # the default of most SQLite builds (Debian's has it on)
        return conn

    monkeypatch.setattr(feedback.sqlite3, "connect", connect)
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    for n in range(50):
        store.record("up", Answer(question=f"{OPT_IN} nr {n}"), f"kommentar {OPT_IN_MARKER}", store_question=True)
    assert store.count() == 50
    assert store.delete_all() == 50
    assert OPT_IN_MARKER.encode() not in (tmp_path / "feedback.sqlite").read_bytes()
    assert store.count() == 0 and store.all() == []


# --------------------------------------------------------------- defaults ---------------------------------------


def test_app_listens_on_loopback_and_never_shares(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from assistant.ui import app as ui

    for name in ("SAMSKAP_HOST", "SAMSKAP_PORT", "SAMSKAP_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (defaults.host, defaults.port, defaults.concurrency) == ("127.0.0.1", 7860, 4)
    assert defaults.llm_api_key.get_secret_value() == "" and "**" in repr(Settings(llm_api_key=KEY))  # type: ignore[arg-type]

    calls: dict[str, dict[str, Any]] = {}

    class FakeBlocks:
        def queue(self, **kwargs: Any) -> None:
            calls["queue"] = kwargs

        def launch(self, **kwargs: Any) -> None:
            calls["launch"] = kwargs

    monkeypatch.setattr(ui.Runtime, "update_index", lambda self, progress: BuildReport("g", False, [], {}, 0, 0.0))
    monkeypatch.setattr(ui, "create_app", lambda settings, runtime: FakeBlocks())
    ui.launch(make_settings(tmp_path, tmp_path, concurrency=3))
    assert calls["launch"]["server_name"] == "127.0.0.1" and calls["launch"]["share"] is False
    assert calls["queue"]["default_concurrency_limit"] == 3


@pytest.mark.parametrize("allow", [False, True])
def test_offline_defaults_follow_the_download_setting(allow: bool) -> None:
    """The app, the CLI and the index set the same private defaults; downloads only when allowed."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "ANONYMIZED_TELEMETRY", "GRADIO_ANALYTICS_ENABLED", "GRADIO_RUN_HISTORY")}
    env["SAMSKAP_ALLOW_MODEL_DOWNLOADS"] = str(allow).lower()
    code = (
        "import os, json\n"
        "from assistant.config import load_settings, set_offline_defaults\n"
        "set_offline_defaults(load_settings().allow_model_downloads)\n"
        "print(json.dumps({k: os.environ.get(k) for k in ('HF_HUB_OFFLINE', 'ANONYMIZED_TELEMETRY', "
        "'GRADIO_ANALYTICS_ENABLED', 'GRADIO_RUN_HISTORY')}))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    seen = json.loads(out.stdout)
    assert seen["ANONYMIZED_TELEMETRY"] == seen["GRADIO_ANALYTICS_ENABLED"] == seen["GRADIO_RUN_HISTORY"] == "False"
    assert seen["HF_HUB_OFFLINE"] == (None if allow else "1")
