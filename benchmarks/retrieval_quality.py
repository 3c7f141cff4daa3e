"""Retrieval quality on the evaluation questions: recall@k and MRR, overall and per category.

    python benchmarks/retrieval_quality.py [--k 5] [--misses] [--ablate] [--json benchmarks/results/retrieval.json]

Uses the index in SAMSKAP_INDEX_DIR (built first if missing) and every question in evals/questions.yaml
that has `expect.sources`; a follow-up is searched with its own text alone (no history). A question
counts as found when an expected key matches one of the first k keys (CONTRACTS.md §1 matching rule).

Systems:
  baseline   the search before this benchmark existed: dense + BM25 without decompounding, plain
             reciprocal rank fusion, no query analysis (retrieve.BASELINE on a plain BM25 index)
  dense      the dense leg alone (Chroma, the index's embedder), one hit per cite key
  bm25       BM25 alone with plain tokens over the current (decompounded) index
  improved   Retriever with its default tuning
--ablate adds the improved search with one feature switched off at a time ("- feature").
"""

from __future__ import annotations

import argparse
import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from assistant.config import load_settings
from assistant.embed import Embedder, Kind, create_embedder
from assistant.index import Index, build_index, current_generation_dir, open_index
from assistant.retrieve import BASELINE, Retriever, Tuning
from assistant.textproc import BM25Index

Search = Callable[[str], list[str]]  # question -> cite keys, best first


def matches(found: str, expected: str) -> bool:
    """CONTRACTS.md §1: K == E or K starts with E + '.'."""
    return found == expected or found.startswith(expected + ".")


def first_rank(keys: list[str], expected: list[str], k: int) -> int | None:
    return next((i for i, key in enumerate(keys[:k], 1) if any(matches(key, e) for e in expected)), None)


def unique(keys: list[str]) -> list[str]:
    return list(dict.fromkeys(keys))


def evaluate(search: Search, questions: list[dict[str, Any]], k: int) -> dict[str, Any]:
    """Recall@k and MRR overall and per category, and the misses."""
    ranks: dict[str, list[int | None]] = {}
    misses = []
    for item in questions:
        keys = search(item["question"])
        rank = first_rank(keys, item["expect"]["sources"], k)
        ranks.setdefault(item.get("category", "other"), []).append(rank)
        if rank is None:
            misses.append({"id": item["id"], "expected": item["expect"]["sources"], "got": keys[:k]})

    def summary(values: list[int | None]) -> dict[str, float]:
        return {
            "n": len(values),
            "recall": round(sum(r is not None for r in values) / len(values), 3),
            "mrr": round(sum(1 / r for r in values if r) / len(values), 3),
        }

    every = [r for values in ranks.values() for r in values]
    return {
        "all": summary(every),
        "categories": {c: summary(v) for c, v in sorted(ranks.items())},
        "misses": misses,
    }


class MemoEmbedder(Embedder):
    """Embeds each distinct text once: every system searches the same questions."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.backend, self.model = inner, inner.backend, inner.model
        self._memo: dict[tuple[str, str], np.ndarray] = {}

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if (kind, t) not in self._memo]
        if missing:
            for text, vector in zip(missing, self.inner.embed(missing, kind), strict=True):
                self._memo[(kind, text)] = vector
        return np.vstack([self._memo[(kind, t)] for t in texts])


def plain_index(index: Index) -> Index:
    """The same index with BM25 rebuilt as before: chunk text only, no decompounding (in memory)."""
    clone = copy.copy(index)
    clone.bm25 = BM25Index.build([c.text for c in index.chunks], decompound=False)
    return clone


def systems(index: Index, ablate: bool) -> dict[str, Search]:
    candidates = Tuning().candidates

    def dense(question: str) -> list[str]:
        return unique([index.chunks[p].cite_key for p, _ in index.dense(question, candidates)])

    def bm25(question: str) -> list[str]:
        return unique([index.chunks[p].cite_key for p, _ in index.bm25.top(question, candidates)])

    def searcher(retriever: Retriever) -> Search:
        return lambda question: [h.key for h in retriever.search(question, k=10)]

    out: dict[str, Search] = {
        "baseline": searcher(Retriever(plain_index(index), BASELINE)),
        "dense": dense,
        "bm25": bm25,
        "improved": searcher(Retriever(index)),
    }
    if ablate:
        best = Tuning()

        def without(name: str) -> tuple[str, ...]:
            return tuple(e for e in best.expansions if e != name)

        variants = {
            "- compound parts (query)": replace(best, expansions=without("compounds")),
            "- nynorsk/bokmål pairs": replace(best, expansions=without("nynorsk")),
            "- English glossary": replace(best, expansions=without("english")),
            "- lay-to-legal terms": replace(best, expansions=without("lay_legal")),
            "- heading leg": replace(best, heading_weight=0.0),
            "- fit facet": replace(best, facet_weight=0.0),
            "- law bonus": replace(best, law_bonus=0.0),
            "- not-in-force factor": replace(best, not_in_force=1.0),
            "- named-law restriction": replace(best, named_law_only=False),
            "- direct lookup": replace(best, direct_lookup=False),
            "- heading-only skip": replace(best, skip_headings=False),
            "rrf_k=60": replace(best, rrf_k=60),
        }
        for name, tuning in variants.items():
            out[name] = searcher(Retriever(index, tuning))
        out["- title+decompounding in index"] = searcher(Retriever(plain_index(index), best))
    return out


def table(results: dict[str, dict[str, Any]]) -> str:
    categories = sorted({c for r in results.values() for c in r["categories"]})
    head = f"{'system':<32}{'recall':>8}{'MRR':>7}" + "".join(f"{c:>16}" for c in categories)
    lines = [head, "-" * len(head)]
    for name, r in results.items():
        cells = "".join(
            f"{r['categories'][c]['recall']:>9.3f}/{r['categories'][c]['mrr']:.3f}" if c in r["categories"] else " " * 16
            for c in categories
        )
        lines.append(f"{name:<32}{r['all']['recall']:>8.3f}{r['all']['mrr']:>7.3f}{cells}")
    counts = ", ".join(f"{c} {n}" for c, n in next(iter(results.values()))["counts"].items())
    lines.append(f"(per category: recall/MRR; questions: {counts})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", default="evals/questions.yaml")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--misses", action="store_true", help="list the questions the improved search misses")
    parser.add_argument("--ablate", action="store_true", help="also run the improved search minus one feature")
    parser.add_argument("--json", default="", help="write the full results here")
    args = parser.parse_args()

    settings = load_settings()
    if current_generation_dir(settings) is None:
        build_index(settings)
    manifest_index = open_index(settings)
    embedder = MemoEmbedder(create_embedder(manifest_index.manifest["embedder"]["spec"]))
    index = open_index(settings, embedder)
    items = yaml.safe_load(Path(args.questions).read_text())
    questions = [q for q in items if (q.get("expect") or {}).get("sources")]

    results: dict[str, dict[str, Any]] = {}
    for name, search in systems(index, args.ablate).items():
        results[name] = evaluate(search, questions, args.k)
        results[name]["counts"] = {c: v["n"] for c, v in results[name]["categories"].items()}
    print(f"recall@{args.k} and MRR over {len(questions)} questions with sources\n")
    print(table(results))
    if args.misses:
        print("\nmissed by the improved search:")
        for miss in results["improved"]["misses"]:
            print(f"  {miss['id']}: expected {miss['expected']}, got {miss['got']}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"k": args.k, "n": len(questions), "systems": results}, indent=1))


if __name__ == "__main__":
    main()
