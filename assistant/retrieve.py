"""Hybrid retrieval: named paragraphs first, then dense (Chroma) + BM25 fused by rank, one hit per cite key."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from .answer import Lang
from .config import set_offline_defaults
from .index import Index
from .ingest.base import Chunk
from .query import EXPANSIONS, Query, analyze
from .textproc import BM25Index

CANDIDATES = 50


@dataclass(frozen=True)
class Tuning:
    """Knobs of the search; defaults are the measured best (benchmarks/retrieval_quality.py)."""

    rrf_k: int = 5  # small: a passage ranked first by one leg should beat one ranked tenth by all
    candidates: int = CANDIDATES
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    heading_weight: float = 0.5  # BM25 over paragraph headings and section titles alone
    facet_weight: float = 1.0  # sub-queries for the question's intent (query.Query.facets)
    expansions: tuple[str, ...] = EXPANSIONS  # keyword expansions (query.keyword_terms); () for none
    direct_lookup: bool = True  # paragraphs named in the question come first
    named_law_only: bool = True  # a question naming a law searches no other law (other sources stay)
    not_in_force: float = 0.5  # score factor for laws not yet in force, unless the question names them
    law_bonus: float = 1.0  # law chunks score (1 + bonus) times more when the question is legal
    skip_headings: bool = True  # heading-only chunks ("4.2.2. Funn fra …") are never hits
    rerank_depth: int = 30  # fused hits a cross-encoder re-scores, when one is configured


# The search as it was before tuning: plain tokens, plain reciprocal rank fusion of two legs.
BASELINE = Tuning(
    rrf_k=60, heading_weight=0.0, facet_weight=0.0, expansions=(), direct_lookup=False,
    named_law_only=False, not_in_force=1.0, law_bonus=0.0, skip_headings=False,
)


@dataclass
class Hit:
    """One retrieved passage (the best-scoring part of its cite key)."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    keyword_rank: int | None = None
    direct: bool = False  # the question names this paragraph
    dense_sim: float | None = None  # cosine similarity to the question in the dense leg (scope.py reads it)

    @property
    def key(self) -> str:
        return self.chunk.cite_key

    def to_json(self, snippet_chars: int | None = None) -> dict[str, Any]:
        text = self.chunk.text if snippet_chars is None else snippet(self.chunk.text, snippet_chars)
        return {"key": self.key, "title": self.chunk.title, "score": round(self.score, 6), "text": text}


def snippet(text: str, chars: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= chars else flat[: chars - 1].rsplit(" ", 1)[0] + " …"


HEADING = re.compile(r"(?:\d+(?:\.\d+)*\.?|§\s*\S+)\s+[^\n]{0,140}")


def heading_text(chunk: Chunk) -> str:
    """A chunk's own heading: 'Utvalg' for a law paragraph, '2.4.3 Living lab' for a section."""
    return chunk.heading if chunk.source_type == "law" else chunk.title.rsplit(" › ", 1)[-1]


def heading_only(chunk: Chunk) -> bool:
    """True for a chunk that holds nothing but its numbered heading (an artefact of splitting)."""
    return bool(HEADING.fullmatch(chunk.text.strip()))


class Reranker(Protocol):
    """Anything that scores passages for a question (higher is more relevant)."""

    def scores(self, query: str, texts: Sequence[str]) -> list[float]: ...


class RerankerError(Exception):
    """A configured reranker cannot be loaded; the message is Norwegian and names the fix."""


class CrossEncoderReranker:
    """Re-scores (question, passage) pairs with a sentence-transformers CrossEncoder."""

    def __init__(self, model: str, allow_downloads: bool = False) -> None:
        set_offline_defaults(allow_downloads)
        try:
            from sentence_transformers import CrossEncoder
        except ImportError as exc:
            raise RerankerError(
                "sentence-transformers er ikke installert: kjør `pip install 'samskap[st]'`, "
                "eller tøm SAMSKAP_RERANKER."
            ) from exc
        try:
            self._model = CrossEncoder(model, device="cpu")
        except (OSError, ValueError) as exc:
            raise RerankerError(
                f"Fant ikke rerangeringsmodellen «{model}» lokalt. Oppgi en lokal sti i SAMSKAP_RERANKER, "
                "tillat nedlasting med SAMSKAP_ALLOW_MODEL_DOWNLOADS=true, eller tøm SAMSKAP_RERANKER."
            ) from exc
        self.model = model

    def scores(self, query: str, texts: Sequence[str]) -> list[float]:
        """One relevance score per text, higher is better."""
        if not texts:
            return []
        out = self._model.predict([(query, t) for t in texts], show_progress_bar=False)
        return [float(s) for s in np.atleast_1d(np.asarray(out, dtype=np.float32))]


class Retriever:
    """Searches one index generation; a reranker (given, or SAMSKAP_RERANKER) reorders the fused head."""

    def __init__(
        self, index: Index, tuning: Tuning | None = None, reranker: Reranker | None = None
    ) -> None:
        self.index = index
        self.tuning = tuning or Tuning()
        if reranker is None and index.settings.reranker:
            reranker = CrossEncoderReranker(index.settings.reranker, index.settings.allow_model_downloads)
        self.reranker = reranker

    def analyze(self, query: str, lang: Lang | None = None, laws: Sequence[str] | None = None) -> Query:
        """The parsed query, with the features this tuning switches off removed."""
        tuning = self.tuning
        parsed = analyze(query, self.index.by_key, self.index.bm25.compounds, tuning.expansions, lang, laws)
        if not tuning.expansions:  # plain tokens, as the chunks were tokenized
            parsed = replace(parsed, terms={}, facets=[])
        if not tuning.direct_lookup:
            parsed = replace(parsed, keys=[], bare_keys=[])
        return parsed

    @cached_property
    def _columns(self) -> dict[str, np.ndarray]:
        chunks = self.index.chunks
        return {
            "source_type": np.array([c.source_type for c in chunks]),
            "law_id": np.array([c.law_id for c in chunks]),
            "heading_only": np.array([heading_only(c) for c in chunks], dtype=bool),
        }

    def _filters(
        self, source_types: Sequence[str] | None, law_ids: Sequence[str] | None, named_laws: Sequence[str] = ()
    ) -> tuple[dict[str, Any] | None, np.ndarray | None]:
        """The same restriction as a Chroma `where` clause and as a mask over the chunks."""
        clauses: list[dict[str, Any]] = []
        source, law = self._columns["source_type"], self._columns["law_id"]
        mask = np.ones(len(source), dtype=bool)
        if source_types:
            clauses.append({"source_type": {"$in": list(source_types)}})
            mask &= np.isin(source, list(source_types))
        if law_ids:
            clauses.append({"law_id": {"$in": list(law_ids)}})
            mask &= np.isin(law, list(law_ids))
        elif named_laws:
            # Other laws' paragraphs are noise when the question names a law; other sources stay.
            clauses.append({"$or": [{"source_type": {"$ne": "law"}}, {"law_id": {"$in": list(named_laws)}}]})
            mask &= (source != "law") | np.isin(law, list(named_laws))
        if not clauses:
            return None, None
        where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        return where, mask

    def search(
        self,
        query: str | Query,
        k: int = 10,
        source_types: Sequence[str] | None = None,
        law_ids: Sequence[str] | None = None,
    ) -> list[Hit]:
        """Top-k passages for a query (text, or one analysed already), best first, at most one per cite
        key; named paragraphs first."""
        parsed = self.analyze(query) if isinstance(query, str) else query
        if not parsed.text.strip() or not self.index.chunks:
            return []
        named = parsed.laws if self.tuning.named_law_only else []
        where, mask = self._filters(source_types, law_ids, named)
        if mask is not None and not mask.any():
            where, mask = self._filters(source_types, law_ids)
            if mask is not None and not mask.any():
                return []
        fused = self._fuse(parsed, where, mask)
        best: dict[str, Hit] = {}
        for hit in sorted(fused.values(), key=lambda h: -h.score):
            best.setdefault(hit.key, hit)
        ranked = list(best.values())
        if self.reranker is not None:
            ranked = self._rerank(parsed.text, ranked)
        direct = self._direct(parsed, best, mask)
        named_keys = {d.key for d in direct}
        hits = direct + [h for h in ranked if h.key not in named_keys]
        return hits[:k]

    def _fuse(self, parsed: Query, where: dict[str, Any] | None, mask: np.ndarray | None) -> dict[int, Hit]:
        """Weighted reciprocal rank fusion of the legs, then source priors; chunk position -> hit."""
        tuning, chunks, n = self.tuning, self.index.chunks, self.tuning.candidates
        terms = parsed.terms or parsed.text
        legs: list[tuple[list[tuple[int, float]], float, str]] = [
            (self.index.dense(parsed.text, n, where, mask), tuning.dense_weight, "dense_rank"),
            (self.index.bm25.top(terms, n, mask), tuning.keyword_weight, "keyword_rank"),
        ]
        if tuning.heading_weight:
            legs.append((self.headings.top(terms, n, mask), tuning.heading_weight, ""))
        for facet in parsed.facets if tuning.facet_weight else []:
            legs.append((self.index.dense(facet, n, where, mask), tuning.facet_weight, ""))
            legs.append((self.index.bm25.top(facet, n, mask), tuning.facet_weight, ""))
        skip = self._columns["heading_only"] if tuning.skip_headings else np.zeros(len(chunks), dtype=bool)
        fused: dict[int, Hit] = {}
        for ranking, weight, attr in legs:
            rank = 0
            for pos, score in ranking:
                if skip[pos]:
                    continue
                rank += 1
                hit = fused.setdefault(pos, Hit(chunks[pos], 0.0))
                hit.score += weight / (tuning.rrf_k + rank)
                if attr:
                    setattr(hit, attr, rank)
                if attr == "dense_rank":
                    hit.dense_sim = score
        for hit in fused.values():
            hit.score *= self._prior(hit.chunk, parsed)
        return fused

    def _prior(self, chunk: Chunk, parsed: Query) -> float:
        """Score factor for the kind of passage, given what the question asks."""
        tuning, factor = self.tuning, 1.0
        if chunk.version_kind == "not_in_force" and chunk.law_id not in parsed.laws:
            factor *= tuning.not_in_force
        if tuning.law_bonus and parsed.legal and chunk.source_type == "law":
            factor *= 1.0 + tuning.law_bonus
        return factor

    @cached_property
    def headings(self) -> BM25Index:
        """BM25 over each chunk's heading alone (law paragraph heading or thesis section title)."""
        return BM25Index.build([heading_text(c) for c in self.index.chunks])

    def _direct(self, parsed: Query, fused: dict[str, Hit], mask: np.ndarray | None) -> list[Hit]:
        """Hits for the paragraphs the question names: with a law in order, without one by score."""
        bare = parsed.bare_keys
        if bare and parsed.laws:  # "§ 5-7" in a question that names kommuneloven elsewhere
            bare = [k for k in bare if any(k.startswith(law + "/") for law in parsed.laws)] or bare
        if len(bare) > 1:  # rank by fused score, then by keyword score for keys the fusion did not reach
            keyword = self.index.bm25.scores(parsed.terms or parsed.text)
            position = self.index.position
            bare = sorted(bare, key=lambda key: (
                -(fused[key].score if key in fused else 0.0),
                -max(keyword[position[c.chunk_id]] for c in self.index.by_key[key]),
            ))
        hits = []
        for key in dict.fromkeys([*parsed.keys, *bare]):
            chunk = fused[key].chunk if key in fused else self.index.by_key[key][0]
            if mask is None or mask[self.index.position[chunk.chunk_id]]:
                hits.append(Hit(chunk, 0.0, direct=True))
        top = max((h.score for h in fused.values()), default=0.0)
        for i, hit in enumerate(hits):
            hit.score = top + 1.0 + (len(hits) - i) / len(hits)  # above every fused score
        return hits

    def _rerank(self, query: str, ranked: list[Hit]) -> list[Hit]:
        """Reorder the head by cross-encoder score; it keeps its fused scores, in the new order."""
        assert self.reranker is not None
        head, tail = ranked[: self.tuning.rerank_depth], ranked[self.tuning.rerank_depth :]
        scores = self.reranker.scores(query, [h.chunk.text for h in head])
        fused_scores = [h.score for h in head]
        top = [head[i] for i in sorted(range(len(head)), key=lambda i: -scores[i])]
        for hit, score in zip(top, fused_scores, strict=True):
            hit.score = score
        return top + tail
