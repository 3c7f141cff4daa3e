"""Search latency on the shipped corpus: hybrid vs its parts, p50/p95 over 200 queries.

    python benchmarks/search_bench.py [--queries 200] [--json benchmarks/results/search.json]

Uses the index in SAMSKAP_INDEX_DIR (built first if missing). Queries: the evaluation questions
(evals/questions.yaml) topped up with section and paragraph titles from the index. Each query runs
once cold-ish (first pass) and is then measured warm; figures are per query in milliseconds, and
the hybrid cost is given as a ratio to the dense leg alone measured in the same process.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import eval_questions, timed

from assistant.config import load_settings
from assistant.index import build_index, current_generation_dir, open_index
from assistant.retrieve import CANDIDATES, Retriever


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", default="benchmarks/results/search.json")
    args = parser.parse_args()

    settings = load_settings()
    if current_generation_dir(settings) is None:
        build_index(settings)
    index = open_index(settings)
    retriever = Retriever(index)
    queries = [str(q["question"]) for q in eval_questions()]
    titles = list(dict.fromkeys(c.title for c in index.chunks))
    queries = (queries + titles[:: max(1, len(titles) // args.queries)])[: args.queries]

    cold = timed(lambda q: retriever.search(q, k=10), queries[:20])
    dense = timed(lambda q: index.dense(q, CANDIDATES), queries)
    bm25 = timed(lambda q: index.keyword(q, CANDIDATES), queries)
    hybrid = timed(lambda q: retriever.search(q, k=10), queries)
    result = {
        "queries": len(queries),
        "chunks": len(index.chunks),
        "first_20_queries_ms": cold,
        "dense_only_ms": dense,
        "bm25_only_ms": bm25,
        "hybrid_ms": hybrid,
        "hybrid_vs_dense_p50_ratio": round(hybrid["p50"] / dense["p50"], 2),
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
