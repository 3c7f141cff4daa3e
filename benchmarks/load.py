"""Many users at once against the real app: errors, latency, throughput and the server's memory.

    python benchmarks/load.py [--users 20] [--questions 10] [--concurrency 4] [--uploads 2] [--rounds 1]
                              [--corpus corpus] [--index index] [--json benchmarks/results/load.json]

Starts `python app.py` as a subprocess on a free loopback port, on a temporary copy of the corpus and
the index (uploads re-index, and the repository's corpus must never change). Every simulated user is
its own gradio_client.Client and sends its questions one after the other; all users start together.
Questions come from evals/questions.yaml with their role and language (Norwegian and English, project
leader and lawyer). Some users ask a follow-up pair through the chat, as the web page does, because
only the chat keeps a conversation (/ask answers one question); a few users upload a small document
through /upload, which re-indexes (first round only). The server's resident memory is sampled every
0.5 s; with --rounds N the same load runs N times on one server, to see whether memory settles.

SAMSKAP_CONCURRENCY (here --concurrency) is Gradio's default_concurrency_limit: the number of questions
answered at the same time; the rest wait in the queue (at most 64). Uploads are limited to one at a time.
Other SAMSKAP_* variables in the environment (for example a language model) are passed on.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from common import ROOT, eval_questions, free_port, percentile
from common import rss_mb as memory_mb

UPLOAD_TEXT = """# Kulturplan for {place}

## Fritidsklubben

Fritidsklubben i {place} skal utvikles i samskaping med ungdomsrådet, frivillige lag og kulturskolen.
Ungdomsrådet får et eget budsjett til forsøk, og kommunen evaluerer tiltaket etter ett år.
"""


@dataclass
class Op:
    kind: str  # ask | chat | upload
    question: str = ""
    role: str = "prosjektleder"
    lang: str = ""
    first: str = ""  # chat: the question this one follows up


@dataclass
class Result:
    user: int
    kind: str
    ok: bool
    ms: float
    error: str = ""
    first_ms: float = 0.0  # chat: until the first piece of the answer is shown


@dataclass
class Memory:
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, RSS MB)


def rss_of(pid: int) -> float:
    return memory_mb(pid)["rss_mb"]


def sample_memory(pid: int, memory: Memory, stop: threading.Event, every: float = 0.5) -> None:
    start = time.monotonic()
    while not stop.is_set():
        try:
            memory.samples.append((round(time.monotonic() - start, 2), rss_of(pid)))
        except (OSError, ValueError):
            return
        stop.wait(every)


class ChatSession:
    """One browser tab: sends chat messages the way the page does, so the server keeps the conversation.

    The chat events are private to the page (gradio_client refuses them); this makes the same two HTTP
    calls the page makes: join the queue, then read the session's event stream until the answer is done.
    """

    def __init__(self, url: str) -> None:
        import httpx

        self.url = url.rstrip("/")
        self.http = httpx.Client(timeout=600)
        self.session = uuid.uuid4().hex[:12]
        config = self.http.get(f"{self.url}/config").json()
        send = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "send")
        self.fn = next(d["id"] for d in config["dependencies"] if [send, "click"] in d["targets"])
        self.trigger = send

    def send(self, question: str, role: str, lang: str) -> tuple[list[dict[str, Any]], float]:
        """The chat messages after the answer to `question`, and the seconds until its first piece arrived."""
        started = time.perf_counter()
        first = 0.0
        updates = 0
        joined = self.http.post(f"{self.url}/gradio_api/queue/join", json={
            "data": [question, role, lang or "nb", None], "event_data": None, "fn_index": self.fn,
            "trigger_id": self.trigger, "session_hash": self.session,
        })
        joined.raise_for_status()
        event_id = joined.json()["event_id"]
        with self.http.stream("GET", f"{self.url}/gradio_api/queue/data", params={"session_hash": self.session}) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") != event_id:
                    continue
                if message.get("msg") == "process_generating":
                    updates += 1  # the first update shows the question, the second the answer's first piece
                    if updates == 2:
                        first = time.perf_counter() - started
                if message.get("msg") != "process_completed":
                    continue
                if not message.get("success"):
                    raise RuntimeError(str(message.get("output", {}).get("error") or message)[:200])
                return list(message["output"]["data"][0]), first or time.perf_counter() - started
        raise RuntimeError("the event stream ended without an answer")

    def close(self) -> None:
        self.http.close()


def plan(users: int, per_user: int, uploads: int, seed: int = 7) -> list[list[Op]]:
    """Each user's requests: questions from the eval set, a follow-up pair for every fourth user, a few uploads."""
    items = eval_questions()
    by_id = {str(q["id"]): q for q in items}
    singles = [q for q in items if q.get("category") != "followup"]
    pairs = [(by_id[str(q["follow_up_of"])], q) for q in items if q.get("follow_up_of") in by_id]
    random.Random(seed).shuffle(singles)
    uploaders = {(1 + round(i * users / uploads)) % users for i in range(uploads)} if uploads else set()
    plans: list[list[Op]] = []
    n = 0
    for user in range(users):
        ops: list[Op] = []
        if user % 4 == 0 and pairs and per_user >= 2:
            first, second = pairs[(user // 4) % len(pairs)]
            ops.append(Op("chat", str(first["question"]), str(first.get("role", "prosjektleder")), str(first.get("lang", ""))))
            ops.append(Op("chat", str(second["question"]), str(second.get("role", "prosjektleder")),
                          str(second.get("lang", "")), first=str(first["question"])))
        while len(ops) < per_user:
            q = singles[n % len(singles)]
            n += 1
            ops.append(Op("ask", str(q["question"]), str(q.get("role", "prosjektleder")), str(q.get("lang", ""))))
        if user in uploaders:  # half-way through, never inside a follow-up pair
            at = max(len(ops) // 2, 2 if ops[0].kind == "chat" else 0)
            ops[min(at, len(ops) - 1)] = Op("upload", question=f"Løvstad{user}")
        plans.append(ops[:per_user])
    return plans


def run_user(url: str, user: int, ops: list[Op], workdir: Path, start: threading.Barrier) -> list[Result]:
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)
    chat: ChatSession | None = None
    results: list[Result] = []
    start.wait()
    for op in ops:
        t0 = time.perf_counter()
        first = 0.0
        try:
            if op.kind == "ask":
                answer = client.predict(op.question, op.role, op.lang, api_name="/ask")
                ok, error = bool(answer.get("text")), "" if answer.get("text") else "empty answer"
            elif op.kind == "chat":
                chat = chat or ChatSession(url)
                messages, first = chat.send(op.question, op.role, op.lang)
                ok = len(messages) >= 2 and messages[-1]["role"] == "assistant" and bool(messages[-1]["content"])
                error = "" if ok else "no answer in the chat"
            else:
                document = workdir / f"kulturplan-{op.question.lower()}.md"
                document.write_text(UPLOAD_TEXT.format(place=op.question), encoding="utf-8")
                status = client.predict([handle_file(str(document))], "nb", api_name="/upload")[0]
                ok, error = "Lagt til i indeksen" in status, "" if "Lagt til i indeksen" in status else status[:200]
        except Exception as exc:  # a failed request is a result, not the end of the run
            ok, error = False, f"{type(exc).__name__}: {exc}"[:300]
        results.append(Result(user, op.kind, ok, round((time.perf_counter() - t0) * 1000, 1), error, round(first * 1000, 1)))
    if chat is not None:
        chat.close()
    client.close()
    return results


def start_app(corpus: Path, index: Path, work: Path, concurrency: int) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    env = {**os.environ, "SAMSKAP_CORPUS_DIR": str(corpus), "SAMSKAP_INDEX_DIR": str(index),
           "SAMSKAP_HOST": "127.0.0.1", "SAMSKAP_PORT": str(port), "SAMSKAP_CONCURRENCY": str(concurrency),
           "SAMSKAP_FEEDBACK_DB": str(work / "feedback.sqlite"), "GRADIO_TEMP_DIR": str(work / "gradio"),
           "PYTHONUNBUFFERED": "1"}
    log = work / "server.log"
    with log.open("wb") as handle:
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=handle,
                                stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 600
    while "Running on local URL" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"The app did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.3)
    return proc, f"http://127.0.0.1:{port}/", log


def stop_app(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50_ms": round(percentile(values, 0.5), 1), "p95_ms": round(percentile(values, 0.95), 1),
            "max_ms": round(max(values), 1)}


def load_round(url: str, plans: list[list[Op]], docs: Path) -> tuple[list[Result], float]:
    """All users at once, each sending its requests in turn; returns the results and the wall time."""
    barrier = threading.Barrier(len(plans) + 1)
    results: list[Result] = []
    lock = threading.Lock()

    def user(n: int) -> None:
        done = run_user(url, n, plans[n], docs, barrier)
        with lock:
            results.extend(done)

    threads = [threading.Thread(target=user, args=(n,)) for n in range(len(plans))]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


def summarise(results: list[Result], wall: float) -> dict[str, Any]:
    answers = [r for r in results if r.kind != "upload"]
    return {
        "requests": len(results),
        "errors": sum(not r.ok for r in results),
        "wall_s": round(wall, 2),
        "answers_per_s": round(sum(r.ok for r in answers) / wall, 2),
        "latency": {
            "all_answers": stats([r.ms for r in answers if r.ok]),
            "ask": stats([r.ms for r in results if r.kind == "ask" and r.ok]),
            "chat": stats([r.ms for r in results if r.kind == "chat" and r.ok]),
            "chat_first_piece": stats([r.first_ms for r in results if r.kind == "chat" and r.ok]),
            "upload": stats([r.ms for r in results if r.kind == "upload" and r.ok]),
        },
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    concurrency = args.concurrency or int(os.environ.get("SAMSKAP_CONCURRENCY", "4"))
    uploads = min(args.uploads, args.users)
    # Uploads only in the first round: later rounds show whether memory settles under steady load.
    plans = [plan(args.users, args.questions, uploads if r == 0 else 0, seed=7 + r) for r in range(args.rounds)]
    with tempfile.TemporaryDirectory(prefix="samskap-load-") as tmp:
        work = Path(tmp)
        corpus, index = work / "corpus", work / "index"
        shutil.copytree(args.corpus, corpus)
        shutil.copytree(args.index, index, ignore=shutil.ignore_patterns(".lock"))
        (work / "docs").mkdir()
        proc, url, log = start_app(corpus, index, work, concurrency)
        memory, stop = Memory(), threading.Event()
        sampler = threading.Thread(target=sample_memory, args=(proc.pid, memory, stop), daemon=True)
        try:
            ready_mb = rss_of(proc.pid)
            sampler.start()
            from gradio_client import Client

            t0 = time.perf_counter()  # the first question opens the index and loads the embedder
            warm = Client(url, verbose=False)
            warm.predict("Hva er en living lab?", "prosjektleder", "", api_name="/ask")
            warm.close()
            cold_ms = (time.perf_counter() - t0) * 1000
            start_mb = rss_of(proc.pid)
            load_from = len(memory.samples)
            results: list[Result] = []
            rounds = []
            total_wall = 0.0
            for number, round_plans in enumerate(plans, start=1):
                done, wall = load_round(url, round_plans, work / "docs")
                results += done
                total_wall += wall
                time.sleep(2)  # idle: does memory come back down?
                rounds.append({"round": number, **summarise(done, wall), "rss_end_mb": rss_of(proc.pid)})
            load_samples = [mb for _, mb in memory.samples[load_from:]]
            end_mb = rss_of(proc.pid)
            hwm_mb = memory_mb(proc.pid)["peak_rss_mb"]
        finally:
            stop.set()
            stop_app(proc)
        server_log = log.read_text(errors="replace")

    every = [op for round_plans in plans for ops in round_plans for op in ops]
    errors = [r for r in results if not r.ok]
    return {
        "users": args.users,
        "questions_per_user": args.questions,
        "rounds": args.rounds,
        "concurrency": concurrency,
        "uploads": sum(r.kind == "upload" for r in results),
        "mix": {
            "chat_follow_ups": sum(op.first != "" for op in every),
            "roles": {role: sum(op.role == role for op in every if op.kind != "upload") for role in ("prosjektleder", "jurist")},
            "english": sum(op.lang == "en" for op in every),
        },
        "llm": bool(os.environ.get("SAMSKAP_LLM_BASE_URL")),
        **summarise(results, total_wall),
        "error_examples": [asdict(e) for e in errors[:5]],
        "per_round": rounds,
        "cold_first_answer_ms": round(cold_ms, 1),
        "rss_mb": {
            "ready": ready_mb,
            "start": start_mb,
            "peak": max(load_samples, default=start_mb),
            "end": end_mb,
            "kernel_peak": hwm_mb,
            "samples": memory.samples,
        },
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "server_tracebacks": server_log.count("Traceback"),
    }


def markdown(result: dict[str, Any]) -> str:
    lat, mem = result["latency"], result["rss_mb"]

    def cell(kind: str) -> str:
        s = lat[kind]
        return f"{s['p50_ms']:.0f} / {s['p95_ms']:.0f}" if s.get("n") else "–"

    rows = [
        ("users × requests × rounds", f"{result['users']} × {result['questions_per_user']} × {result['rounds']} = "
                                      f"{result['requests']} ({result['uploads']} uploads)"),
        ("SAMSKAP_CONCURRENCY", str(result["concurrency"])),
        ("errors", str(result["errors"])),
        ("latency p50 / p95, all answers (ms)", cell("all_answers")),
        ("… /ask (ms)", cell("ask")),
        ("… chat (follow-up pairs), whole answer (ms)", cell("chat")),
        ("… chat, until the first piece is shown (ms)", cell("chat_first_piece")),
        ("… upload + re-index (ms)", cell("upload")),
        ("throughput (answers/s)", f"{result['answers_per_s']:.2f} over {result['wall_s']:.1f} s"),
        ("first answer after start, cold (ms)", f"{result['cold_first_answer_ms']:.0f}"),
        ("server RSS ready → start → peak → end (MB)",
         f"{mem['ready']:.0f} → {mem['start']:.0f} → {mem['peak']:.0f} → {mem['end']:.0f}"),
        ("server RSS at the end of each round (MB)", " → ".join(f"{r['rss_end_mb']:.0f}" for r in result["per_round"])),
        ("machine load average at end / CPUs", f"{result['load_average_at_end'][0]} / {result['cpus']}"),
    ]
    return "\n".join(["| what | value |", "|---|---|", *(f"| {a} | {b} |" for a, b in rows)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--questions", type=int, default=10, help="requests per user")
    parser.add_argument("--concurrency", type=int, default=0, help="SAMSKAP_CONCURRENCY for the server")
    parser.add_argument("--uploads", type=int, default=2, help="requests that upload a document (re-index)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the load on the same server (memory over time)")
    parser.add_argument("--corpus", type=Path, default=Path(os.environ.get("SAMSKAP_CORPUS_DIR", ROOT / "corpus")))
    parser.add_argument("--index", type=Path, default=Path(os.environ.get("SAMSKAP_INDEX_DIR", ROOT / "index")))
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/load.json")
    args = parser.parse_args(argv)
    if not (args.index / "CURRENT").exists():
        raise SystemExit(f"No index in {args.index}: run `python -m assistant ingest` first.")
    result = run(args)
    print(markdown(result))
    for example in result["error_examples"]:
        print(f"error: user {example['user']} {example['kind']}: {example['error']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    runs: dict[str, Any] = json.loads(args.json.read_text()) if args.json.exists() else {}
    label = f"u{args.users}-q{args.questions}-r{args.rounds}-c{result['concurrency']}"
    runs[label] = result
    args.json.write_text(json.dumps(runs, ensure_ascii=False, indent=1) + "\n")
    print(f"\nWrote {args.json} ({label}).")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
