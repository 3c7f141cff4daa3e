"""Loader for Lovdata's "XML-compatible HTML" bulk files (corpus/laws/lovdata/*.xml).

Each `<article class="legalArticle">` becomes one chunk; its cite key is the lovdata.no path of its
`data-lovdata-URL` (CONTRACTS.md §1). Choices worth knowing:

- Articles that are not paragraphs keep their own path: the GDPR articles that Lovdata embeds in
  personopplysningsloven (`NL/lov/2018-06-15-38/gdpr/a6`) get the key `lov/2018-06-15-38/gdpr/a6`.
- Paragraphs of other laws quoted in an amendment section (`futureLegalArticle`, e.g. kommuneloven
  § 31-6) are not chunks of their own; they stay in the text of the amending paragraph.
- A repeated address would get a `_2` suffix (lawmeta.unique_keys); none of the shipped files has one.
- Amendment notes (`changesToParent`) and footnotes (`<footer>`) go to `amendments`, not the text; a
  footnote reference is kept in the text as `[1]` and its note reads `[1] …`.
- Lettered list items read "a) …" (Lovdata's "a." markers in consolidated files become "a)", as in
  Lovtidend and on lovdata.no); numbered items keep "1.".
- A document-level note "Loven oppheves ved lov …" (forvaltningsloven 1967) marks every paragraph
  as pending repeal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from lxml import etree

from .base import Chunk, LoaderError, VersionKind, normalize_space
from .lawmeta import (
    NOT_IN_FORCE,
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
_HEADERS = {"legalArticleHeader", "futureLegalArticleHeader"}
_CONTAINERS = {"futureLegalArticle", "document-change", "change"}
_ARTICLE_URL = re.compile(r"^(?:[A-Za-z]+/)?((?:lov|forskrift)/\d{4}-\d{2}-\d{2}(?:-\d+)?)/(.+)$")
# Acts Lovdata embeds inside a Norwegian law, by the first segment of the article path.
_EMBEDDED_ACTS = {"gdpr": "personvernforordningen (GDPR)"}


@dataclass
class _Doc:
    """What every chunk of one file shares."""

    law: str
    title: str
    short: str
    kind: VersionKind
    version_date: str
    pending_repeal: str


def load(path: Path) -> list[Chunk]:
    """Read one Lovdata XML file into one chunk per legalArticle."""
    root = _parse(path)
    articles = [e for e in root.iter("{*}article") if e.get("class") == "legalArticle"]
    if not articles:
        raise LoaderError(
            f"{path.name} er ikke et Lovdata-dokument: fant ingen paragrafer (legalArticle)."
        )
    doc = _document(root, path)
    chunks = [_chunk(article, doc) for article in articles]
    for chunk, key in zip(chunks, unique_keys([c.cite_key for c in chunks]), strict=True):
        chunk.cite_key = key
    return chunks


def _parse(path: Path) -> etree._Element:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoaderError(f"Kan ikke lese {path.name}: {exc.strerror or exc}.") from exc
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True,
                             remove_comments=True, remove_pis=True)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        where = f" (linje {exc.lineno})" if exc.lineno else ""
        raise LoaderError(
            f"{path.name} er ikke et Lovdata-dokument: filen er ikke gyldig XML{where}."
        ) from exc


def _document(root: etree._Element, path: Path) -> _Doc:
    """Law identity and version from the document header."""
    meta = {dd.get("class", ""): _text(dd) for dd in root.iter("{*}dd")}
    main = next(root.iter("{*}main"), None)
    dokid = meta.get("dokid") or (main.get("data-lovdata-URL") or "" if main is not None else "")
    try:
        law = law_id(dokid)
    except ValueError:
        raise LoaderError(
            f"{path.name} er ikke et Lovdata-dokument: fant ingen dokument-ID (dokid)."
        ) from None
    title = meta.get("title") or _text(next(root.iter("{*}title"), None))
    kind, when = _version(dokid, law, meta)
    return _Doc(law, title, short_name(law, title), kind, when, _document_repeal(main))


def _version(dokid: str, law: str, meta: dict[str, str]) -> tuple[VersionKind, str]:
    """(version_kind, ISO version date): consolidated NL/SF texts vs Lovtidend (LTI) texts."""
    prefix = dokid.split("/", 1)[0].upper()
    if prefix in {"NL", "SF"}:
        changed_by = meta.get("lastChangedBy", "")
        in_force = re.search(r"fra\s+(\d{4}-\d{2}-\d{2})", changed_by)
        when = (iso_date(meta.get("lastChangeInForce", "")) or (in_force[1] if in_force else "")
                or iso_date(changed_by) or iso_date(law))
        return "current", when
    if prefix == "LTI":
        starts = iso_date(meta.get("dateInForce", ""))
        waiting = law in NOT_IN_FORCE or (bool(starts) and starts > date.today().isoformat())
        return ("not_in_force" if waiting else "as_enacted"), iso_date(law)
    return "", iso_date(law)


def _document_repeal(main: etree._Element | None) -> str:
    """A note before the first chapter that the whole law will be repealed ('Loven oppheves …')."""
    if main is None:
        return ""
    for child in main:
        if not isinstance(child.tag, str):
            continue
        if _tag(child) == "section":
            break
        text = _text(child)
        note = pending_repeal_note(text)
        if note and text.startswith(note):
            return text
    return ""


def _chunk(article: etree._Element, doc: _Doc) -> Chunk:
    """One legalArticle as a chunk."""
    notes: list[str] = []
    blocks = _blocks(article, notes)
    header = next((c for c in article if c.get("class") == "legalArticleHeader"), None)
    spans = {s.get("class"): s for s in header.iter("{*}span")} if header is not None else {}
    name = article.get("data-name", "")
    paragraph = _text(spans.get("legalArticleValue"), refs=False)
    paragraph = paragraph or name.replace("§", "§ ").strip()
    heading = _text(spans.get("legalArticleTitle"), refs=False)
    if header is None:
        blocks.insert(0, f"{paragraph}. {heading}" if heading else paragraph)
    key, act = _key(article, doc.law, name or paragraph)
    pending = next((p for p in map(pending_repeal_note, notes) if p), "") or doc.pending_repeal
    display = f"{act} {paragraph[:1].lower()}{paragraph[1:]}" if act else paragraph
    return Chunk(
        text="\n\n".join(blocks),
        cite_key=key,
        title=paragraph_title(f"{doc.short}," if act else doc.short, display, heading),
        source_type="law",
        section=paragraph,
        law_id=doc.law,
        law_title=doc.title,
        law_short=doc.short,
        chapter=_chapter(article),
        paragraph=paragraph,
        heading=heading,
        version_kind=doc.kind,
        version_date=doc.version_date,
        version_label=version_label(doc.kind, doc.version_date),
        url=law_url(key),
        amendments=notes,
        repealed=is_repealed_heading(heading) or all(map(is_repealed_heading, blocks[1:])),
        pending_repeal=pending,
    )


def _key(article: etree._Element, law: str, name: str) -> tuple[str, str]:
    """(cite key, embedded act name or '') from the article's lovdata.no address."""
    match = _ARTICLE_URL.match(article.get("data-lovdata-URL", "").strip())
    key_law, rest = (law_id(match[1]), match[2]) if match else (law, name.strip())
    if rest.startswith("§"):
        return cite_key(key_law, rest), ""
    rest = re.sub(r"\s+", "", rest)
    return f"{key_law}/{rest}", _EMBEDDED_ACTS.get(rest.split("/", 1)[0].lower(), "")


def _chapter(article: etree._Element) -> str:
    """Heading of the nearest enclosing chapter ('Kapittel …'), else of the nearest section."""
    headings = []
    for section in article.iterancestors("{*}section"):
        heads = [c for c in section if isinstance(c.tag, str) and _HEADING.fullmatch(_tag(c))]
        if heads:
            headings.append(_text(heads[0], refs=False))
    chapters = [h for h in headings if re.match(r"kapittel\b", h, re.IGNORECASE)]
    return (chapters or headings or [""])[0]


def _blocks(element: etree._Element, notes: list[str]) -> list[str]:
    """The ledd of an article as text blocks; amendment notes and footnotes go to `notes`."""
    blocks: list[str] = []
    for child in element:
        if not isinstance(child.tag, str):
            continue
        cls = child.get("class", "")
        if cls in _HEADERS:
            blocks.append(_text(child, refs=False))
        elif cls == "changesToParent":
            notes.append(_text(child))
        elif _tag(child) == "footer":
            notes.extend(_footnote(note) for note in child if isinstance(note.tag, str))
        elif cls in _CONTAINERS:
            blocks.extend(_blocks(child, notes))
        elif lines := _lines(child):
            blocks.append("\n".join(lines))
        if child.tail and child.tail.strip():
            blocks.append(normalize_space(child.tail))
    return blocks


def _lines(element: etree._Element) -> list[str]:
    """Readable lines of one block: inline text, with each list item and sub-block on new lines."""
    lines: list[str] = []
    buffer: list[str] = [element.text or ""]

    def flush() -> None:
        lines.extend(t for t in (normalize_space(p) for p in "".join(buffer).split("\n")) if t)
        buffer.clear()

    for child in element:
        tag = _tag(child) if isinstance(child.tag, str) else ""
        if tag in {"ul", "ol"}:
            flush()
            lines.extend(_list_lines(child))
        elif tag == "tr":
            flush()
            cells = [_text(c) for c in child if isinstance(c.tag, str) and _tag(c) in {"td", "th"}]
            if any(cells):
                lines.append(" | ".join(c for c in cells if c))
        elif tag in {"article", "p", "div", "section", "table", "tbody", "thead", "tfoot"}:
            flush()
            lines.extend(_lines(child))
        elif tag:
            _inline(child, buffer, refs=True, self_br=True)
        buffer.append(child.tail or "")
    flush()
    return lines


def _list_lines(lst: etree._Element) -> list[str]:
    """One line per list item, starting with its letter or number."""
    out: list[str] = []
    items = [li for li in lst if isinstance(li.tag, str) and _tag(li) == "li"]
    for index, item in enumerate(items):
        lines = _lines(item)
        if lines:
            lines[0] = f"{_marker(item, lst, index)} {lines[0]}".strip()
        out.extend(lines)
    return out


def _marker(item: etree._Element, lst: etree._Element, index: int) -> str:
    """'a)' for lettered items, '1.' for numbered ones, '–' for bullets."""
    name = (item.get("data-name") or "").strip()
    if re.fullmatch(r"[a-zæøå]\.", name):
        return name[0] + ")"
    if name:
        return name
    value = int(item.get("value") or index + 1)
    if _tag(lst) == "ol" and (lst.get("type") or "").lower() == "a":
        return (_LETTERS[value - 1] if value <= len(_LETTERS) else str(value)) + ")"
    return f"{value}." if _tag(lst) == "ol" else "–"


def _footnote(note: etree._Element) -> str:
    label = next((e for e in note if e.get("class") == "footnoteLabel"), None)
    text = _text(note)
    mark = _text(label)
    if mark and text.startswith(mark):
        return f"[{mark}] {text[len(mark):].strip()}"
    return text


def _text(element: etree._Element | None, refs: bool = True) -> str:
    """Whitespace-normalised text of an element (footnote references as '[n]' or dropped)."""
    if element is None:
        return ""
    parts: list[str] = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str):
            _inline(child, parts, refs=refs, self_br=True)
        parts.append(child.tail or "")
    return normalize_space(" ".join(p for p in "".join(parts).split("\n")))


def _inline(element: etree._Element, parts: list[str], refs: bool, self_br: bool = False) -> None:
    """Append the inline text of an element (without its tail) to parts."""
    tag = _tag(element)
    if self_br and tag == "br":
        parts.append("\n")
        return
    if element.get("class") == "footnotereference":
        if refs:
            parts.append(f"[{_text(element, refs=False)}]")
        return
    parts.append(element.text or "")
    for child in element:
        if isinstance(child.tag, str):
            _inline(child, parts, refs=refs, self_br=True)
        parts.append(child.tail or "")


def _tag(element: etree._Element) -> str:
    return etree.QName(element).localname.lower()
