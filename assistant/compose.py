"""The offline composer: advisor result + passages → a Markdown answer with numbered, quoted citations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from .advisor import FitAssessment, MethodMatch
from .answer import Basis, Citation, Lang, MethodAdvice, Role
from .catalogue import Catalogue, Claim, LegalEntry, Method
from .index import Index
from .ingest.base import Chunk
from .ingest.lawmeta import MONTHS, in_force_date
from .textproc import tokenize

NOTICE = {
    "nb": "*Dette er veiledning, ikke juridisk rådgivning. Kontroller gjeldende lovtekst på lovdata.no.*",
    "en": "*This is guidance, not legal advice. Check the text in force on lovdata.no.*",
}
BASIS_LABEL = {
    "nb": {"lov": "Lov", "strategi": "Kommunal strategi", "forskning": "Forskning", "vurdering": "Samskaps vurdering"},
    "en": {
        "lov": "Law",
        "strategi": "Municipal strategy",
        "forskning": "Research",
        "vurdering": "Samskap's assessment",
    },
}
VERDICT_LABEL = {
    "nb": {"suited": "Egner seg", "not_suited": "Egner seg ikke", "depends": "Kommer an på"},
    "en": {"suited": "Suited", "not_suited": "Not suited", "depends": "It depends"},
}
KIND_LABEL = {
    "nb": {"skal": "Skal", "kan": "Kan", "kan_ikke": "Kan ikke", "krever_hjemmel": "Krever hjemmel", "merk": "Merk"},
    "en": {
        "skal": "Must",
        "kan": "May",
        "kan_ikke": "May not",
        "krever_hjemmel": "Needs a legal basis",
        "merk": "Note",
    },
}
T = {
    "nb": {
        "short": "Kort svar",
        "fit": "Passer samskaping?",
        "methods": "Anbefalte metoder",
        "why": "Hvorfor",
        "start": "Slik kommer dere i gang",
        "caveats": "Vær obs på",
        "checklist": "Sjekkliste",
        "legal": "Juridisk ramme",
        "open": "Åpne spørsmål til kommuneadvokaten",
        "differ": "Oppgaven og dagens lov",
        "law_text": "Lovtekst",
        "passages": "Fra kildene",
        "sources": "Kilder",
        "none": "Korpuset gir ikke et sikkert svar på dette spørsmålet.",
        "not_in_force": "Ikke i kraft ennå",
        "repealed": "Opphevet",
        "pending": "Oppheving er vedtatt",
        "repealed_since": "Opphevet fra {date} ifølge endringsnotatet; teksten i korpuset er eldre enn "
        "opphevingen – kontroller gjeldende rett på lovdata.no eller kjør `python -m assistant update-laws`",
    },
    "en": {
        "short": "Short answer",
        "fit": "Does co-creation fit?",
        "methods": "Recommended methods",
        "why": "Why",
        "start": "How to get started",
        "caveats": "Watch out for",
        "checklist": "Checklist",
        "legal": "Legal basis",
        "open": "Open questions for the municipal lawyer",
        "differ": "The thesis and today's law",
        "law_text": "Statutory text",
        "passages": "From the sources",
        "sources": "Sources",
        "none": "The corpus does not give a reliable answer to this question.",
        "not_in_force": "Not yet in force",
        "repealed": "Repealed",
        "pending": "Repeal adopted",
        "repealed_since": "Repealed from {date} according to the amendment note; the corpus text predates "
        "the repeal – check the law in force on lovdata.no or run `python -m assistant update-laws`",
    },
}


def _sentences(text: str, min_chars: int = 20) -> list[str]:
    """Sentences of a passage with whitespace collapsed; `min_chars=0` keeps short ones (for windows)."""
    flat = " ".join(text.split())
    return [s for s in re.split(r"(?<=[.!?:;])\s+", flat) if len(s) > min_chars]


def best_quote(chunks: list[Chunk], hint: str, max_chars: int = 320, window: int = 1) -> str:
    """The run of `window` consecutive sentences that best matches the hint; an exact substring
    of the passage (with whitespace collapsed)."""
    hint_tokens = set(tokenize(hint))
    best, best_score = "", -1.0
    for chunk in chunks:
        sentences = _sentences(chunk.text, min_chars=0)  # consecutive, so a window stays one substring
        for start in range(len(sentences)):
            candidate = " ".join(sentences[start : start + window])
            if len(candidate) <= 20:
                continue
            overlap = len(hint_tokens & set(tokenize(candidate)))
            score = overlap - 0.001 * len(candidate)
            if score > best_score:
                best, best_score = candidate, score
    if not best and chunks:
        best = " ".join(chunks[0].text.split())
    return best if len(best) <= max_chars else best[:max_chars].rsplit(" ", 1)[0]


@dataclass
class CitationBook:
    """Numbers citations in order of first use; every key must exist in the index."""

    index: Index
    lang: Lang
    items: list[Citation] = field(default_factory=list)

    def cite(self, key: str, hint: str = "", quote: str = "", basis: Basis | None = None, kind: str = "") -> str:
        """Register a citation and return its marker '[n]' (empty when the key is not in the index)."""
        chunks = self.index.by_key.get(key)
        if not chunks:
            return ""
        for item in self.items:
            if item.key == key:
                return f"[{item.number}]"
        first = chunks[0]
        if not quote or not any(_norm(quote) in _norm(c.text) for c in chunks):
            quote = best_quote(chunks, hint or first.title)
        self.items.append(
            Citation(
                key=key,
                title=first.title,
                quote=quote,
                url=first.url,
                version=first.version_label,
                basis=basis or _basis_of(first),
                number=len(self.items) + 1,
                warning=law_warning(first, self.lang),
                kind=kind,
            )
        )
        return f"[{len(self.items)}]"

    def cite_all(self, keys: list[str], hint: str = "") -> str:
        return "".join(self.cite(k, hint) for k in keys)


def _norm(text: str) -> str:
    return " ".join(text.split())


def _basis_of(chunk: Chunk) -> Basis:
    return {"law": "lov", "strategy": "strategi"}.get(chunk.source_type, "forskning")  # type: ignore[return-value]


def law_warning(chunk: Chunk, lang: Lang, today: date | None = None) -> str:
    t = T[lang]
    if chunk.version_kind == "not_in_force":
        return f"{t['not_in_force']} ({chunk.version_label})"
    if chunk.repealed:
        return t["repealed"]
    if chunk.pending_repeal:
        when = in_force_date(chunk.pending_repeal)
        if when and when <= (today or date.today()):
            # The repeal has taken effect since the corpus text was fetched: the quoted text is history.
            return t["repealed_since"].format(date=_long_date(when, lang)) + f" ({chunk.pending_repeal})"
        return f"{t['pending']}: {chunk.pending_repeal}"
    return ""


_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


def _long_date(day: date, lang: Lang) -> str:
    if lang == "nb":
        return f"{day.day}. {MONTHS[day.month - 1]} {day.year}"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def label(basis: Basis, lang: Lang) -> str:
    return f"**{BASIS_LABEL[lang][basis]}**"


@dataclass
class Composition:
    summary: str
    text: str
    methods: list[MethodAdvice]
    citations: list[Citation]


def compose(
    *,
    question: str,
    lang: Lang,
    role: Role,
    index: Index,
    catalogue: Catalogue,
    fit: FitAssessment | None,
    methods: list[MethodMatch],
    legal: list[LegalEntry],
    direct_keys: list[str],
    evidence: list[Chunk],
) -> Composition:
    """Write the answer; project leaders get methods and steps first, legal staff the legal basis first."""
    book = CitationBook(index, lang)
    method_advice: list[MethodAdvice] = []

    def method_section() -> list[str]:
        method_advice.extend(_method_advice(catalogue.method(m.id), m, book, lang, question) for m in methods[:3])
        return _method_section(method_advice, lang)

    first_method = catalogue.method(methods[0].id).name.text(lang) if methods else ""
    short = _short_answer(fit, first_method, legal, direct_keys, book, lang, role, bool(evidence))
    builders = {
        "law": lambda: _law_text(direct_keys, book, lang) + _legal_sections(legal, book, lang, role),
        "fit": lambda: _fit_section(fit, book, lang),
        "methods": method_section,
        "checklist": lambda: _checklist(catalogue, methods, book, lang),
        "passages": lambda: _passages(evidence, book, lang, question),
    }
    # Citations are numbered in order of first use, so sections are built in display order.
    order = (
        ["law", "fit", "methods", "passages"]
        if role == "jurist"
        else ["fit", "methods", "checklist", "law", "passages"]
    )
    parts = [f"**{T[lang]['short']}:** {short}"]
    for name in order:
        parts += builders[name]()
    parts.append(_sources(book, lang))
    if any(c.basis == "lov" for c in book.items):
        parts.append(NOTICE[lang])
    return Composition(short, "\n\n".join(p for p in parts if p), method_advice, book.items)


def _short_answer(
    fit: FitAssessment | None,
    method_name: str,
    legal: list[LegalEntry],
    direct: list[str],
    book: CitationBook,
    lang: Lang,
    role: Role,
    has_passages: bool,
) -> str:
    en = lang == "en"
    first_statement = legal[0].statements[0] if legal and legal[0].statements else None
    if direct:
        chunk = book.index.by_key[direct[0]][0]
        return (
            f"{chunk.title} is quoted below" if en else f"{chunk.title} er sitert nedenfor"
        ) + f" {book.cite(direct[0])}."
    if role == "jurist" and first_statement:
        return f"{first_statement.text(lang)} {book.cite(first_statement.cite, quote=first_statement.quote)}"
    if fit:
        verdict = VERDICT_LABEL[lang][fit.verdict]
        lead = {
            "suited": "Ja" if not en else "Yes",
            "not_suited": "Nei" if not en else "No",
            "depends": "Det kommer an på" if not en else "It depends",
        }[fit.verdict]
        text = f"{lead} – {verdict.lower()}. {fit.reasons[0].text} {book.cite_all(fit.reasons[0].cites)}"
        if method_name and fit.verdict != "not_suited":
            text += (" Start with: " if en else " Start med: ") + f"**{method_name}**."
        return text
    if method_name:
        return (
            f"The best match is **{method_name}** (see below)."
            if en
            else f"Best egnet er **{method_name}** (se nedenfor)."
        )
    if first_statement:
        return f"{first_statement.text(lang)} {book.cite(first_statement.cite, quote=first_statement.quote)}"
    if has_passages:
        return (
            "The most relevant passages are quoted below."
            if en
            else "De mest relevante utdragene er gjengitt nedenfor."
        )
    return T[lang]["none"]


def _fit_section(fit: FitAssessment | None, book: CitationBook, lang: Lang) -> list[str]:
    if fit is None:
        return []
    lines = [f"### {T[lang]['fit']} {VERDICT_LABEL[lang][fit.verdict]}"]
    for reason in fit.reasons:
        basis: Basis = "lov" if all(c.startswith(("lov/", "forskrift/")) for c in reason.cites) else "forskning"
        lines.append(f"- {label(basis, lang)}: {reason.text} {book.cite_all(reason.cites, reason.text)}")
    return ["\n".join(lines)]


def _claim(item: Claim, book: CitationBook, lang: Lang) -> str:
    lead = f"{label(item.basis, lang)}: " if item.source_note else ""  # Samskap's inference says so
    return f"{lead}{item.text(lang)} {book.cite_all(list(item.cites), item.text(lang))}".strip()


def _method_advice(entry: Method, match: MethodMatch, book: CitationBook, lang: Lang, question: str) -> MethodAdvice:
    def relevant(items: list[Claim], n: int) -> list[Claim]:
        q = set(tokenize(question))
        return sorted(items, key=lambda it: -len(q & set(tokenize(it.text(lang)))))[:n]

    why = [_claim(entry.summary, book, lang)] + [_claim(i, book, lang) for i in relevant(entry.fits_when, 2)]
    if match.cues:  # what in the question pointed here: Samskap's own inference, shown as such
        matched = ", ".join(f"«{c}»" for c in match.cues[:5])
        why.append(f"{label('vurdering', lang)}: " + (f"the case mentions {matched}" if lang == "en"
                                                       else f"saken nevner {matched}"))
    caveats = [_claim(i, book, lang) for i in relevant(entry.org_caveats, 2)]
    caveats += [_claim(i, book, lang) for i in entry.not_when[:1]]
    steps = [_claim(i, book, lang) for i in entry.steps[:3]]
    cites = list(dict.fromkeys([*entry.summary.cites, *entry.evidence]))
    return MethodAdvice(
        id=entry.id,
        name=entry.name.text(lang),
        score=match.score,
        why=why,
        caveats=caveats,
        citations=[k for k in cites if k in book.index.by_key],
        steps=steps,
    )


def _method_section(methods: list[MethodAdvice], lang: Lang) -> list[str]:
    if not methods:
        return []
    t = T[lang]
    lines = [f"### {t['methods']}"]
    for number, method in enumerate(methods, start=1):
        lines.append(f"{number}. **{method.name}** — {label('forskning', lang)}: {method.why[0]}")
        for why in method.why[1:]:
            lines.append(f"   - {t['why']}: {why}")
        for step in method.steps:
            lines.append(f"   - {t['start']}: {step}")
        for caveat in method.caveats:
            lines.append(f"   - {t['caveats']}: {caveat}")
    return ["\n".join(lines)]


def _checklist(catalogue: Catalogue, methods: list[MethodMatch], book: CitationBook, lang: Lang) -> list[str]:
    if not methods:
        return []
    items = catalogue.method(methods[0].id).legal_caveats
    if not items:
        return []
    lines = [f"### {T[lang]['checklist']}"]
    for item in items[:5]:
        lines.append(f"- [ ] {label('vurdering', lang)}: {_claim(item, book, lang)}")
    return ["\n".join(lines)]


def _law_text(keys: list[str], book: CitationBook, lang: Lang) -> list[str]:
    """Full text of paragraphs the question names, with version and link."""
    out = []
    for key in keys[:3]:
        chunks = book.index.by_key[key]
        first = chunks[0]
        marker = book.cite(key, quote=_sentences(first.text)[0] if _sentences(first.text) else "")
        body = "\n".join("> " + line if line else ">" for line in first.text.splitlines())
        warning = law_warning(first, lang)
        header = f"### {T[lang]['law_text']}: {first.title} {marker}\n{label('lov', lang)} · {first.version_label}"
        header += f" · [lovdata.no]({first.url})" + (f"\n\n⚠ {warning}" if warning else "")
        out.append(f"{header}\n\n{body}")
    return out


def _legal_sections(legal: list[LegalEntry], book: CitationBook, lang: Lang, role: Role) -> list[str]:
    if not legal:
        return []
    t = T[lang]
    # Legal staff get the full picture; project leaders the most relevant rules (the checklist has the rest).
    limit_entries, first_limit, other_limit = (4, 99, 5) if role == "jurist" else (2, 99, 3)
    lines = [f"### {t['legal']}"]
    open_questions: list[str] = []
    differences: list[str] = []
    for rank, entry in enumerate(legal[:limit_entries]):
        lines.append(f"**{entry.topic.text(lang)}**")
        for statement in entry.statements[: first_limit if rank == 0 else other_limit]:
            marker = book.cite(statement.cite, statement.text(lang), quote=statement.quote, kind=statement.kind)
            if not marker:
                continue
            chunk = book.index.by_key[statement.cite][0]
            quote = f" «{statement.quote}»" if statement.quote else ""
            warning = law_warning(chunk, lang)
            lines.append(
                f"- {label(statement.basis, lang)} · {KIND_LABEL[lang][statement.kind]}: {statement.text(lang)}{quote} — "
                f"{chunk.title} ({chunk.version_label}) {marker}" + (f" ⚠ {warning}" if warning else "")
            )
        open_questions += [q.text(lang) for q in entry.open_questions[:2]]
        if entry.thesis_vs_law:
            differences.append(_claim(entry.thesis_vs_law, book, lang))
    out = ["\n".join(lines)]
    if differences:
        out.append(f"### {t['differ']}\n" + "\n".join(f"- {label('vurdering', lang)}: {d}" for d in differences))
    if open_questions and role == "jurist":
        out.append(f"### {t['open']}\n" + "\n".join(f"- {q}" for q in open_questions))
    return out


def _passages(evidence: list[Chunk], book: CitationBook, lang: Lang, question: str) -> list[str]:
    """Up to three retrieved passages the answer has not cited yet, quoted."""
    cited = {c.key for c in book.items}
    lines: list[str] = []
    for chunk in evidence:
        if chunk.cite_key in cited or len(lines) >= 3:
            continue
        quote = best_quote(book.index.by_key[chunk.cite_key], question, max_chars=600, window=2)
        marker = book.cite(chunk.cite_key, question, quote=quote)
        quote = next(c.quote for c in book.items if c.key == chunk.cite_key)
        lines.append(f"- {label(_basis_of(chunk), lang)} · {chunk.title}: «{quote}» {marker}")
        cited.add(chunk.cite_key)
    return [f"### {T[lang]['passages']}\n" + "\n".join(lines)] if lines else []


def _sources(book: CitationBook, lang: Lang) -> str:
    if not book.items:
        return ""
    lines = [f"### {T[lang]['sources']}"]
    for item in book.items:
        extra = f" · {item.version}" if item.version else ""
        link = f" · {item.url}" if item.url else ""
        lines.append(f"[{item.number}] {BASIS_LABEL[lang][item.basis]} · `{item.key}` — {item.title}{extra}{link}")
    return "\n".join(lines)
