"""From corpus files to chunks: discover files, pick a loader per format, choose law versions."""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .base import Chunk, LoaderError, split_chunk

# Bump when any loader's output changes; part of the chunker version in the manifest.
LOADERS_VERSION = "2"

# Documentation files that live beside the corpus and are not content.
DOC_FILES = {"PROVENANCE.md", "README.md", "UPDATES.md"}

_VERSION_RANK = {"current": 2, "not_in_force": 2, "as_enacted": 1, "": 0}


@dataclass
class FileResult:
    """What happened to one corpus file."""

    path: str  # relative to the corpus dir, with forward slashes
    sha256: str
    size: int
    loader: str = ""
    status: str = "indexed"  # indexed | superseded | skipped | error
    message: str = ""  # Norwegian, for users, when not indexed
    chunks: list[Chunk] = field(default_factory=list)


def chunker_version(max_chars: int, overlap_chars: int) -> str:
    return f"loaders{LOADERS_VERSION}-max{max_chars}-ov{overlap_chars}"


def loader_for(rel_path: str) -> str | None:
    """Module name of the loader for a corpus-relative path, or None for unknown types."""
    parts = rel_path.split("/")
    suffix = Path(rel_path).suffix.lower()
    if parts[0] == "thesis" and suffix == ".txt":
        return "thesis"
    if parts[0] == "laws" and suffix == ".xml":
        return "lovdata_xml"
    if parts[0] == "laws" and suffix in {".html", ".htm"}:
        return "lovdata_html"
    if suffix == ".pdf":
        return "pdf"
    if suffix in {".md", ".markdown", ".txt"}:
        return "text"
    return None


def discover(corpus_dir: Path) -> list[Path]:
    """Every content file under the corpus dir, sorted, without hidden and documentation files."""
    files = []
    for path in sorted(corpus_dir.rglob("*")):
        rel = path.relative_to(corpus_dir)
        if not path.is_file() or any(p.startswith(".") for p in rel.parts):
            continue
        if path.name in DOC_FILES:
            continue
        files.append(path)
    return files


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_file(path: Path, rel: str, loader: str, max_chars: int, overlap_chars: int) -> list[Chunk]:
    """Run one loader and split long chunks; raises LoaderError with a user message."""
    module = importlib.import_module(f"{__name__}.{loader}")
    try:
        chunks: list[Chunk] = module.load(path)
    except LoaderError:
        raise
    except Exception as exc:  # a loader bug or odd file must not stop the whole ingestion
        raise LoaderError(f"Kunne ikke lese {rel}: uventet feil ({type(exc).__name__}).") from exc
    if not chunks:
        raise LoaderError(f"Fant ingen tekst å indeksere i {rel}.")
    out: list[Chunk] = []
    for chunk in chunks:
        chunk.source_path = rel
        out.extend(split_chunk(chunk, max_chars, overlap_chars))
    return out


def collect(
    corpus_dir: Path,
    max_chars: int,
    overlap_chars: int,
    reuse: Callable[[str, str], list[Chunk] | None] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[FileResult]:
    """Load every corpus file. `reuse(rel, sha256)` may return chunks of an unchanged file."""
    results: list[FileResult] = []
    for path in discover(corpus_dir):
        rel = path.relative_to(corpus_dir).as_posix()
        result = FileResult(path=rel, sha256=file_sha256(path), size=path.stat().st_size)
        results.append(result)
        loader = loader_for(rel)
        if loader is None:
            result.status = "skipped"
            result.message = f"Hoppet over {rel}: ukjent filtype «{path.suffix or 'uten endelse'}»."
            continue
        result.loader = loader
        if progress:
            progress(rel)
        cached = reuse(rel, result.sha256) if reuse else None
        try:
            result.chunks = cached if cached is not None else load_file(
                path, rel, loader, max_chars, overlap_chars
            )
        except LoaderError as exc:
            result.status, result.message = "error", str(exc)
    _choose_law_versions(results)
    _drop_key_collisions(results)
    return results


def _choose_law_versions(results: list[FileResult]) -> None:
    """Where several files hold the same law, index the newest text in force; report the others."""
    by_law: dict[str, list[FileResult]] = {}
    for result in results:
        if result.status == "indexed" and result.chunks and result.chunks[0].law_id:
            by_law.setdefault(result.chunks[0].law_id, []).append(result)
    for candidates in by_law.values():
        if len(candidates) < 2:
            continue

        def rank(r: FileResult) -> tuple[int, str, bool, str]:
            # Text in force first, then the latest change, then Lovdata's own XML format.
            first = r.chunks[0]
            kind = _VERSION_RANK.get(first.version_kind, 0)
            return (kind, first.version_date, r.loader == "lovdata_xml", r.path)

        best = max(candidates, key=rank)
        for other in candidates:
            if other is not best:
                other.status = "superseded"
                other.message = (
                    f"{other.path} er ikke indeksert: nyere tekst av samme lov finnes i {best.path} "
                    f"({best.chunks[0].version_label})."
                )


def _drop_key_collisions(results: list[FileResult]) -> None:
    """Two files must never share a cite key; the later file is skipped with a message."""
    owner: dict[str, str] = {}
    for result in results:
        if result.status != "indexed":
            continue
        keys = {c.cite_key for c in result.chunks}
        clash = sorted(k for k in keys if k in owner)
        if clash:
            result.status = "error"
            result.message = (
                f"{result.path} er ikke indeksert: henvisningen {clash[0]} finnes allerede i "
                f"{owner[clash[0]]}. Gi filen et annet navn."
            )
            continue
        owner.update(dict.fromkeys(keys, result.path))
