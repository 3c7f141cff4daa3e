"""Loader for current law texts rendered as HTML pages (corpus/laws/lovdata-current/*.html).

The pages (sondreskarsten/norwegian-laws, see PROVENANCE.md) are flat: a heading per paragraph
(h3/h4/h5 depending on the law; recognised by its text starting with "§"), chapter headings, then one
`<p>` per ledd and `<ul>` lists. Choices worth knowing:

- Lists lost their letters in this rendering; items get "a) ", "b) " … back in order. The wrapper
  level of double-nested lists (`<li><ul><li>…`) is skipped. Opplæringslova's "a. …" lines inside
  one `<p>` are kept as they are, one per line.
- A `<p>` holding nothing but `<em>` is a note ("Endret ved …", "Endra ved …", footnotes): it goes to
  `amendments`. A note "Oppheves ved lov …" / "Vert oppheva ved lov …" also sets `pending_repeal`.
- Text under a heading that is not a paragraph (a chapter intro, "Vedlegg") belongs to no chunk.
- Rendering quirks (text moved before lists, spaces around old link anchors) are kept as they are.
"""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from .base import Chunk, LoaderError, normalize_space
from .lawmeta import (
    cite_key,
    is_repealed_heading,
    iso_date,
    law_id,
    law_url,
    paragraph_title,
    pending_repeal_note,
    short_name,
    unique_keys,
    version_label,
)

_LETTERS = "abcdefghijklmnopqrstuvwxyzæøå"
_HEADING = re.compile(r"h[1-6]")
_PARAGRAPH = re.compile(r"(§\s*[^.]+?)\s*\.\s*(.*)", re.DOTALL)
_SITE_PARTS = {"nav", "footer", "header", "script", "style", "aside", "form"}
_SITE_CLASSES = {"metadata", "version-banner", "history-links", "breadcrumb"}


class _Paragraph:
    """A paragraph being collected: heading line, ledd blocks and notes."""

    def __init__(self, line: str, chapter: str) -> None:
        match = _PARAGRAPH.fullmatch(line)
        self.paragraph = normalize_space(match[1]) if match else line
        self.heading = normalize_space(match[2]) if match else ""
        self.line = line
        self.chapter = chapter
        self.blocks: list[str] = []
        self.notes: list[str] = []


def load(path: Path) -> list[Chunk]:
    """Read one rendered current-law page into one chunk per paragraph."""
    root = _parse(path)
    for link in list(root.iter("a")):
        if "history" in (link.get("class") or ""):  # "⧉ historikk" links in headings
            link.drop_tree()
    meta = _metadata(root)
    try:
        law = law_id(meta.get("refid") or path.stem)
    except ValueError:
        raise LoaderError(
            f"{path.name} er ikke en lovtekst fra Lovdata: fant ingen lov-ID (Refid)."
        ) from None
    title = _law_title(root)
    paragraphs, document_notes = _collect(root)
    if not paragraphs:
        raise LoaderError(
            f"{path.name} er ikke en lovtekst fra Lovdata: fant ingen paragrafer (§)."
        )
    short = short_name(law, title)
    when = iso_date(meta.get("sist endret", "")) or iso_date(meta.get("ikrafttredelse", ""))
    whole_law = next((n for n in document_notes if pending_repeal_note(n) == n), "")
    keys = [cite_key(law, p.paragraph) for p in paragraphs]
    chunks = []
    for para, key, unique in zip(paragraphs, keys, unique_keys(keys), strict=True):
        pending = next((p for p in map(pending_repeal_note, para.notes) if p), "") or whole_law
        chunks.append(Chunk(
            text="\n\n".join([para.line, *para.blocks]),
            cite_key=unique,
            title=paragraph_title(short, para.paragraph, para.heading),
            source_type="law",
            section=para.paragraph,
            law_id=law,
            law_title=title,
            law_short=short,
            chapter=para.chapter,
            paragraph=para.paragraph,
            heading=para.heading,
            version_kind="current",
            version_date=when,
            version_label=version_label("current", when),
            url=law_url(key),
            amendments=para.notes,
            repealed=_is_repealed(para),
            pending_repeal=pending,
        ))
    return chunks


def _parse(path: Path) -> HtmlElement:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoaderError(f"Kan ikke lese {path.name}: {exc.strerror or exc}.") from exc
    try:
        return lxml.html.document_fromstring(data, parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (etree.ParserError, ValueError) as exc:
        raise LoaderError(
            f"{path.name} er ikke en lovtekst fra Lovdata: filen er tom eller ikke HTML."
        ) from exc


def _metadata(root: HtmlElement) -> dict[str, str]:
    """The page's metadata list (Refid, Ikrafttredelse, Sist endret …), keys in lower case."""
    meta: dict[str, str] = {}
    for dt in root.iter("dt"):
        dd = dt.getnext()
        if dd is not None and dd.tag == "dd":
            key = normalize_space(dt.text_content()).lower()
            meta.setdefault(key, normalize_space(dd.text_content()))
    return meta


def _law_title(root: HtmlElement) -> str:
    h1 = next(root.iter("h1"), None)
    if h1 is not None and h1.text_content().strip():
        return normalize_space(h1.text_content())
    title = next(root.iter("title"), None)
    text = normalize_space(title.text_content()) if title is not None else ""
    return re.split(r"\s+[—–|]\s+", text)[0]


def _collect(root: HtmlElement) -> tuple[list[_Paragraph], list[str]]:
    """Walk the page in order; return the paragraphs and the notes before the first paragraph."""
    paragraphs: list[_Paragraph] = []
    document_notes: list[str] = []
    levels: list[tuple[int, str]] = []  # open non-paragraph headings: (level, text)
    current: _Paragraph | None = None
    body = root.find("body")
    for element in _content(body if body is not None else root):
        tag = element.tag
        if isinstance(tag, str) and _HEADING.fullmatch(tag):
            text = normalize_space(element.text_content())
            if text.startswith("§"):
                current = _Paragraph(text, _chapter(levels))
                paragraphs.append(current)
            elif tag != "h1":
                level = int(tag[1])
                levels = [(lv, t) for lv, t in levels if lv < level] + [(level, text)]
                current = None
        elif tag == "p" and _is_note(element):
            notes = [normalize_space(line) for line in element.text_content().split("\n")]
            if current is not None:
                current.notes.extend(n for n in notes if n)
            elif not paragraphs:
                document_notes.extend(n for n in notes if n)
        elif current is not None and tag in {"ul", "ol"}:
            lines = _list_lines(element, 0)
            if current.blocks and lines:  # a list continues the ledd that introduces it
                current.blocks[-1] += "\n" + "\n".join(lines)
            elif lines:
                current.blocks.append("\n".join(lines))
        elif current is not None and (lines := _lines(element)):
            current.blocks.append("\n".join(lines))
    return paragraphs, document_notes


def _content(container: HtmlElement) -> list[HtmlElement]:
    """Content elements in document order, without the site's navigation, metadata and footer."""
    out: list[HtmlElement] = []
    for child in container:
        if not isinstance(child.tag, str) or child.tag in _SITE_PARTS:
            continue
        if _SITE_CLASSES & set((child.get("class") or "").split()):
            continue
        if child.tag in {"div", "main", "section", "article"}:
            out.extend(_content(child))
        else:
            out.append(child)
    return out


def _chapter(levels: list[tuple[int, str]]) -> str:
    """The innermost open 'Kapittel …' heading, else the innermost heading, else ''."""
    chapters = [text for _, text in levels if re.match(r"kapittel\b", text, re.IGNORECASE)]
    return (chapters or [text for _, text in levels] or [""])[-1]


def _is_note(p: HtmlElement) -> bool:
    """A <p> whose only content is one <em>: an amendment note or footnote."""
    children = [c for c in p if isinstance(c.tag, str)]
    return (
        len(children) == 1 and children[0].tag == "em" and not (p.text or "").strip()
        and not (children[0].tail or "").strip()
    )


def _lines(element: HtmlElement) -> list[str]:
    """Lines of a block; line breaks inside it (opplæringslova's 'a. …' lists) are kept."""
    return [t for t in (normalize_space(line) for line in element.text_content().split("\n")) if t]


def _list_lines(lst: HtmlElement, depth: int) -> list[str]:
    """One line per item with 'a) ', 'b) ' … added; nested lists follow their item."""
    out: list[str] = []
    for index, item in enumerate(_items(lst)):
        out.append(f"{_marker(index, depth)} {_own_text(item)}")
        for sub in _sublists(item):
            out.extend(_list_lines(sub, depth + 1))
    return out


def _items(lst: HtmlElement) -> list[HtmlElement]:
    """The list's items, looking through wrapper items that hold nothing but a list."""
    out: list[HtmlElement] = []
    for item in lst:
        if item.tag != "li":
            continue
        if not _own_text(item) and _sublists(item):
            for sub in _sublists(item):
                out.extend(_items(sub))
        else:
            out.append(item)
    return out


def _sublists(item: HtmlElement) -> list[HtmlElement]:
    return [c for c in item if c.tag in {"ul", "ol"}]


def _own_text(item: HtmlElement) -> str:
    """An item's text without its nested lists."""
    parts = [item.text or ""]
    for child in item:
        if isinstance(child.tag, str) and child.tag not in {"ul", "ol"}:
            parts.append(child.text_content())
        parts.append(child.tail or "")
    return normalize_space(" ".join("".join(parts).split("\n")))


def _marker(index: int, depth: int) -> str:
    """'a)' … 'å)' for the top level, '1)' … for nested lists."""
    if depth == 0 and index < len(_LETTERS):
        return f"{_LETTERS[index]})"
    return f"{index + 1})"


def _is_repealed(para: _Paragraph) -> bool:
    """'(Opphevet)' as the heading or as the only text, or no text at all."""
    return is_repealed_heading(para.heading) or all(is_repealed_heading(b) for b in para.blocks)
