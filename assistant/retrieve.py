"""Hybrid retrieval: dense (Chroma) + BM25, fused by reciprocal rank, one hit per cite key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .index import Index
from .ingest.base import Chunk

RRF_K = 60
CANDIDATES = 50


@dataclass
class Hit:
    """One retrieved passage (the best-scoring part of its cite key)."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    keyword_rank: int | None = None

    @property
    def key(self) -> str:
        return self.chunk.cite_key

    def to_json(self, snippet_chars: int | None = None) -> dict[str, Any]:
        text = self.chunk.text if snippet_chars is None else snippet(self.chunk.text, snippet_chars)
        return {"key": self.key, "title": self.chunk.title, "score": round(self.score, 6), "text": text}


def snippet(text: str, chars: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= chars else flat[: chars - 1].rsplit(" ", 1)[0] + " …"


class Retriever:
    """Searches one index generation."""

    def __init__(self, index: Index) -> None:
        self.index = index

    def _filters(
        self, source_types: Sequence[str] | None, law_ids: Sequence[str] | None
    ) -> tuple[dict[str, Any] | None, np.ndarray | None]:
        clauses: list[dict[str, Any]] = []
        mask = np.ones(len(self.index.chunks), dtype=bool)
        if source_types:
            clauses.append({"source_type": {"$in": list(source_types)}})
            mask &= np.array([c.source_type in source_types for c in self.index.chunks])
        if law_ids:
            clauses.append({"law_id": {"$in": list(law_ids)}})
            mask &= np.array([c.law_id in law_ids for c in self.index.chunks])
        if not clauses:
            return None, None
        where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        return where, mask

    def search(
        self,
        query: str,
        k: int = 10,
        source_types: Sequence[str] | None = None,
        law_ids: Sequence[str] | None = None,
    ) -> list[Hit]:
        """Top-k passages for a query, best first, at most one per cite key."""
        if not query.strip() or not self.index.chunks:
            return []
        where, mask = self._filters(source_types, law_ids)
        if mask is not None and not mask.any():
            return []
        dense = self.index.dense(query, CANDIDATES, where)
        keyword = self.index.keyword(query, CANDIDATES, mask)
        fused: dict[int, Hit] = {}
        for ranking, attr in ((dense, "dense_rank"), (keyword, "keyword_rank")):
            for rank, (pos, _score) in enumerate(ranking, start=1):
                hit = fused.setdefault(pos, Hit(self.index.chunks[pos], 0.0))
                hit.score += 1.0 / (RRF_K + rank)
                setattr(hit, attr, rank)
        best: dict[str, Hit] = {}
        for hit in sorted(fused.values(), key=lambda h: -h.score):
            best.setdefault(hit.key, hit)
        return list(best.values())[:k]
