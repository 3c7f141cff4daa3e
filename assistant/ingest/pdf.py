"""Loader for PDF documents (pypdf): one chunk per page with text, keyed `<doc-id>/p<page>`."""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

from assistant.ingest.base import Chunk, LoaderError, normalize_space, slugify
from assistant.ingest.text import paragraphs_from_lines

_PAGE_NUMBER = re.compile(
    r"^(side\s+|s\.\s*|page\s+)?\d{1,3}(\s*(av|/|of)\s*\d{1,3})?$", re.IGNORECASE
)
_BAD_TITLE = re.compile(
    r"^(untitled|uten tittel|dokument\d*|document\d*|microsoft (word|powerpoint)|powerpoint)\b"
    r"|\.(docx?|pdf|pptx?|odt|indd)$",
    re.IGNORECASE,
)
_ZIP_MAGIC = b"PK\x03\x04"
# what pypdf raises on damaged files besides its own errors
_READ_ERRORS = (
    PyPdfError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    RecursionError,
)


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """Silence pypdf's log records and warnings while reading; restores the logger afterwards."""
    logger = logging.getLogger("pypdf")
    old_level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(old_level)


def _check_bytes(path: Path) -> None:
    """Reject empty, non-PDF and truncated files before pypdf sees them."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(1024)
            handle.seek(max(0, size - 2048))
            tail = handle.read()
    except OSError as exc:
        raise LoaderError(f"Kunne ikke lese {path.name}: {exc.strerror or exc}") from exc
    if size == 0:
        raise LoaderError(f"{path.name} er tom (0 byte)")
    if b"%PDF-" not in head:
        hint = (
            " (ser ut som en ZIP-fil, f.eks. et Word-dokument med feil filendelse)"
            if head.startswith(_ZIP_MAGIC)
            else ""
        )
        raise LoaderError(f"{path.name} er ikke en PDF-fil{hint}")
    if b"%%EOF" not in tail:
        raise LoaderError(
            f"{path.name} er ufullstendig eller skadet (avkortet PDF-fil, mangler filslutt)"
        )


def _open(path: Path) -> PdfReader:
    """Open the PDF; decrypt with the empty password if needed, else refuse."""
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            try:
                result = reader.decrypt("")
            except DependencyError as exc:
                raise LoaderError(
                    f"{path.name} er kryptert med en metode som ikke støttes her"
                ) from exc
            if result == PasswordType.NOT_DECRYPTED:
                raise _locked(path)
        return reader
    except LoaderError:
        raise
    except FileNotDecryptedError as exc:
        raise _locked(path) from exc
    except _READ_ERRORS as exc:
        raise LoaderError(
            f"{path.name} er skadet eller ikke en gyldig PDF-fil ({type(exc).__name__})"
        ) from exc


def _locked(path: Path) -> LoaderError:
    return LoaderError(f"{path.name} er passordbeskyttet og kan ikke leses uten passord")


def _page_lines(reader: PdfReader, index: int) -> list[str]:
    """The page's text lines without bare page numbers; [] for pages without text or unreadable."""
    try:
        raw = reader.pages[index].extract_text() or ""
    except FileNotDecryptedError:
        raise
    except Exception:
        return []
    lines = [line for line in raw.splitlines() if not _PAGE_NUMBER.match(normalize_space(line))]
    return lines if any(line.strip() for line in lines) else []


def _title(reader: PdfReader, first_lines: list[str], path: Path) -> str:
    """Title from metadata if sensible, else the first heading-like line, else the file name."""
    try:
        meta = reader.metadata
        raw = meta.title if meta else None
    except _READ_ERRORS:
        raw = None
    meta_title = normalize_space(str(raw)) if raw else ""
    if (
        3 <= len(meta_title) <= 200
        and re.search(r"[A-Za-zÆØÅæøå]{3}", meta_title)
        and not _BAD_TITLE.search(meta_title)
    ):
        return meta_title
    for raw_line in [line for line in first_lines if line.strip()][:5]:
        line = normalize_space(raw_line)
        if (
            3 <= len(line) <= 120
            and re.search(r"[A-Za-zÆØÅæøå]{3}", line)
            and not line.endswith((",", ";"))
        ):
            return line
    return path.stem


def _count_pages(path: Path, reader: PdfReader) -> int:
    try:
        return len(reader.pages)
    except FileNotDecryptedError as exc:
        raise _locked(path) from exc
    except _READ_ERRORS as exc:
        raise LoaderError(
            f"{path.name} er skadet: sidene kan ikke leses ({type(exc).__name__})"
        ) from exc


def page_count(path: Path) -> int:
    """Number of pages without reading any text; raises LoaderError for the same reasons as load()."""
    _check_bytes(path)
    with _quiet_pypdf():
        return _count_pages(path, _open(path))


def load(path: Path, *, max_pages: int | None = None) -> list[Chunk]:
    """Load a PDF as one chunk per page with extractable text; raises LoaderError if unreadable."""
    _check_bytes(path)
    with _quiet_pypdf():
        reader = _open(path)
        n_pages = _count_pages(path, reader)
        if n_pages == 0:
            raise LoaderError(f"{path.name} har ingen sider")
        if max_pages is not None and n_pages > max_pages:
            raise LoaderError(f"{path.name} har {n_pages} sider, mer enn grensen på {max_pages}")
        try:
            pages = [_page_lines(reader, i) for i in range(n_pages)]
        except FileNotDecryptedError as exc:
            raise LoaderError(
                f"{path.name} er passordbeskyttet og kan ikke leses uten passord"
            ) from exc
        if not any(pages):
            raise LoaderError(f"{path.name} inneholder ingen tekst (skannet?)")
        title = _title(reader, next(p for p in pages if p), path)
    texts = ["\n\n".join(paragraphs_from_lines(lines, blank_breaks=True)) for lines in pages]
    doc_id = slugify(path.stem)
    return [
        Chunk(
            text=text,
            cite_key=f"{doc_id}/p{i}",
            title=title,
            source_type="strategy",
            section=f"s. {i}",
            page=i,
        )
        for i, text in enumerate(texts, start=1)
        if text
    ]
