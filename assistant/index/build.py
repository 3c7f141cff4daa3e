"""Building the index: collect the corpus, embed what is new, write a generation and make it current."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Settings
from ..embed import Embedder, create_embedder, embed_with_cache
from ..ingest import FileResult, chunker_version, collect
from ..ingest.base import Chunk
from ..textproc import BM25_PARAMS, BM25Index, keyword_text
from .read import missing_vectors, read_chunks
from .storage import (
    HNSW_CONFIG,
    INDEX_FORMAT,
    IndexUnavailable,
    build_lock,
    chroma_client,
    chroma_target,
    collection_name,
    current_generation_dir,
    embedding_cache,
    fsync_dir,
    new_generation,
    prune,
    read_pointer,
    write_json_atomic,
)

Progress = Callable[[str, int, int], None]  # phase, done, total


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
    vectors_missing: int = 0  # passages without a vector yet (only after a build with embed_missing=False)

    @property
    def problems(self) -> list[FileResult]:
        return [f for f in self.files if f.status in {"skipped", "error", "superseded"}]


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
            and old_manifest.get("chroma", {}).get("target") == chroma_target(settings)
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
    with embedding_cache(settings) as cache:
        embed_with_cache(embedder, texts, cache, settings.embed_batch_size, progress)
    return build_index(settings, embedder=embedder)


def _previous_chunks(gen_dir: Path | None) -> dict[str, list[Chunk]]:
    """The current generation's chunks by source file, for unchanged files to reuse ({} if unreadable)."""
    if gen_dir is None:
        return {}
    try:
        chunks = read_chunks(gen_dir)
    except (OSError, ValueError, TypeError):
        return {}
    grouped: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        grouped.setdefault(chunk.source_path, []).append(chunk)
    return grouped


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
    """Write a complete generation, make it current and prune the ones before the previous."""
    with new_generation(settings) as (generation, gen_dir):
        # Connect to the vector store first: a dead server should fail before minutes of embedding.
        client = chroma_client(settings, gen_dir / "chroma")
        name = collection_name(settings.index_dir, generation)
        try:
            collection = client.create_collection(name, embedding_function=None, configuration={"hnsw": HNSW_CONFIG})
        except Exception as exc:
            raise IndexUnavailable(
                f"Kunne ikke opprette samlingen i Chroma ({type(exc).__name__}). "
                "Sjekk at Chroma-serveren kjører og er tilgjengelig."
            ) from exc

        with embedding_cache(settings) as cache:
            vectors, embedded = embed_with_cache(
                embedder,
                [c.text for c in chunks],
                cache,
                batch_size=settings.embed_batch_size,
                progress=(lambda done, total: progress("embed", done, total)) if progress else None,
                embed_missing=embed_missing,
            )

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
            "chroma": {"target": chroma_target(settings), "collection": name},
            "bm25": BM25_PARAMS,
            "counts": counts,
            "files": file_records,
        }
        write_json_atomic(gen_dir / "manifest.json", manifest)
        fsync_dir(gen_dir)
    prune(settings, client, keep={generation, read_pointer(settings.index_dir, "PREVIOUS")})
    if progress:
        progress("lagre", 1, 1)
    return BuildReport(
        generation=generation, changed=True, files=files, counts=counts, embedded=embedded, seconds=0.0,
        vectors_missing=len(chunks) - len(dense),
    )
