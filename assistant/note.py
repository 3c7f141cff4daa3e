"""The decision note: one answer as a structured note a municipal lawyer can put in a saksframlegg.

`build_note` turns an Answer into a small document model (sections of paragraphs, lists, sub-headings and
quotes made of styled text spans with links); `assistant.note_render` renders that one model as Markdown,
Word (.docx) and PDF, so the content is written once. Sections that do not apply to the answer are left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from .answer import Answer, Citation, Lang
from .ingest.provenance import fetch_dates
from .texts.answer import BASIS_LABEL, KIND_LABEL, NOTICE, VERDICT_LABEL, long_date
from .texts.export import NOTE_TEXTS


@dataclass(frozen=True)
class Span:
    """A run of text with one style; `url` makes it a link."""

    text: str
    bold: bool = False
    italic: bool = False
    url: str = ""


# lead: a short bold label that introduces the list below it and stays on its page
ParagraphStyle = Literal["body", "lead", "quote", "meta", "warning", "notice"]


@dataclass
class Paragraph:
    spans: list[Span]
    style: ParagraphStyle = "body"


@dataclass
class ItemList:
    items: list[list[Span]]
    ordered: bool = False


@dataclass
class SubHeading:
    """A heading inside a section (one per law paragraph under «Rettslig grunnlag»)."""

    text: str


Block = Paragraph | ItemList | SubHeading


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Note:
    lang: Lang
    title: str
    meta: list[Span]
    sections: list[Section]
    closing: list[Paragraph] = field(default_factory=list)  # the guidance notice and where the law texts are from

    def section(self, title: str) -> Section | None:
        return next((s for s in self.sections if s.title == title), None)


def texts(lang: Lang) -> dict[str, Any]:
    return NOTE_TEXTS["en" if lang == "en" else "nb"]


# --- where the law texts come from -------------------------------------------------------------------------

def law_texts_fetched(corpus_dir: Path) -> list[date]:
    """The dates the corpus's law texts were fetched (ingest.provenance), oldest first; for a file whose
    fetch date is only known as a range, its latest possible date."""
    return sorted({date.fromisoformat(f.date) for f in fetch_dates(corpus_dir).values()})


# --- inline Markdown of the composed answer → spans ---------------------------------------------------------

_INLINE = re.compile(
    r"\*\*(?P<bold>.+?)\*\*"
    r"|(?<![\w*])\*(?P<italic>[^\s*](?:.*?[^\s*])?)\*(?![\w*])"
    r"|\[(?P<label>[^\]]+)\]\((?P<url>[^)\s]+)\)"
    r"|<(?P<auto>https?://[^>\s]+)>"
    r"|`(?P<code>[^`]+)`"
)


def inline(text: str, bold: bool = False, italic: bool = False) -> list[Span]:
    """The composer's inline Markdown (**bold**, *italic*, [links](…), <urls>, `code`) as spans."""
    spans: list[Span] = []
    pos = 0
    for match in _INLINE.finditer(text):
        if match.start() > pos:
            spans.append(Span(text[pos : match.start()], bold, italic))
        if match["bold"] is not None:
            spans.extend(inline(match["bold"], True, italic))
        elif match["italic"] is not None:
            spans.extend(inline(match["italic"], bold, True))
        elif match["url"] is not None:
            spans.append(Span(match["label"], bold, italic, match["url"]))
        elif match["auto"] is not None:
            spans.append(Span(link_text(match["auto"]), bold, italic, match["auto"]))
        else:
            spans.append(Span(match["code"], bold, italic))
        pos = match.end()
    if pos < len(text):
        spans.append(Span(text[pos:], bold, italic))
    return [s for s in spans if s.text]


def link_text(url: str) -> str:
    """A URL as printed: without the scheme, so a printed note still shows where it points."""
    return re.sub(r"^https?://(www\.)?", "", url).rstrip("/")


# --- weight labels ------------------------------------------------------------------------------------------

_MARKER = re.compile(r"\[(\d+)\]")
_LABELLED = re.compile(r"^\*\*[^*]+\*\*\s*[:·]")  # the composer already put a weight label first


def markers(text: str) -> list[int]:
    return list(dict.fromkeys(int(n) for n in _MARKER.findall(text)))


def _weight(numbers: Sequence[int], by_number: Mapping[int, Citation], lang: Lang) -> str:
    """The weight labels of the cited sources (Lov, Forskning, …); Samskap's own assessment when none."""
    labels = BASIS_LABEL[lang]
    found = [labels[by_number[n].basis] for n in numbers if n in by_number]
    return " · ".join(dict.fromkeys(found)) or labels["vurdering"]


def claim(text: str, by_number: Mapping[int, Citation], lang: Lang) -> list[Span]:
    """One claim with its weight label first («Forskning: … [3]»), unless it already starts with one."""
    text = text.strip()
    if _LABELLED.match(text):
        return inline(re.sub(r"^\*\*([^*]+)\*\*\s*:", r"**\1:**", text))
    return [Span(f"{_weight(markers(text), by_number, lang)}: ", bold=True), *inline(text)]


# --- the note -----------------------------------------------------------------------------------------------


def build_note(
    answer: Answer,
    case: Mapping[str, str] | None = None,
    lang: Lang | None = None,
    laws_fetched: Sequence[date] = (),
    today: date | None = None,
) -> Note:
    """The decision note for one answer; `laws_fetched` from `law_texts_fetched`."""
    lang = "en" if (lang or answer.language) == "en" else "nb"
    t = texts(lang)
    role = t["roles"].get(answer.role, answer.role)
    meta = [Span(f"{t['date']}: ", bold=True), Span(long_date(today or date.today(), lang)),
            Span(f"   {t['role']}: ", bold=True), Span(role)]
    note = Note(lang, t["title"], meta, [Section(t["question"], [Paragraph([Span(answer.question.strip())])])])
    rows = [(k, v.strip()) for k, v in (case or {}).items() if v and v.strip()]
    if rows:
        note.sections.append(Section(t["case"], [ItemList(
            [[Span(k if k.endswith("?") else f"{k}:", bold=True), Span(f" {v}")] for k, v in rows])]))
    if answer.refused:  # a refusal note holds the question and the refusal, nothing else
        note.sections.append(Section(t["refused"], [Paragraph(inline(answer.text.strip()))]))
        return note

    by_number = {c.number: c for c in answer.citations}
    summary = answer.summary.strip() or _first_paragraph(answer.text)
    if summary:
        note.sections.append(Section(t["short"], [
            Paragraph(inline(summary)),
            Paragraph(_basis_line(summary, by_number, lang), "meta"),
        ]))
    if answer.fit:
        note.sections.append(_assessment(answer, by_number, lang))
    laws = rests_on(answer, summary)
    if laws:
        note.sections.append(Section(t["legal"], [b for c in laws for b in _law_blocks(c, lang)]))
    if answer.methods and answer.kind in ("case", "method"):  # a method only when the answer recommends one
        note.sections.append(_method(answer, by_number, lang))
    if answer.open_questions:
        note.sections.append(Section(t["open"], [ItemList([inline(q) for q in answer.open_questions])]))
    if answer.citations:  # all of the answer's sources, also those only its details cite (the note is complete)
        note.sections.append(Section(t["sources"], [ItemList([_source(c, lang) for c in answer.citations])]))
    note.closing.append(Paragraph(inline(NOTICE[lang]), "notice"))
    if answer.law_citations and laws_fetched:
        first, last = long_date(laws_fetched[0], lang), long_date(laws_fetched[-1], lang)
        line = t["fetched"].format(date=first) if first == last else t["fetched_updated"].format(first=first, last=last)
        note.closing.append(Paragraph([Span(line)], "meta"))
    return note


def _first_paragraph(text: str) -> str:
    """The short answer of an answer composed without `summary` (older answers): its first paragraph."""
    first = text.strip().split("\n\n", 1)[0]
    return re.sub(r"^\*\*[^*]+:\*\*\s*", "", first)


def _basis_line(summary: str, by_number: Mapping[int, Citation], lang: Lang) -> list[Span]:
    """«Grunnlag: [1] Lov · [2] Forskning» under the short answer: the weight of each source it cites."""
    t, labels = texts(lang), BASIS_LABEL[lang]
    cited = [n for n in markers(summary) if n in by_number]
    parts = [f"[{n}] {labels[by_number[n].basis]}" for n in cited] or [labels["vurdering"]]
    return [Span(f"{t['basis']}: ", bold=True), Span(" · ".join(parts))]


def rests_on(answer: Answer, summary: str = "") -> list[Citation]:
    """The law paragraphs the answer rests on: those its unfolded text (summary, key points, the role's
    section) or a fit criterion cites; without those, every law citation. The rest of the law cited in the
    details stays under «Kilder»."""
    laws = answer.law_citations
    in_summary = set(markers(summary or answer.summary))
    in_text = set(markers(answer.text)) | in_summary
    criteria = {k for c in (answer.fit.criteria if answer.fit else []) for k in c.cites}
    chosen = [c for c in laws if c.number in in_text or c.key in criteria]
    chosen = chosen or laws
    return sorted(chosen, key=lambda c: (c.number not in in_summary, c.number))


def _law_blocks(c: Citation, lang: Lang) -> list[Block]:
    t = texts(lang)
    facts = [Span(BASIS_LABEL[lang]["lov"], bold=True)]
    if c.kind in KIND_LABEL[lang]:
        facts += [Span(" · "), Span(KIND_LABEL[lang][c.kind], bold=True)]
    if c.version:
        facts.append(Span(f" · {t['version']}: {c.version}"))
    if c.url:
        facts += [Span(" · "), Span(link_text(c.url), url=c.url)]
    blocks: list[Block] = [SubHeading(f"[{c.number}] {c.title}"), Paragraph(facts, "meta")]
    if c.quote.strip():
        blocks.append(Paragraph([Span(f"«{' '.join(c.quote.split())}»")], "quote"))
    if c.warning:
        blocks.append(Paragraph([Span(f"⚠ {c.warning}")], "warning"))
    return blocks


def _assessment(answer: Answer, by_number: Mapping[int, Citation], lang: Lang) -> Section:
    t = texts(lang)
    fit = answer.fit
    assert fit is not None
    blocks: list[Block] = [Paragraph([Span(f"{t['fit']} ", bold=True),
                                      Span(f"{BASIS_LABEL[lang]['vurdering']}: "),
                                      Span(VERDICT_LABEL[lang][fit.verdict], bold=True)])]
    if fit.criteria:
        numbers = {c.key: c.number for c in answer.citations}
        items = []
        for status in ("met", "not_met", "unknown"):
            for criterion in (c for c in fit.criteria if c.status == status):
                refs = "".join(f"[{numbers[k]}]" for k in criterion.cites if k in numbers)
                item = [Span(f"{t['status'][status]}: ", bold=True), Span(criterion.label)]
                if criterion.evidence.strip():
                    item += [Span(" – "), *inline(criterion.evidence.strip())]
                if refs:
                    item.append(Span(f" {refs}"))
                items.append(item)
        blocks.append(ItemList(items))
    elif fit.reasons:  # no criteria yet: the reasons, under the verdict line's «Samskaps vurdering»
        blocks.append(ItemList([inline(r) for r in fit.reasons]))
    return Section(t["assessment"], blocks)


def _method(answer: Answer, by_number: Mapping[int, Citation], lang: Lang) -> Section:
    t = texts(lang)
    best = answer.methods[0]
    blocks: list[Block] = [SubHeading(best.name)]
    if best.why:
        blocks += [Paragraph([Span(t["why"], bold=True)], "lead"), ItemList([claim(w, by_number, lang) for w in best.why])]
    if best.steps:
        blocks += [Paragraph([Span(t["steps"], bold=True)], "lead"),
                   ItemList([claim(s, by_number, lang) for s in best.steps], ordered=True)]
    if best.caveats:
        blocks += [Paragraph([Span(t["caveats"], bold=True)], "lead"),
                   ItemList([claim(c, by_number, lang) for c in best.caveats])]
    others = [m.name for m in answer.methods[1:4]]
    if others:
        blocks.append(Paragraph([Span(f"{t['alternatives']}: ", bold=True), Span(", ".join(others))]))
    return Section(t["method"], blocks)


def _source(c: Citation, lang: Lang) -> list[Span]:
    t = texts(lang)
    title = c.title
    if c.basis == "forskning":  # «4 Funn og drøfting › … › 4.2.4 Nettverk» → «4.2.4 Nettverk» (the key names it)
        title = title.rsplit("›", 1)[-1].strip()
    spans = [Span(f"[{c.number}] "), Span(BASIS_LABEL[lang][c.basis], bold=True), Span(f" · {title}")]
    if c.version:
        spans.append(Span(f" ({t['version'].lower()}: {c.version})"))
    if c.url:
        spans += [Span(" · "), Span(link_text(c.url), url=c.url)]
    elif not c.key.startswith(("lov/", "forskrift/")):
        spans.append(Span(f" · {c.key}"))
    return spans
