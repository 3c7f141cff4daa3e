"""Retrieval and whole-answer latency over the question set, cold and warm.

    python benchmarks/latency_bench.py [--json benchmarks/results/latency.json]

Uses the index in SAMSKAP_INDEX_DIR (built first if missing) and the offline composer (no LLM).
Each mode runs in a fresh Python process, so "cold" is what the first user after a restart gets:
`startup` is importing the package and opening the index, `first` the first question (it loads the
embedder), `cold` the first pass over all questions and `warm` a second pass in the same process.
Answers are also given as a ratio to retrieval measured the same way (what advice and composition
add on top of the search).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from common import eval_questions, rss_mb, summary_ms


def run_mode(mode: str) -> dict[str, object]:
    """Run inside a fresh process: open the index, then two passes over the questions."""
    started = time.perf_counter()
    from assistant.config import load_settings
    from assistant.index import open_index
    from assistant.retrieve import Retriever
    from assistant.service import Assistant

    settings = load_settings()
    index = open_index(settings)
    if mode == "answer":
        assistant = Assistant(settings, index=index)
        questions = [(str(q["question"]), q.get("role", "prosjektleder")) for q in eval_questions()]

        def one(item: tuple[str, object]) -> object:
            return assistant.ask(item[0], role=item[1])  # type: ignore[arg-type]
    else:
        retriever = Retriever(index)
        questions = [(str(q["question"]), None) for q in eval_questions()]

        def one(item: tuple[str, object]) -> object:
            return retriever.search(item[0], k=12)  # the depth the assistant asks for

    startup_ms = (time.perf_counter() - started) * 1000
    passes = []
    for _ in range(2):
        times = []
        for item in questions:
            t0 = time.perf_counter()
            one(item)
            times.append((time.perf_counter() - t0) * 1000)
        passes.append(times)
    return {
        "questions": len(questions),
        "startup_ms": round(startup_ms, 1),
        "first_ms": round(passes[0][0], 1),
        "cold_ms": summary_ms(passes[0]),
        "warm_ms": summary_ms(passes[1]),
        **rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", default="benchmarks/results/latency.json")
    parser.add_argument("--mode", choices=["retrieval", "answer"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(run_mode(args.mode)))
        return

    from assistant.config import load_settings
    from assistant.index import build_index, current_generation_dir

    settings = load_settings()
    if current_generation_dir(settings) is None:
        build_index(settings)
    result: dict[str, object] = {}
    for mode in ("retrieval", "answer"):
        out = subprocess.run(
            [sys.executable, __file__, "--mode", mode], check=True, capture_output=True, text=True
        ).stdout
        result[mode] = json.loads(out.strip().splitlines()[-1])
    retrieval, answer = result["retrieval"], result["answer"]
    assert isinstance(retrieval, dict) and isinstance(answer, dict)
    result["answer_vs_retrieval_p50_ratio"] = {
        phase: round(answer[phase]["p50"] / retrieval[phase]["p50"], 2) for phase in ("cold_ms", "warm_ms")
    }
    result["cold_vs_warm_p50_ratio"] = {
        mode: round(result[mode]["cold_ms"]["p50"] / result[mode]["warm_ms"]["p50"], 2)  # type: ignore[index]
        for mode in ("retrieval", "answer")
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
