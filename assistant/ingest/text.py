"""Loader for Markdown (.md) and plain text (.txt) documents, plus a shared paragraph joiner."""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.ingest.base import Chunk, LoaderError, normalize_space, slugify

_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_NUMBERED = re.compile(r"^(?P<num>[1-9]\d?(?:\.\d{1,2}){0,4})\.?\s+(?P<text>\S.*)$")
_TXT_NUMBERED = re.compile(r"^[1-9]\d?(?:\.\d{1,2}){0,4}\.?(?:\s+[A-ZÆØÅ0-9«\"(].*)?$")
_LIST_ITEM = re.compile(r"^([•▪◦●■]|([\-–*]|\d{1,2}[.)])\s)")
_CAPTION = re.compile(r"^(Figur|Figure|Tabell|Table)\s+\d", re.IGNORECASE)
_TERMINAL = re.compile(r"[.!?:][»”\"')\]]*$")
_PAGE_NUMBER = re.compile(r"^\s*\d{1,3}\s*$")
_CONJUNCTIONS = {"og", "eller", "samt", "and", "or", "til", "enn"}


def decode_bytes(data: bytes) -> str:
    """Decode a text file: UTF-8 (BOM allowed), else cp1252, else latin-1 (never fails)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _starts_lower(line: str) -> bool:
    return bool(line) and line[0].islower()


def _starts_upper(line: str) -> bool:
    first = line.lstrip("«\"'(")[:1]
    return bool(first) and (first.isupper() or first.isdigit())


def _join(prev: str, line: str, tight: bool) -> str:
    """Join two lines of one paragraph.

    A hyphen that ends the previous line right after a letter, with no space after it in the
    source (`tight`), is kept and the next line follows without a space ("case-" + "kommunens");
    before a conjunction ("helse- og omsorg") or after "- " the space stays.
    """
    first_word = line.split(" ", 1)[0].lower()
    hyphen = len(prev) > 1 and prev.endswith("-") and prev[-2].isalpha() and line[:1].isalpha()
    if tight and hyphen and first_word not in _CONJUNCTIONS:
        return prev + line
    return f"{prev} {line}"


def paragraphs_from_lines(
    lines: list[str], blank_breaks: bool = False, typical: float | None = None
) -> list[str]:
    """Join wrapped lines into paragraphs; words are never changed, only spaces between lines.

    A new paragraph starts before a list item or a figure/table caption, after a caption, and when
    the next line starts with a capital letter (or digit) while the previous line either ends with
    sentence punctuation and is shorter than 80 % of the typical line, or is shorter than half of it
    (titles, table cells). A line starting in lower case always continues the paragraph. With
    `blank_breaks`, blank lines in the input also end paragraphs (otherwise they are ignored).
    `typical` is the usual full line length; by default the median of the lines given.
    """
    clean = [normalize_space(line) for line in lines]
    tight = [line.rstrip("\r\n").endswith("-") for line in lines]
    if typical is None:
        typical = typical_width(clean)
    paragraphs: list[str] = []
    current = ""
    in_list = False
    prev = ""
    prev_tight = False
    for line, is_tight in zip(clean, tight, strict=True):
        if not line:
            if blank_breaks and current:
                paragraphs.append(current)
                current, prev, in_list = "", "", False
            continue
        if current and _is_break(prev, line, typical, in_list):
            paragraphs.append(current)
            current = ""
        if not current:
            current, in_list = line, bool(_LIST_ITEM.match(line))
        else:
            current = _join(current, line, prev_tight)
        prev, prev_tight = line, is_tight
    if current:
        paragraphs.append(current)
    return paragraphs


def typical_width(lines: list[str]) -> float:
    """Median length of the lines of at least 20 characters (80 when there are none)."""
    lengths = [len(normalize_space(line)) for line in lines]
    lengths = [n for n in lengths if n >= 20]
    return float(statistics.median(lengths)) if lengths else 80.0


def _is_break(prev: str, line: str, typical: float, in_list: bool) -> bool:
    if _LIST_ITEM.match(line) or _CAPTION.match(line) or _CAPTION.match(prev):
        return True
    if not _starts_upper(line) or prev.endswith(("-", ",", ";")):
        return False
    if _TERMINAL.search(prev) and (len(prev) < 0.8 * typical or in_list):
        return True
    return len(prev) < 0.5 * typical


@dataclass
class _Section:
    heading: str  # heading text as written (without '#')
    level: int
    path: list[str]
    lines: list[str] = field(default_factory=list)


def _split(lines: list[str], heading_at: Callable[[int], tuple[int, str] | None]) -> tuple[list[str], list[_Section]]:
    """Split lines into a preamble and sections at the lines `heading_at` recognises, nesting by level."""
    preamble: list[str] = []
    sections: list[_Section] = []
    stack: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        found = heading_at(i)
        if found:
            level, heading = found
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading))
            sections.append(_Section(heading, level, [h for _, h in stack]))
        elif sections:
            sections[-1].lines.append(line)
        else:
            preamble.append(line)
    return preamble, sections


def _md_sections(lines: list[str]) -> tuple[list[str], list[_Section]]:
    """Split Markdown lines at ATX headings, ignoring '#' lines inside code fences."""
    fenced: list[bool] = []
    in_fence = False
    for line in lines:
        in_fence = in_fence != bool(_FENCE.match(line))
        fenced.append(in_fence)

    def heading_at(i: int) -> tuple[int, str] | None:
        match = None if fenced[i] else _MD_HEADING.match(lines[i])
        return (len(match.group(1)), normalize_space(match.group(2))) if match else None

    return _split(lines, heading_at)


def _is_txt_heading(lines: list[str], i: int) -> bool:
    """A plain-text heading: a short standalone line, numbered ("2.3 Tittel") or in capitals."""
    line = lines[i].strip()
    if not line or len(line) > 80 or line.endswith((".", ",", ";")):
        return False
    before = lines[i - 1].strip() if i > 0 else ""
    after = lines[i + 1].strip() if i + 1 < len(lines) else ""
    if before or after:  # headings stand alone between blank lines
        return False
    letters = [c for c in line if c.isalpha()]
    if len(letters) >= 3 and all(c.isupper() for c in letters):
        return True
    return bool(_TXT_NUMBERED.match(line)) and bool(letters)


def _txt_sections(lines: list[str]) -> tuple[list[str], list[_Section]]:
    """Split plain text at heading-like lines; numbered headings nest by their depth."""

    def heading_at(i: int) -> tuple[int, str] | None:
        if not _is_txt_heading(lines, i):
            return None
        heading = normalize_space(lines[i])
        match = _NUMBERED.match(heading)
        return (match.group("num").count(".") + 1 if match else 1), heading

    return _split(lines, heading_at)


def _body(lines: list[str]) -> str:
    """Normalise spaces per line, keep blank-line paragraph breaks, drop surplus blank lines."""
    text = "\n".join(normalize_space(line) for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _double_spaced(lines: list[str]) -> bool:
    """True for extracted text with a blank line after (nearly) every line, like PDF dumps."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    if len(filled) < 10:
        return False
    followed = sum(1 for i in filled if i + 1 < len(lines) and not lines[i + 1].strip())
    return followed >= 0.8 * len(filled)


def _body_joined(lines: list[str]) -> str:
    """Body of double-spaced text: infer paragraphs, drop lone page numbers."""
    kept = [line for line in lines if not _PAGE_NUMBER.match(line)]
    return "\n\n".join(paragraphs_from_lines(kept, typical=max(typical_width(kept), 60.0)))


def _section_slug(heading: str) -> str:
    match = _NUMBERED.match(heading)
    return match.group("num") if match else slugify(heading)


def load(path: Path) -> list[Chunk]:
    """Load a Markdown or plain text document as one chunk per headed section."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoaderError(f"Kunne ikke lese {path.name}: {exc.strerror or exc}") from exc
    if b"\x00" in data:  # a program or image renamed to .txt/.md, or UTF-16 text
        raise LoaderError(f"{path.name} er ikke en tekstfil i UTF-8 (den inneholder binære data)")
    text = decode_bytes(data).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise LoaderError(
            f"{path.name} er tom" + (" (0 byte)" if not data else " (bare blanke tegn)")
        )
    lines = text.split("\n")
    markdown = path.suffix.lower() in {".md", ".markdown"}
    preamble, sections = _md_sections(lines) if markdown else _txt_sections(lines)
    body = _body_joined if not markdown and _double_spaced(lines) else _body
    doc_id = slugify(path.stem)
    title = path.stem
    h1s = [s for s in sections if s.level == 1]
    if markdown and h1s:
        title = h1s[0].heading
        if len(h1s) == 1 and sections[0] is h1s[0]:  # the H1 is the document title, not a section
            preamble = preamble + sections.pop(0).lines
            for section in sections:
                section.path = section.path[1:]
    chunks: list[Chunk] = []
    used: dict[str, int] = {}

    def add(slug: str, heading: str, section: str, body: str) -> None:
        if not body:
            return
        used[slug] = used.get(slug, 0) + 1
        key = slug if used[slug] == 1 else f"{slug}-{used[slug]}"
        chunks.append(
            Chunk(
                text=f"{heading}\n\n{body}",
                cite_key=f"{doc_id}/{key}",
                title=f"{title} › {heading}",
                source_type="strategy",
                section=section,
            )
        )

    add("innledning", "Innledning", "Innledning", body(preamble))
    for sec in sections:
        add(_section_slug(sec.heading), sec.heading, " › ".join(sec.path), body(sec.lines))
    if not chunks:
        raise LoaderError(f"{path.name} inneholder bare overskrifter og ingen tekst")
    return chunks
