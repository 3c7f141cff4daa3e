"""Uploads: check the municipality's own documents, save them under a safe name, and re-index."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Settings

if TYPE_CHECKING:
    from .index import BuildReport
    from .runtime import Runtime

UPLOAD_TYPES = (".pdf", ".md", ".txt")
UPLOAD_DIR = Path("strategies") / "uploads"

# Why a file was turned away, shown to the user after "<file name>: ".
REJECTED = {
    "nb": {
        "type": "filtypen er ikke tillatt (PDF, MD eller TXT).",
        "size": "filen er for stor ({size:.1f} MB, grensen er {limit:g} MB).",
        "name": "ugyldig filnavn.",
        "pdf_reason": "kunne ikke leses som PDF: {reason}.",
        "pdf": "kunne ikke leses som PDF.",
        "pages": "for mange sider ({pages}, grensen er {limit}).",
        "empty": "filen er tom.",
        "binary": "filen er ikke en tekstfil i UTF-8 (den inneholder binære data).",
    },
    "en": {
        "type": "file type not allowed (PDF, MD or TXT).",
        "size": "file too large ({size:.1f} MB, the limit is {limit:g} MB).",
        "name": "invalid file name.",
        "pdf_reason": "could not be read as a PDF.",
        "pdf": "could not be read as a PDF.",
        "pages": "too many pages ({pages}, the limit is {limit}).",
        "empty": "the file is empty.",
        "binary": "not a UTF-8 text file (it contains binary data).",
    },
}

_MAX_STEM_BYTES = 200  # a name may have 255 bytes; leaves room for the extension and a "-2" suffix


def safe_upload_name(name: str, max_len: int = 80) -> str:
    """A file name safe to write in the uploads folder: no path parts, no control or odd characters."""
    base = re.split(r"[\\/]", name.replace("\x00", ""))[-1]
    base = unicodedata.normalize("NFC", base).strip()
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = re.sub(r"[^\w]+", "-", stem, flags=re.UNICODE).strip("-_.")
    ext = re.sub(r"[^A-Za-z0-9]", "", ext).lower()[:8]
    stem = stem or "dokument"
    room = max_len - (len(ext) + 1 if ext else 0)
    stem = stem[: max(room, 1)]
    while len(stem.encode()) > _MAX_STEM_BYTES:  # file systems count bytes: 80 four-byte letters are too many
        stem = stem[:-1]
    return f"{stem}.{ext}" if ext else stem


def _unused_path(folder: Path, name: str) -> Path:
    target = folder / name
    stem, suffix = target.stem, target.suffix
    n = 2
    while target.exists():
        target = folder / f"{stem}-{n}{suffix}"
        n += 1
    return target


@dataclass
class UploadResult:
    saved: list[Path] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # Norwegian/English messages


def save_uploads(settings: Settings, files: Sequence[str | Path], lang: str | None = "nb") -> UploadResult:
    """Check type, size and pages, then copy each file into <corpus>/strategies/uploads/ under a safe name."""
    why = REJECTED["en" if lang == "en" else "nb"]
    folder = (settings.corpus_dir / UPLOAD_DIR).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    result = UploadResult()
    for item in files:
        source = Path(item)
        original = source.name
        name = safe_upload_name(original)
        ext = Path(name).suffix.lower()
        if ext not in UPLOAD_TYPES:
            result.rejected.append(f"{original}: {why['type']}")
            continue
        size_mb = source.stat().st_size / 1_000_000
        if size_mb > settings.upload_max_mb:
            result.rejected.append(f"{original}: " + why["size"].format(size=size_mb, limit=settings.upload_max_mb))
            continue
        problem = _pdf_problem(source, settings.upload_max_pages, why) if ext == ".pdf" else _text_problem(source, why)
        if problem:
            result.rejected.append(f"{original}: {problem}")
            continue
        target = _unused_path(folder, name)
        if target.resolve().parent != folder:  # belt and braces: never write outside the folder
            result.rejected.append(f"{original}: {why['name']}")
            continue
        target.write_bytes(source.read_bytes())
        result.saved.append(target)
    return result


def _pdf_problem(path: Path, max_pages: int, why: dict[str, str]) -> str:
    from .ingest.base import LoaderError
    from .ingest.pdf import page_count

    try:
        pages = page_count(path)
    except LoaderError as exc:  # the loader's reason: empty, not a PDF (ZIP?), password, damaged
        return why["pdf_reason"].format(reason=str(exc).replace(path.name, "filen", 1))
    except Exception:
        return why["pdf"]
    if pages > max_pages:
        return why["pages"].format(pages=pages, limit=max_pages)
    return ""


def _text_problem(path: Path, why: dict[str, str]) -> str:
    data = path.read_bytes()
    if not data.strip():
        return why["empty"]
    if b"\x00" in data:  # a program or image renamed to .txt/.md, or UTF-16 text the loader cannot read
        return why["binary"]
    return ""


def add_uploads(
    settings: Settings,
    runtime: Runtime,
    files: Sequence[str | Path],
    lang: str | None,
    progress: Callable[[float, str], None],
) -> tuple[UploadResult, BuildReport | None]:
    """Save the files, then re-index when any was saved (no report when none was).

    `progress(fraction, phase)` hears "save" first, then the index build's phases ("les", …). The new
    files are searchable by keyword within seconds; their vectors are made in the background.
    """
    progress(0.05, "save")
    result = save_uploads(settings, files, lang)
    if not result.saved:
        return result, None

    def on_progress(phase: str, done: int, total: int) -> None:
        progress((0.1 + 0.85 * done / total) if total else 0.1, phase)

    return result, runtime.update_index(on_progress)
