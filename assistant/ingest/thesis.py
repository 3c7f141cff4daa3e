"""Loader for the master's thesis text: one chunk per numbered section, keyed `thesis/<number>`.

The text was extracted from a PDF: a blank line after nearly every line, bare page numbers on their
own lines, figure and table text one cell per line, and link annotations repeated as bare URLs.

Heading recognition: a candidate is a line "N. Text" or "N.N[.N…][.] Text" whose text starts with a
capital letter, without table-of-contents dot leaders. Candidates also match numbered list items,
so the headings are the longest chain of candidates in which each number is a plausible successor
of the previous one (first child `.1`, or the next sibling of it or of an ancestor, allowing one
missing number such as the absent chapter 6); ties go to the chain whose sections hold more text,
which keeps a table of contents (entries with no text between them) out. Lines between a
"Innholdsfortegnelse"/"Contents" line and the next section are dropped.

Before chapter 1: the title lines and the Norwegian summary form `thesis/sammendrag`, the English
abstract `thesis/abstract` (split at lines reading "Sammendrag" / "Abstract").

Normalisation never changes words: lone page numbers are dropped, bare URL lines that repeat a URL
just seen are dropped, footnote lines ("1 https://…") are moved to the end of their section, and
lines are joined into paragraphs by `text.paragraphs_from_lines` (see there for the heuristic).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from assistant.ingest.base import Chunk, LoaderError, normalize_space
from assistant.ingest.text import decode_bytes, paragraphs_from_lines, typical_width

_CANDIDATE = re.compile(r"^(?P<num>[1-9]\d?(?:\.\d{1,2}){0,4})(?P<dot>\.?)\s+(?P<text>\S.*)$")
_LEADERS = re.compile(r"(\.\s?){4,}|…{2,}|_{4,}|\t\s*\d{1,3}\s*$")
_PAGE_NUMBER = re.compile(r"^\d{1,3}$")
_FOOTNOTE = re.compile(r"^\d{1,2} (https?://|www\.)\S+$")
_BARE_URL = re.compile(r"^(mailto:|https?://|www\.)\S+$")
_PRE_MARKERS = {
    "sammendrag": "sammendrag",
    "abstract": "abstract",
    "innholdsfortegnelse": "toc",
    "innhold": "toc",
    "table of contents": "toc",
    "contents": "toc",
}
_SENTENCE_END = (".", "!", "?", ":", ";", ",")


@dataclass
class _Candidate:
    line: int
    number: tuple[int, ...]
    text: str
    body_chars: int = 0


def _candidates(lines: list[str]) -> list[_Candidate]:
    """Heading-like lines; a one-level number needs its trailing dot ("5. Konklusjon")."""
    found: list[_Candidate] = []
    for i, raw in enumerate(lines):
        line = normalize_space(raw)
        match = _CANDIDATE.match(line)
        if not match or len(line) > 160 or _LEADERS.search(line):
            continue
        number = tuple(int(p) for p in match.group("num").split("."))
        text = match.group("text")
        first = text.lstrip("«\"'(")[:1]
        needs_dot = len(number) == 1 and not match.group("dot")  # "1 https://…" is a footnote
        if needs_dot or not (first.isalpha() and first.isupper()):
            continue
        found.append(_Candidate(i, number, text))
    for cand, nxt in zip(found, [*found[1:], None], strict=True):
        end = nxt.line if nxt else len(lines)
        cand.body_chars = sum(len(lines[j].strip()) for j in range(cand.line + 1, end))
    return found


def _follows(prev: tuple[int, ...], cur: tuple[int, ...]) -> bool:
    """Whether heading `cur` may come right after heading `prev` (one skipped number allowed)."""
    if cur == (*prev, 1):
        return True
    level = len(cur)
    return (
        level <= len(prev)
        and cur[: level - 1] == prev[: level - 1]
        and prev[level - 1] < cur[-1] <= prev[level - 1] + 2
    )


def _heading_chain(cands: list[_Candidate]) -> list[_Candidate]:
    """The longest plausible heading sequence; ties go to the one with more body text."""
    if not cands:
        return []
    best: list[tuple[int, int]] = []
    back: list[int] = []
    for i, cand in enumerate(cands):
        score, prev_i = (1 if cand.number[0] == 1 else 0, cand.body_chars), -1
        for j in range(i):
            if best[j][0] > 0 and _follows(cands[j].number, cand.number):
                option = (best[j][0] + 1, best[j][1] + cand.body_chars)
                if option > score:
                    score, prev_i = option, j
        if score[0] == 0:  # a chain must start at chapter 1 ("1.", "1.1." …)
            score = (0, 0)
        best.append(score)
        back.append(prev_i)
    i = max(range(len(cands)), key=lambda k: best[k])
    if best[i][0] == 0:
        return []
    chain: list[_Candidate] = []
    while i >= 0:
        chain.append(cands[i])
        i = back[i]
    return chain[::-1]


def _heading_continuation(lines: list[str], cand: _Candidate) -> tuple[str, int]:
    """A long heading wrapped onto the next line ("… bidra til økt" / "samskapingspraksis?")."""
    text = cand.text
    if len(text) < 45 or text.endswith(_SENTENCE_END):
        return text, cand.line
    for j in range(cand.line + 1, min(cand.line + 4, len(lines))):
        nxt = normalize_space(lines[j])
        if not nxt:
            continue
        if nxt[0].islower() and len(nxt) <= 60:
            return f"{text} {nxt}", j
        break
    return text, cand.line


def _clean_lines(lines: list[str]) -> tuple[list[str], list[str]]:
    """Drop page numbers and repeated bare URLs; return (body lines, footnote lines)."""
    body: list[str] = []
    notes: list[str] = []
    for line in lines:
        norm = normalize_space(line)
        if _PAGE_NUMBER.match(norm):
            continue
        if _FOOTNOTE.match(norm):
            notes.append(norm)
            continue
        if _BARE_URL.match(norm):
            url = norm.removeprefix("mailto:").rstrip(").,")
            recent = " ".join(body[-60:] + notes)
            if url in recent:
                continue
        body.append(line)
    return body, notes


def _text_of(heading: str, blocks: list[list[str]], width: float) -> str:
    """Chunk text: heading line, then paragraphs (footnotes last), separated by blank lines.

    Each block is joined into paragraphs on its own, so no paragraph spans two blocks.
    """
    parts = [heading]
    notes: list[str] = []
    for block in blocks:
        body, block_notes = _clean_lines(block)
        parts.extend(paragraphs_from_lines(body, typical=width))
        notes.extend(block_notes)
    return "\n\n".join(p for p in parts + notes if p)


def _split_front(lines: list[str]) -> dict[str, list[list[str]]]:
    """Split the text before chapter 1 into sammendrag (title lines first) and abstract blocks."""
    parts: dict[str, list[list[str]]] = {"sammendrag": [[]], "abstract": []}
    current = "sammendrag"
    for line in lines:
        marker = _PRE_MARKERS.get(normalize_space(line).lower().rstrip(":"))
        if marker:
            current = marker
            if marker != "toc":
                parts[marker].append([])
            continue
        if current != "toc":
            parts[current][-1].append(line)
    return parts


def _path_item(cand: _Candidate, text: str) -> str:
    return ".".join(str(n) for n in cand.number) + " " + text


def load(path: Path) -> list[Chunk]:
    """Load the thesis text as section chunks keyed `thesis/<section number>`."""
    try:
        raw = decode_bytes(path.read_bytes())
    except OSError as exc:
        raise LoaderError(f"Kunne ikke lese {path.name}: {exc.strerror or exc}") from exc
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    chain = _heading_chain(_candidates(lines))
    if not chain:
        raise LoaderError(f"Fant ingen nummererte kapitler i {path.name}")
    width = typical_width(lines)
    chunks: list[Chunk] = []
    front = _split_front(lines[: chain[0].line])
    front_title = {"sammendrag": "Sammendrag", "abstract": "Abstract"}
    for name, part in front.items():
        text = _text_of(front_title[name], part, width)
        if text != front_title[name]:
            chunks.append(
                Chunk(
                    text, f"thesis/{name}", front_title[name], "thesis", section=front_title[name]
                )
            )
    trail: list[tuple[tuple[int, ...], str]] = []
    for cand, nxt in zip(chain, [*chain[1:], None], strict=True):
        heading_text, last = _heading_continuation(lines, cand)
        end = nxt.line if nxt else len(lines)
        trail = [
            (n, t) for n, t in trail if n == cand.number[: len(n)] and len(n) < len(cand.number)
        ]
        trail.append((cand.number, _path_item(cand, heading_text)))
        title = " › ".join(t for _, t in trail)
        heading_line = ".".join(str(n) for n in cand.number) + ". " + heading_text
        key = "thesis/" + ".".join(str(n) for n in cand.number)
        text = _text_of(heading_line, [lines[last + 1 : end]], width)
        chunks.append(Chunk(text, key, title, "thesis", section=title))
    keys = [c.cite_key for c in chunks]
    if len(keys) != len(set(keys)):  # cannot happen with a strictly increasing chain; guard anyway
        raise LoaderError(f"Dupliserte avsnittsnumre i {path.name}")
    return chunks
