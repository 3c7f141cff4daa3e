"""Reading the index: one complete generation's chunks, BM25 and vectors, searched by the retriever."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Settings
from ..embed import Embedder, create_embedder
from ..ingest.base import Chunk
from ..textproc import BM25Index
from .storage import IndexUnavailable, chroma_client, current_generation_dir

QUERY_VECTORS_KEPT = 64  # recent query embeddings kept (Index.query_vector)
POST_FILTER_FACTOR = 4  # a filtered dense search first tries the unfiltered top 4k (see Index.dense)
# Up to this many stored vectors a local index scores every one of them exactly (one matrix-vector product,
# about 0.2 ms for the shipped corpus) instead of asking Chroma's approximate HNSW graph: the same passages for
# the same question on every build. Two builds of the shipped corpus differed in the top 10 for 10 of 187
# public questions, and one build's graph could not reach a passage at all (its own vector did not find
# it). Larger corpora, and a Chroma server, keep the HNSW search.
EXACT_MAX = 20_000


class Index:
    """A read-only view of one complete generation."""

    def __init__(self, settings: Settings, generation_dir: Path, embedder: Embedder | None = None):
        self.settings = settings
        self.dir = generation_dir
        self.manifest: dict[str, Any] = json.loads((generation_dir / "manifest.json").read_text())
        self.chunks = read_chunks(generation_dir)
        self.position = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        self.by_key: dict[str, list[Chunk]] = {}
        for chunk in self.chunks:
            self.by_key.setdefault(chunk.cite_key, []).append(chunk)
        self.bm25 = BM25Index.load(generation_dir / "bm25")
        # Chunks with a vector in the dense store; fewer than all while the app embeds new documents.
        self.vector_count = len(self.chunks) - missing_vectors(self.manifest)
        self._embedder = embedder
        self._collection: Any = None
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vectors_lock = threading.Lock()

    @property
    def generation(self) -> str:
        return str(self.manifest["generation"])

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = create_embedder(
                self.manifest["embedder"]["spec"], self.settings.allow_model_downloads
            )
        return self._embedder

    @property
    def collection(self) -> Any:
        if self._collection is None:
            client = chroma_client(self.settings, self.dir / "chroma")
            self._collection = client.get_collection(
                self.manifest["chroma"]["collection"], embedding_function=None
            )
        return self._collection

    def check(self) -> None:
        """Raise IndexUnavailable(rebuild=True) when this generation's files are gone or damaged.

        Cheap enough to run before every question: a few stats and two small reads.
        """
        problem = ""
        try:
            manifest = json.loads((self.dir / "manifest.json").read_text())
            if manifest.get("generation") != self.generation:
                problem = "manifest.json er byttet ut"
            elif not (self.dir / "chunks.jsonl").is_file() or not (self.dir / "bm25").is_dir():
                problem = "tekstbitene eller nøkkelordindeksen mangler"
            elif not self.settings.chroma_url:
                with (self.dir / "chroma" / "chroma.sqlite3").open("rb") as handle:
                    if handle.read(16) != b"SQLite format 3\x00":
                        problem = "vektorlageret er skadet"
        except (OSError, ValueError):
            problem = "filene mangler eller kan ikke leses"
        if problem:
            raise IndexUnavailable(f"Indeksen i {self.dir} er borte eller skadet ({problem}).", rebuild=True)

    def dense(
        self, query: str, k: int, where: dict[str, Any] | None = None, mask: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Nearest chunks by cosine similarity: (position, similarity), best first.

        A local index of at most EXACT_MAX vectors scores them all (`_exact`, with `mask` as the filter);
        the rest goes to Chroma's HNSW search. There, with a filter (`where`, and the same filter as a boolean `mask` over the chunks) the search
        first looks at the unfiltered top 4k and keeps what passes the mask: when k pass, they are
        the filtered top k, without Chroma's metadata pre-filter (which costs ~200 ms at 100k chunks).
        Otherwise Chroma filters. A failed query is retried once on a fresh connection, so a restarted
        Chroma server is picked up without restarting the app; a second failure raises IndexUnavailable.
        """
        if not self.vector_count:
            return []
        if self.vector_count <= EXACT_MAX and not self.settings.chroma_url and (mask is not None or not where):
            return self._exact(self.query_vector(query), k, mask)
        vector = self.query_vector(query).tolist()
        if where and mask is not None:
            kept = [(pos, sim) for pos, sim in self._query(vector, POST_FILTER_FACTOR * k, None) if mask[pos]]
            if len(kept) >= min(k, int(mask.sum())):
                return kept[:k]
        return self._query(vector, k, where)

    @cached_property
    def mean_vector(self) -> np.ndarray:
        """The mean of the stored passage vectors: a question's dot product with it is its mean cosine
        similarity to the whole corpus (scope.py subtracts it, so a question close to everything is not
        mistaken for one the corpus covers). Read once per generation."""
        if not self.vector_count:
            return np.zeros(0, dtype=np.float32)
        return self._stored[1].mean(axis=0)

    @cached_property
    def law_centroids(self) -> dict[str, np.ndarray]:
        """Each law's mean passage vector, of unit length: what the law as a whole is about. Read once per
        generation."""
        if not self.vector_count:
            return {}
        positions, unit = self._stored[0], self._unit
        law_of = np.array([self.chunks[p].law_id if self.chunks[p].source_type == "law" else "" for p in positions])
        centroids = {}
        for law in sorted(set(law_of) - {""}):
            mean = unit[law_of == law].mean(axis=0)
            centroids[str(law)] = mean / (np.linalg.norm(mean) or 1.0)
        return centroids

    def nearest_laws(self, text: str) -> list[str]:
        """The indexed laws, the one whose passages as a whole are closest to the text first ([] while the
        index has no vectors). The text's query vector is usually cached from the dense search."""
        centroids = self.law_centroids
        if not centroids:
            return []
        vector = self.query_vector(text)
        vector = vector / (np.linalg.norm(vector) or 1.0)
        sims = {law: float(np.einsum("i,i->", c, vector)) for law, c in centroids.items()}
        return sorted(sims, key=lambda law: -sims[law])

    @cached_property
    def _stored(self) -> tuple[np.ndarray, np.ndarray]:
        """The chunk position of every stored vector and the vectors, in one matrix. Read once per generation."""
        try:
            got = self.collection.get(include=["embeddings"])
        except Exception as exc:  # chromadb raises connection, not-found and storage errors alike
            raise self._store_error(exc) from exc
        rows = [(self.position[cid], v) for cid, v in zip(got["ids"], got["embeddings"], strict=True)
                if cid in self.position]
        return np.array([p for p, _ in rows], dtype=np.int64), np.asarray([v for _, v in rows], dtype=np.float32)

    @cached_property
    def _unit(self) -> np.ndarray:
        vectors = self._stored[1]
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def _exact(self, vector: np.ndarray, k: int, mask: np.ndarray | None) -> list[tuple[int, float]]:
        """Every stored vector scored by cosine similarity: (position, similarity), best first; ties in
        chunk order."""
        positions = self._stored[0]
        # einsum, not @: a BLAS call here wakes its thread pool, whose spinning threads then slow the next
        # query embedding (the engine's own threads) to half speed on two cores; this takes ~0.2 ms.
        sims = np.einsum("ij,j->i", self._unit, vector / (np.linalg.norm(vector) or 1.0))
        if mask is not None:
            sims = np.where(mask[positions], sims, -np.inf)
        order = np.lexsort((positions, -sims))[: min(k, int(np.isfinite(sims).sum()))]
        return [(int(positions[i]), float(sims[i])) for i in order]

    def query_vector(self, text: str) -> np.ndarray:
        """The text's query embedding; the last few are kept, so the stages of one answer embed it once."""
        with self._vectors_lock:
            if text in self._query_vectors:
                self._query_vectors.move_to_end(text)
                return self._query_vectors[text]
        vector = self.embedder.embed_query(text)
        with self._vectors_lock:
            self._query_vectors[text] = vector
            if len(self._query_vectors) > QUERY_VECTORS_KEPT:
                self._query_vectors.popitem(last=False)
        return vector

    def _query(self, vector: list[float], k: int, where: dict[str, Any] | None) -> list[tuple[int, float]]:
        for attempt in (1, 2):
            try:
                result = self.collection.query(
                    query_embeddings=[vector],
                    n_results=min(k, self.vector_count),
                    where=where or None,
                    include=["distances"],
                )
                break
            except Exception as exc:  # chromadb raises connection, not-found and storage errors alike
                self._collection = None
                if attempt == 2:
                    raise self._store_error(exc) from exc
                time.sleep(0.3)
        return [
            (self.position[cid], 1.0 - float(dist))
            for cid, dist in zip(result["ids"][0], result["distances"][0], strict=True)
            if cid in self.position
        ]

    def _store_error(self, exc: Exception) -> IndexUnavailable:
        if isinstance(exc, IndexUnavailable):
            return exc
        if not self.settings.chroma_url:
            return IndexUnavailable(
                f"Vektorlageret i {self.dir} svarer ikke ({type(exc).__name__}).", rebuild=True
            )
        try:
            chroma_client(self.settings, None).heartbeat()
        except Exception:
            return IndexUnavailable(
                f"Får ikke kontakt med Chroma-serveren på {self.settings.chroma_url}."
            )
        return IndexUnavailable(
            f"Chroma-serveren på {self.settings.chroma_url} har ikke lenger samlingen til indeksen.", rebuild=True
        )

    def keyword(
        self, query: str, k: int, mask: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """BM25 top-k: (position, score), best first; chunks outside `mask` are excluded."""
        return self.bm25.top(query, k, mask)


def read_chunks(generation_dir: Path) -> list[Chunk]:
    """The chunks of a generation, in index order."""
    with (generation_dir / "chunks.jsonl").open(encoding="utf-8") as handle:
        return [Chunk.from_dict(json.loads(line)) for line in handle]


def missing_vectors(manifest: dict[str, Any]) -> int:
    """Passages of a generation that have no vector yet (0 for complete and older generations)."""
    return int(manifest.get("vectors", {}).get("missing", 0))


def open_index(settings: Settings, embedder: Embedder | None = None) -> Index:
    """Open the current generation; raises IndexUnavailable with advice when there is none."""
    gen_dir = current_generation_dir(settings)
    if gen_dir is None:
        raise IndexUnavailable(
            f"Fant ingen indeks i {settings.index_dir}. Kjør `python -m assistant ingest` først.", rebuild=True
        )
    try:
        return Index(settings, gen_dir, embedder)
    except (OSError, ValueError, KeyError) as exc:
        raise IndexUnavailable(
            f"Indeksen i {gen_dir} er skadet ({type(exc).__name__}). "
            "Kjør `python -m assistant ingest --rebuild` for å bygge den på nytt.",
            rebuild=True,
        ) from exc
