"""The chunk model shared by every loader, and small text helpers."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Literal

SourceType = Literal["thesis", "law", "strategy"]
# as_enacted: the Lovtidend text without later amendments; current: consolidated text in force;
# not_in_force: adopted (as enacted) but not yet in force.
VersionKind = Literal["as_enacted", "current", "not_in_force", ""]


class LoaderError(Exception):
    """A file cannot be read. The message is Norwegian and meant for users; it names the reason."""


@dataclass
class Chunk:
    """One retrievable passage with everything needed to cite it."""

    text: str
    cite_key: str
    title: str
    source_type: SourceType
    source_path: str = ""  # path relative to the corpus dir, set by the ingest pipeline
    section: str = ""  # heading path ("2 Teori > 2.4 Metoder > 2.4.3 Living lab") or "§ 5-7"
    page: int | None = None
    part: int = 0  # index of this chunk within its cite key when a section is split
    # Laws only
    law_id: str = ""  # lovdata key prefix, e.g. "lov/2018-06-22-83"
    law_title: str = ""  # "Lov om kommuner og fylkeskommuner (kommuneloven)"
    law_short: str = ""  # "Kommuneloven"
    chapter: str = ""  # "Kapittel 5. Folkevalgte organer …"
    paragraph: str = ""  # "§ 5-7"
    heading: str = ""  # "Utvalg"
    version_kind: VersionKind = ""
    version_date: str = ""  # ISO date of the text version (enactment or last change in force)
    version_label: str = ""  # shown to users: "gjeldende, sist endret 20.06.2025"
    url: str = ""
    amendments: list[str] = field(default_factory=list)  # "Endret ved lov …" notes
    repealed: bool = False  # "(Opphevet)": the paragraph no longer holds law
    pending_repeal: str = ""  # "Oppheves ved lov …": adopted repeal not yet in force

    @property
    def chunk_id(self) -> str:
        """Unique id within an index: the cite key plus the part number."""
        return f"{self.cite_key}#{self.part}"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Chunk:
        return cls(**data)  # type: ignore[arg-type]

    def metadata(self) -> dict[str, str | int | float | bool]:
        """Flat metadata for a vector store (scalars only; lists joined with newlines)."""
        out: dict[str, str | int | float | bool] = {}
        for key, value in asdict(self).items():
            if key == "text" or value is None:
                continue
            out[key] = "\n".join(value) if isinstance(value, list) else value
        return out


_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u3000]+")


def normalize_space(text: str) -> str:
    """Collapse runs of horizontal whitespace to one space and strip; never changes words."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def slugify(name: str) -> str:
    """File-name slug used as doc id: lower case ASCII-ish, æøå kept as ae/o/a, '-' separated."""
    table = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "ae", "Ø": "o", "Å": "a"})
    text = unicodedata.normalize("NFKD", name.translate(table))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "dokument"


def split_paragraphs(text: str, max_chars: int, overlap_chars: int) -> list[str]:
    """Split text at blank-line paragraph boundaries into pieces of at most ~max_chars.

    Consecutive pieces overlap by whole trailing paragraphs of up to overlap_chars. A single
    paragraph longer than max_chars is split at sentence ends (or, failing that, at spaces).
    """
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    units: list[str] = []
    for para in paragraphs:
        units.extend(_split_long(para, max_chars))
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for unit in units:
        # Flush only a piece with substance: a heading (or overlap tail) alone stays with what follows.
        if current and size > overlap_chars and size + len(unit) + 2 > max_chars:
            pieces.append("\n\n".join(current))
            tail: list[str] = []
            tail_size = 0
            for prev in reversed(current):
                if tail_size + len(prev) > overlap_chars:
                    break
                tail.insert(0, prev)
                tail_size += len(prev) + 2
            current, size = tail, tail_size
        current.append(unit)
        size += len(unit) + 2
    if current:
        pieces.append("\n\n".join(current))
    return pieces


def _split_long(para: str, max_chars: int) -> list[str]:
    if len(para) <= max_chars:
        return [para]
    sentences = re.split(r"(?<=[.!?:;])\s+", para)
    out: list[str] = []
    buf = ""
    for sentence in sentences:
        while len(sentence) > max_chars:  # no sentence end in reach: cut at a space
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            if buf:
                out.append(buf)
                buf = ""
            out.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if buf and len(buf) + 1 + len(sentence) > max_chars:
            out.append(buf)
            buf = sentence
        else:
            buf = f"{buf} {sentence}".strip()
    if buf:
        out.append(buf)
    return out


def split_chunk(chunk: Chunk, max_chars: int, overlap_chars: int) -> list[Chunk]:
    """Split a chunk whose text is too long; the parts share the cite key and number `part`."""
    if len(chunk.text) <= max_chars:
        return [chunk]
    pieces = split_paragraphs(chunk.text, max_chars, overlap_chars)
    out = []
    for i, piece in enumerate(pieces):
        data = chunk.to_dict()
        data.update(text=piece, part=i)
        out.append(Chunk.from_dict(data))
    return out
