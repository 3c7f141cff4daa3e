"""The index on disk: generation folders, the CURRENT/PREVIOUS pointers, the build lock and Chroma."""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import Settings, set_offline_defaults
from ..embed import EmbeddingCache

INDEX_FORMAT = 2  # 2: HNSW persisted by the build itself (see HNSW_CONFIG)
# Chroma applies and persists its write log in batches. With the default sizes a reader that opens
# the index replays the tail of the log and rewrites the HNSW files -- from buffers that are not
# cleared, so the app's memory (questions, a model's replies) could end up on disk. Small batches
# make the build persist everything itself; the reader then writes no vector files (a test checks
# it). Building takes as long either way (1,879 and 20,000 vectors, measured).
HNSW_CONFIG = {"space": "cosine", "sync_threshold": 3, "batch_size": 3}


class IndexUnavailable(Exception):
    """The index is missing, broken or busy; the message is Norwegian and says what to do.

    `rebuild` is True when the index's own files are missing or damaged, so that building it again
    from the corpus repairs it (False for a busy lock or an unreachable Chroma server).
    """

    def __init__(self, message: str, rebuild: bool = False) -> None:
        super().__init__(message)
        self.rebuild = rebuild


def chroma_client(settings: Settings, path: Path | None) -> Any:
    """A client of the Chroma server in SAMSKAP_CHROMA_URL, or else of the embedded store at `path`."""
    set_offline_defaults(settings.allow_model_downloads)
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


def chroma_target(settings: Settings) -> dict[str, str]:
    """Where the vectors go, recorded in the manifest so that a build notices when it changes."""
    return {"mode": "server" if settings.chroma_url else "embedded", "url": settings.chroma_url}


def _instance_id(index_dir: Path) -> str:
    """A random id per index dir, so several indexes can share one Chroma server."""
    path = index_dir / "INSTANCE"
    if not path.exists():
        path.write_text(secrets.token_hex(4) + "\n")
    return path.read_text().strip()


def collection_name(index_dir: Path, generation: str) -> str:
    return f"samskap-{_instance_id(index_dir)}-{generation}"


def embedding_cache(settings: Settings) -> EmbeddingCache:
    """The index's cache of passage vectors (shipped vectors included unless switched off)."""
    return EmbeddingCache(settings.index_dir / "cache" / "embeddings.sqlite", settings.use_shipped_vectors)


def read_pointer(index_dir: Path, name: str) -> str:
    """The generation a pointer file (CURRENT or PREVIOUS) names; "" when there is none."""
    path = index_dir / name
    return path.read_text().strip() if path.exists() else ""


def current_generation_dir(settings: Settings) -> Path | None:
    """The folder of the generation readers use; None when there is none or it has no manifest."""
    name = read_pointer(settings.index_dir, "CURRENT")
    gen_dir = settings.index_dir / "generations" / name
    return gen_dir if name and (gen_dir / "manifest.json").exists() else None


def switch_current(index_dir: Path, generation: str) -> None:
    """Make `generation` current and the old current the previous one, each by an atomic rename."""
    old = read_pointer(index_dir, "CURRENT")
    for name, value in (("PREVIOUS", old), ("CURRENT", generation)):
        if not value:
            continue
        tmp = index_dir / f"{name}.tmp"
        tmp.write_text(value + "\n")
        os.replace(tmp, index_dir / name)
    fsync_dir(index_dir)


@contextmanager
def new_generation(settings: Settings) -> Iterator[tuple[str, Path]]:
    """A new, empty generation folder: removed if the block fails, made current when it completes."""
    generation = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
    gen_dir = settings.index_dir / "generations" / generation
    gen_dir.mkdir(parents=True)
    try:
        yield generation, gen_dir
    except BaseException:
        shutil.rmtree(gen_dir, ignore_errors=True)  # never leave a half-written generation
        raise
    switch_current(settings.index_dir, generation)


def write_json_atomic(path: Path, data: object) -> None:
    """Replace `path` with `data` as JSON; a reader sees the old file or the new one, never a part."""
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def fsync_dir(path: Path) -> None:
    """Put a folder's new and renamed entries on disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def prune(settings: Settings, client: Any, keep: set[str]) -> None:
    """Delete generations (and server collections) other than those in `keep`."""
    gens = settings.index_dir / "generations"
    for gen_dir in gens.iterdir():
        if gen_dir.name not in keep:
            shutil.rmtree(gen_dir, ignore_errors=True)
    if settings.chroma_url:
        ours = collection_name(settings.index_dir, "")
        wanted = {collection_name(settings.index_dir, g) for g in keep if g}
        for collection in client.list_collections():
            name = str(getattr(collection, "name", collection))
            if name.startswith(ours) and name not in wanted:
                client.delete_collection(name)


def drop_previous_generation(settings: Settings) -> None:
    """Delete every generation but the current one (the fallback still holds text deleted since)."""
    with build_lock(settings):
        gen_dir = current_generation_dir(settings)
        if gen_dir is None:
            return
        client = chroma_client(settings, None) if settings.chroma_url else None
        prune(settings, client, keep={gen_dir.name})
        (settings.index_dir / "PREVIOUS").unlink(missing_ok=True)
