"""The persistent index: Chroma vectors + BM25 + chunks + manifest, in atomic generations.

Layout under the index dir:
    CURRENT                    name of the generation readers use (replaced atomically)
    generations/<gen>/         manifest.json, chunks.jsonl, bm25/, chroma/ (embedded mode)
    cache/embeddings.sqlite    passage vectors by embedder id and text hash
    .lock                      held while a build runs

A build writes a new generation next to the old one and switches CURRENT only when it is
complete, so a build killed at any point leaves the previous index usable.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .config import Settings
from .embed import Embedder, EmbeddingCache, create_embedder, embed_with_cache
from .ingest import FileResult, chunker_version, collect
from .ingest.base import Chunk
from .textproc import BM25_PARAMS, BM25Index, keyword_text

INDEX_FORMAT = 2  # 2: HNSW persisted by the build itself (see HNSW_CONFIG)
# Chroma applies and persists its write log in batches. With the default sizes a reader that opens
# the index replays the tail of the log and rewrites the HNSW files -- from buffers that are not
# cleared, so the app's memory (questions, a model's replies) could end up on disk. Small batches
# make the build persist everything itself; the reader then writes no vector files (a test checks
# it). Building takes as long either way (1,879 and 20,000 vectors, measured).
HNSW_CONFIG = {"space": "cosine", "sync_threshold": 3, "batch_size": 3}
POST_FILTER_FACTOR = 4  # a filtered dense search first tries the unfiltered top 4k (see Index.dense)
Progress = Callable[[str, int, int], None]  # phase, done, total


class IndexUnavailable(Exception):
    """The index is missing, broken or busy; the message is Norwegian and says what to do.

    `rebuild` is True when the index's own files are missing or damaged, so that building it again
    from the corpus repairs it (False for a busy lock or an unreachable Chroma server).
    """

    def __init__(self, message: str, rebuild: bool = False) -> None:
        super().__init__(message)
        self.rebuild = rebuild


@dataclass
class BuildReport:
    """Summary of one ingestion, printed by the CLI and shown in the app."""

    generation: str
    changed: bool
    files: list[FileResult]
    counts: dict[str, int]
    embedded: int  # passages embedded in this run (others came from the cache)
    seconds: float
    reused_files: int = 0
    notes: list[str] = field(default_factory=list)
    vectors_missing: int = 0  # passages without a vector yet (only after a build with embed_missing=False)

    @property
    def problems(self) -> list[FileResult]:
        return [f for f in self.files if f.status in {"skipped", "error", "superseded"}]


def _chroma_client(settings: Settings, path: Path | None) -> Any:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        match = re.fullmatch(r"(https?)://([^:/]+)(?::(\d+))?", settings.chroma_url)
        if not match:
            raise IndexUnavailable(f"Ugyldig SAMSKAP_CHROMA_URL «{settings.chroma_url}».")
        scheme, host, port = match.groups()
        try:
            return chromadb.HttpClient(
                host=host,
                port=int(port or (443 if scheme == "https" else 8000)),
                ssl=scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:
            raise IndexUnavailable(
                f"Får ikke kontakt med Chroma-serveren på {settings.chroma_url}. "
                "Sjekk at den kjører, eller tøm SAMSKAP_CHROMA_URL for å bruke lokal lagring."
            ) from exc
    assert path is not None
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def _instance_id(index_dir: Path) -> str:
    """A random id per index dir, so several indexes can share one Chroma server."""
    path = index_dir / "INSTANCE"
    if not path.exists():
        path.write_text(secrets.token_hex(4) + "\n")
    return path.read_text().strip()


def _collection_name(index_dir: Path, generation: str) -> str:
    return f"samskap-{_instance_id(index_dir)}-{generation}"


class Index:
    """A read-only view of one complete generation."""

    def __init__(self, settings: Settings, generation_dir: Path, embedder: Embedder | None = None):
        self.settings = settings
        self.dir = generation_dir
        self.manifest: dict[str, Any] = json.loads((generation_dir / "manifest.json").read_text())
        with (generation_dir / "chunks.jsonl").open(encoding="utf-8") as handle:
            self.chunks = [Chunk.from_dict(json.loads(line)) for line in handle]
        self.position = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        self.by_key: dict[str, list[Chunk]] = {}
        for chunk in self.chunks:
            self.by_key.setdefault(chunk.cite_key, []).append(chunk)
        self.bm25 = BM25Index.load(generation_dir / "bm25")
        # Chunks with a vector in the dense store; fewer than all while the app embeds new documents.
        self.vector_count = len(self.chunks) - missing_vectors(self.manifest)
        self._embedder = embedder
        self._collection: Any = None

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
            client = _chroma_client(self.settings, self.dir / "chroma")
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

        With a filter (`where`, and the same filter as a boolean `mask` over the chunks) the search
        first looks at the unfiltered top 4k and keeps what passes the mask: when k pass, they are
        the filtered top k, without Chroma's metadata pre-filter (which costs ~200 ms at 100k chunks).
        Otherwise Chroma filters. A failed query is retried once on a fresh connection, so a restarted
        Chroma server is picked up without restarting the app; a second failure raises IndexUnavailable.
        """
        if not self.vector_count:
            return []
        vector = self.embedder.embed_query(query).tolist()
        if where and mask is not None:
            kept = [(pos, sim) for pos, sim in self._query(vector, POST_FILTER_FACTOR * k, None) if mask[pos]]
            if len(kept) >= min(k, int(mask.sum())):
                return kept[:k]
        return self._query(vector, k, where)

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
            _chroma_client(self.settings, None).heartbeat()
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


def embedding_cache(settings: Settings) -> EmbeddingCache:
    """The index's cache of passage vectors (shipped vectors included unless switched off)."""
    return EmbeddingCache(settings.index_dir / "cache" / "embeddings.sqlite", settings.use_shipped_vectors)


def missing_vectors(manifest: dict[str, Any]) -> int:
    """Passages of a generation that have no vector yet (0 for complete and older generations)."""
    return int(manifest.get("vectors", {}).get("missing", 0))


def current_generation_dir(settings: Settings) -> Path | None:
    pointer = settings.index_dir / "CURRENT"
    if not pointer.exists():
        return None
    gen_dir = settings.index_dir / "generations" / pointer.read_text().strip()
    return gen_dir if (gen_dir / "manifest.json").exists() else None


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


@contextmanager
def build_lock(settings: Settings) -> Iterator[None]:
    """Only one build at a time; a second waits up to the timeout, then gives up."""
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    with (settings.index_dir / ".lock").open("w") as handle:
        deadline = time.monotonic() + settings.ingest_lock_timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexUnavailable(
                        "En annen indeksering pågår allerede. Prøv igjen når den er ferdig."
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _previous_chunks(gen_dir: Path | None) -> dict[str, list[Chunk]]:
    if gen_dir is None:
        return {}
    grouped: dict[str, list[Chunk]] = {}
    try:
        with (gen_dir / "chunks.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                chunk = Chunk.from_dict(json.loads(line))
                grouped.setdefault(chunk.source_path, []).append(chunk)
    except (OSError, ValueError, TypeError):
        return {}
    return grouped


def _chroma_target(settings: Settings) -> dict[str, str]:
    return {"mode": "server" if settings.chroma_url else "embedded", "url": settings.chroma_url}


def build_index(
    settings: Settings,
    rebuild: bool = False,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
    embed_missing: bool = True,
) -> BuildReport:
    """Bring the index up to date with the corpus; only new or changed text is embedded.

    With `embed_missing=False` nothing is embedded: passages whose vectors are neither cached nor
    shipped are left out of the dense store (keyword search still finds them) and counted in the
    manifest as missing, for a later full build to add. The app starts this way and embeds afterwards.
    """
    started = time.perf_counter()
    if not settings.corpus_dir.is_dir():
        raise IndexUnavailable(f"Fant ikke korpusmappen {settings.corpus_dir}.")
    with build_lock(settings):
        embedder = embedder or create_embedder(settings.embedder, settings.allow_model_downloads)
        version = chunker_version(settings.chunk_max_chars, settings.chunk_overlap_chars)
        old_dir = current_generation_dir(settings)
        try:
            old_manifest = json.loads((old_dir / "manifest.json").read_text()) if old_dir else {}
        except (OSError, ValueError):
            old_manifest = {}  # a damaged current generation is rebuilt, not trusted
        same_setup = (
            not rebuild
            and old_manifest.get("format") == INDEX_FORMAT
            and old_manifest.get("chunker_version") == version
            and old_manifest.get("embedder", {}).get("id") == embedder.id
            and old_manifest.get("bm25") == BM25_PARAMS  # a tokenizer change rebuilds the keyword index
        )
        old_files = old_manifest.get("files", {}) if same_setup else {}
        previous = _previous_chunks(old_dir) if same_setup else {}
        reused: list[str] = []

        def reuse(rel: str, sha: str) -> list[Chunk] | None:
            record = old_files.get(rel)
            if record and record["sha256"] == sha and record["status"] == "indexed" and rel in previous:
                reused.append(rel)
                return previous[rel]
            return None

        files = collect(
            settings.corpus_dir,
            settings.chunk_max_chars,
            settings.chunk_overlap_chars,
            reuse=reuse,
            progress=(lambda rel: progress("les", 0, 0)) if progress else None,
        )
        file_records = {f.path: _file_record(f) for f in files}
        if (
            same_setup
            and old_manifest.get("chroma", {}).get("target") == _chroma_target(settings)
            and old_files == file_records
            and (not embed_missing or not missing_vectors(old_manifest))
        ):
            return BuildReport(
                generation=old_manifest["generation"],
                changed=False,
                files=files,
                counts=old_manifest["counts"],
                embedded=0,
                seconds=time.perf_counter() - started,
                reused_files=len(reused),
                vectors_missing=missing_vectors(old_manifest),
            )
        chunks = [c for f in files if f.status == "indexed" for c in f.chunks]
        report = _write_generation(settings, embedder, version, files, chunks, file_records, progress, embed_missing)
        report.reused_files = len(reused)
        report.seconds = time.perf_counter() - started
        return report


def fill_vectors(
    settings: Settings, embedder: Embedder | None = None, progress: Callable[[int, int], None] | None = None
) -> BuildReport:
    """Embed what the current generation lacks, then make a complete generation.

    The embedding (minutes for hundreds of new pages) runs outside the build lock, so the app keeps
    answering from the current generation and further uploads are indexed meanwhile; the vectors go to
    the cache, and the build under the lock afterwards takes them from there in seconds.
    """
    gen_dir = current_generation_dir(settings)
    if gen_dir is None:
        raise IndexUnavailable(f"Fant ingen indeks i {settings.index_dir}.", rebuild=True)
    with (gen_dir / "chunks.jsonl").open(encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle]
    embedder = embedder or create_embedder(settings.embedder, settings.allow_model_downloads)
    cache = embedding_cache(settings)
    try:
        embed_with_cache(embedder, texts, cache, settings.embed_batch_size, progress)
    finally:
        cache.close()
    return build_index(settings, embedder=embedder)


def _file_record(result: FileResult) -> dict[str, Any]:
    return {
        "sha256": result.sha256,
        "bytes": result.size,
        "loader": result.loader,
        "status": result.status,
        "message": result.message,
        "chunks": len(result.chunks) if result.status == "indexed" else 0,
        "source_type": result.chunks[0].source_type if result.chunks else "",
    }


def _write_generation(
    settings: Settings,
    embedder: Embedder,
    version: str,
    files: list[FileResult],
    chunks: list[Chunk],
    file_records: dict[str, Any],
    progress: Progress | None,
    embed_missing: bool,
) -> BuildReport:
    generation = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
    gen_dir = settings.index_dir / "generations" / generation
    gen_dir.mkdir(parents=True)
    try:
        report, client = _fill_generation(
            settings, embedder, version, files, chunks, file_records, progress, embed_missing, generation, gen_dir
        )
    except BaseException:
        shutil.rmtree(gen_dir, ignore_errors=True)  # never leave a half-written generation
        raise
    _switch_current(settings.index_dir, generation)
    _prune(settings, client, keep={generation, _read_pointer(settings.index_dir, "PREVIOUS")})
    if progress:
        progress("lagre", 1, 1)
    return report


def _fill_generation(
    settings: Settings,
    embedder: Embedder,
    version: str,
    files: list[FileResult],
    chunks: list[Chunk],
    file_records: dict[str, Any],
    progress: Progress | None,
    embed_missing: bool,
    generation: str,
    gen_dir: Path,
) -> tuple[BuildReport, Any]:
    """Write a complete generation (not yet current); returns the report and the Chroma client."""
    # Connect to the vector store first: a dead server should fail before minutes of embedding.
    client = _chroma_client(settings, gen_dir / "chroma")
    collection_name = _collection_name(settings.index_dir, generation)
    try:
        collection = client.create_collection(
            collection_name, embedding_function=None, configuration={"hnsw": HNSW_CONFIG}
        )
    except Exception as exc:
        raise IndexUnavailable(
            f"Kunne ikke opprette samlingen i Chroma ({type(exc).__name__}). "
            "Sjekk at Chroma-serveren kjører og er tilgjengelig."
        ) from exc

    cache = embedding_cache(settings)
    try:
        vectors, embedded = embed_with_cache(
            embedder,
            [c.text for c in chunks],
            cache,
            batch_size=settings.embed_batch_size,
            progress=(lambda done, total: progress("embed", done, total)) if progress else None,
            embed_missing=embed_missing,
        )
    finally:
        cache.close()

    if progress:
        progress("lagre", 0, 1)
    dense = [(c, v) for c, v in zip(chunks, vectors, strict=True) if v is not None]
    batch = 4000
    for start in range(0, len(dense), batch):
        part = dense[start : start + batch]
        collection.add(
            ids=[c.chunk_id for c, _ in part],
            embeddings=np.vstack([v for _, v in part]),
            documents=[c.text for c, _ in part],
            metadatas=[c.metadata() for c, _ in part],
        )
    BM25Index.build([keyword_text(c) for c in chunks]).save(gen_dir / "bm25")
    with (gen_dir / "chunks.jsonl").open("w", encoding="utf-8") as handle:
        for chunk in chunks:
            handle.write(json.dumps(chunk.to_dict(), ensure_ascii=False) + "\n")

    counts: dict[str, int] = {"total": len(chunks)}
    for chunk in chunks:
        counts[chunk.source_type] = counts.get(chunk.source_type, 0) + 1
    manifest = {
        "format": INDEX_FORMAT,
        "generation": generation,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "chunker_version": version,
        "chunking": {"max_chars": settings.chunk_max_chars, "overlap_chars": settings.chunk_overlap_chars},
        "embedder": {"id": embedder.id, "spec": settings.embedder, "dim": len(dense[0][1]) if dense else 0},
        "vectors": {"count": len(dense), "missing": len(chunks) - len(dense)},
        "chroma": {"target": _chroma_target(settings), "collection": collection_name},
        "bm25": BM25_PARAMS,
        "counts": counts,
        "files": file_records,
    }
    _write_json_atomic(gen_dir / "manifest.json", manifest)
    _fsync_dir(gen_dir)
    report = BuildReport(
        generation=generation, changed=True, files=files, counts=counts, embedded=embedded, seconds=0.0,
        vectors_missing=len(chunks) - len(dense),
    )
    return report, client


def _write_json_atomic(path: Path, data: object) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_pointer(index_dir: Path, name: str) -> str:
    path = index_dir / name
    return path.read_text().strip() if path.exists() else ""


def _switch_current(index_dir: Path, generation: str) -> None:
    old = _read_pointer(index_dir, "CURRENT")
    for name, value in (("PREVIOUS", old), ("CURRENT", generation)):
        if not value:
            continue
        tmp = index_dir / f"{name}.tmp"
        tmp.write_text(value + "\n")
        os.replace(tmp, index_dir / name)
    _fsync_dir(index_dir)


def drop_previous_generation(settings: Settings) -> None:
    """Delete every generation but the current one (the fallback still holds text deleted since)."""
    with build_lock(settings):
        gen_dir = current_generation_dir(settings)
        if gen_dir is None:
            return
        client = _chroma_client(settings, None) if settings.chroma_url else None
        _prune(settings, client, keep={gen_dir.name})
        (settings.index_dir / "PREVIOUS").unlink(missing_ok=True)


def _prune(settings: Settings, client: Any, keep: set[str]) -> None:
    """Delete generations (and server collections) other than the current and previous one."""
    gens = settings.index_dir / "generations"
    for gen_dir in gens.iterdir():
        if gen_dir.name not in keep:
            shutil.rmtree(gen_dir, ignore_errors=True)
    if settings.chroma_url:
        ours = _collection_name(settings.index_dir, "")
        wanted = {_collection_name(settings.index_dir, g) for g in keep if g}
        for collection in client.list_collections():
            name = str(getattr(collection, "name", collection))
            if name.startswith(ours) and name not in wanted:
                client.delete_collection(name)
