"""The persistent index: Chroma vectors + BM25 + chunks + manifest, in atomic generations.

Layout under the index dir:
    CURRENT                    name of the generation readers use (replaced atomically)
    PREVIOUS                   name of the generation before it, kept as a fallback
    INSTANCE                   random id that names this index's collections on a Chroma server
    generations/<gen>/         manifest.json, chunks.jsonl, bm25/, chroma/ (embedded mode)
    cache/embeddings.sqlite    passage vectors by embedder id and text hash
    .lock                      held while a build runs

A build writes a new generation next to the old one and switches CURRENT only when it is
complete, so a build killed at any point leaves the previous index usable.

Modules: `storage` (the files above, the lock and the Chroma client), `read` (`Index`, one
generation opened for search) and `build` (`build_index`, writing a new generation).
"""

from .build import BuildReport, Progress, build_index, fill_vectors
from .read import Index, missing_vectors, open_index
from .storage import (
    HNSW_CONFIG,
    INDEX_FORMAT,
    IndexUnavailable,
    build_lock,
    current_generation_dir,
    drop_previous_generation,
    embedding_cache,
)

__all__ = [
    "HNSW_CONFIG",
    "INDEX_FORMAT",
    "BuildReport",
    "Index",
    "IndexUnavailable",
    "Progress",
    "build_index",
    "build_lock",
    "current_generation_dir",
    "drop_previous_generation",
    "embedding_cache",
    "fill_vectors",
    "missing_vectors",
    "open_index",
]
