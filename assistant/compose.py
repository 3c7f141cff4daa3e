"""The offline composer: a layered answer planned from the evidence retrieved for this question.

`summary` answers in at most three sentences, resting on the decisive passage; `text` adds at most
five key points, the role's section and the sources cited there; `details` holds the rest (full law
text, other legal points, method cards, further passages). Curated catalogue entries serve the
evidence: an entry is used only when one of its paragraphs was retrieved or named (advisor).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .advisor import FitAssessment, MethodMatch, matches
from .answer import Basis, Citation, Lang, MethodAdvice
from .catalogue import Catalogue, LegalEntry, Statement
from .evidence import (
    CitationBook,
    Sentence,
    Terms,
    basis_of,
    best_per_passage,
    best_quote,
    clip,
    rank_sentences,
    sentences,
    short_title,
)
from .index import Index
from .lookup import find_references
from .question import ParsedQuestion
from .retrieve import Hit
from .sections import (
    ROLE_QUOTE,
    checklist,
    claim_text,
    clarify_line,
    criteria_section,
    fit_section,
    law_section,
    law_text,
    method_advice,
    method_section,
    methods_brief,
    passages,
    relevant,
    sources,
)
from .texts.answer import BASIS_LABEL, KIND_LABEL, NOTICE, VERDICT_LABEL, VERDICT_LEAD, T, label

__all__ = ["BASIS_LABEL", "KIND_LABEL", "NOTICE", "VERDICT_LABEL", "Composition", "compose"]

MAX_SUMMARY = 450
MAX_POINTS = 5
MAX_TEXT_SOURCES = 8
# A summary resting on a passage whose best sentence shares less of the question says that the sources do not
# answer it directly: on the tuning sets' legal questions, 16 of the 21 summaries below it rested on another
# paragraph than the deciding one (against 25 of 75 above it).
WEAK_SUPPORT = 0.08
MIN_COVERAGE = 0.15  # an evidence sentence sharing less of the question is not a key point …
MIN_STATEMENT = 0.2  # a curated statement covering less of the question does not carry the summary
SAME_PARAGRAPH = 0.05  # between equal answers, the decisive paragraph's own statement goes first
MIN_GAIN = 0.12  # a further summary sentence must answer this much of what the first left open
RELATIVE_COVERAGE = 0.6  # … nor one sharing much less than the best sentence does
POINT_QUOTE = 240
LAW_CANDIDATES = 5  # law paragraphs among the top hits that may carry a legal summary
# A law paragraph whose law is not among the laws closest to the question (Index.nearest_laws) nor named
# in it is off topic: on the tuning sets' legal questions 10 of the 13 such summaries rested on another
# paragraph than the deciding one.
NEAR_LAWS = 3
STATEMENT_WEIGHT = 1.0  # a curated statement that answers the question makes its paragraph decisive
TRIGGER_WEIGHT = 0.1  # the question uses a legal entry's own words

# Words that ask for a way of working (the thesis's own: metode, tilnærming, framgangsmåte …).
_ASKS_METHOD = re.compile(
    r"\b(?:metode\w*|method\w*|tilnærming\w*|approach\w*|framgangsmåte\w*|fremgangsmåte\w*|arbeidsform\w*|"
    r"verktøy\w*|tools?|hvordan|korleis|how)\b",
    re.IGNORECASE,
)


@dataclass
class Composition:
    kind: str
    summary: str
    text: str
    details: str
    methods: list[MethodAdvice]
    citations: list[Citation]
    open_questions: list[str] = field(default_factory=list)


def compose(
    *,
    question: ParsedQuestion,
    index: Index,
    catalogue: Catalogue,
    fit: FitAssessment | None,
    methods: list[MethodMatch],
    legal: list[LegalEntry],
    hits: Sequence[Hit],
) -> Composition:
    """Plan the answer from the evidence, then write it in layers (citations numbered in reading order)."""
    lang, role = question.lang, question.role
    book = CitationBook(index, lang)
    terms = Terms(question, index)
    ranked = rank_sentences(terms, hits)
    kind = answer_kind(question, fit, methods, hits)
    statements = _statements(legal, question, terms)
    plan = _Plan(question, kind, ranked, statements, book, catalogue, terms, _near_laws(question, index, hits))
    decisive = _decisive(hits, plan)
    if kind == "source" and decisive and index.by_key[decisive][0].source_type == "law":
        plan.kind = kind = "legal"
    summary = plan.summary(decisive, fit, methods)
    points = plan.key_points(fit, methods)

    def advise() -> list[MethodAdvice]:  # called where the methods are first shown, so citations stay in order
        return [method_advice(catalogue.method(m.id), m, book, lang, question.text) for m in methods[:3]]

    # Open questions of the entries whose statements the answer shows (not of every entry retrieved).
    shown_entries = [e for e in legal if any(s.quote in plan.used for s in e.statements)]
    open_questions = list(dict.fromkeys(q.text(lang) for e in shown_entries[:3] for q in e.open_questions[:2]))
    if role == "jurist" or kind == "legal":
        role_part = law_section(book, lang, 4 if role == "jurist" else 2, shown="\n".join([summary, *points]))
        if role == "jurist" and open_questions:
            role_part.append(f"### {T[lang]['open']}\n" + "\n".join(f"- {q}" for q in open_questions))
        if role != "jurist" and kind == "legal":
            role_part += fit_section(fit, book, lang, 1)
    else:
        role_part = criteria_section(fit, lang) if kind == "case" else []
        role_part += methods_brief(catalogue, methods[:2], book, lang) if kind in ("case", "method") else []
    in_text = len(book.items)
    asked = clarify_line(fit, lang) if kind == "case" else ""
    text = [f"**{T[lang]['short']}:** {summary}", asked, *points, *role_part,
            sources(book.items[:in_text], lang, "sources")]

    details = fit_section(fit, book, lang) + law_text([h.key for h in hits if h.direct][:2], book, lang)
    details += _legal_more(plan, legal, book, lang)
    if role != "jurist" and open_questions:
        details.append(f"### {T[lang]['open']}\n" + "\n".join(f"- {q}" for q in open_questions))
    advice = advise()
    details += method_section(advice, lang) + checklist(catalogue, methods, book, lang)
    details += passages(hits, ranked, book, question.text, lang)
    details.append(sources(book.items[in_text:], lang, "more_sources"))
    if any(c.basis == "lov" for c in book.items):
        text.append(NOTICE[lang])
    return Composition(
        kind=kind,
        summary=summary,
        text="\n\n".join(p for p in text if p),
        details="\n\n".join(p for p in details if p),
        methods=advice,
        citations=book.items,
        open_questions=open_questions,
    )


def answer_kind(
    question: ParsedQuestion, fit: FitAssessment | None, methods: list[MethodMatch], hits: Sequence[Hit]
) -> str:
    """What the answer leads with: a law paragraph (a legal question with law among the top passages), a
    fit verdict (a case), a method (asked for), the best passage (source), or nothing (none)."""
    # A legal question, or any question from legal staff, leads with law when law is among the top passages.
    legal = bool(question.query and question.query.legal) or question.role == "jurist"
    law_first = bool(hits) and hits[0].chunk.source_type == "law"
    if any(h.direct for h in hits) or (legal and any(h.chunk.source_type == "law" for h in hits[:LAW_CANDIDATES])):
        return "legal"
    if law_first and not question.co_creating_case:  # a situation whose best evidence is law, not a fit question
        return "legal"
    asks_method = bool(methods and _ASKS_METHOD.search(question.text))
    if fit is not None and (question.co_creating_case or not asks_method):
        return "case"
    if asks_method:
        return "method"  # a case that asks for a method leads with the method; its fit is in the details
    if fit is not None:
        return "case"
    return "legal" if law_first else "source" if hits else "none"


def _decisive(hits: Sequence[Hit], plan: _Plan) -> str | None:
    """The passage the summary rests on: a paragraph named where the question asks, else the passage (for
    a legal question the law paragraph) among the top hits and the named ones that answers best — a
    paragraph named only in the situation («our committee under § 5-7 meets next week; what are the rules
    for the notice?») competes with the rest."""
    direct = [h.key for h in hits if h.direct]
    if direct and (plan.kind not in ("legal", "source") or find_references(_asking(plan.question.text))):
        return direct[0]
    if plan.kind not in ("legal", "source"):
        return None
    top = {h.key for h in hits[:LAW_CANDIDATES] if plan.kind != "legal" or h.chunk.source_type == "law"}
    return next((k for k in plan.passages() if k in top or k in direct), direct[0] if direct else None)


def _asking(text: str) -> str:
    """The sentence that asks: the last one with a question mark, else the last sentence."""
    parts = [p for p in re.split(r"(?<=[.!?])\s+", text.strip()) if p]
    return next((p for p in reversed(parts) if p.endswith("?")), parts[-1] if parts else "")


def _near_laws(question: ParsedQuestion, index: Index, hits: Sequence[Hit]) -> frozenset[str] | None:
    """The laws a legal answer may rest on without a warning: the closest to the question by meaning, the
    ones it names (the query searches the same), and those of the paragraphs it names; None when the index
    has no vectors to tell."""
    near = index.nearest_laws(question.query.text)[:NEAR_LAWS] if question.query else []
    if not near:
        return None
    return frozenset([*near, *question.laws, *(h.chunk.law_id for h in hits if h.direct)])


@dataclass(frozen=True)
class _Scored:
    statement: Statement
    entry: LegalEntry
    overlap: float


def _statements(legal: list[LegalEntry], question: ParsedQuestion, terms: Terms) -> list[_Scored]:
    """The statements of the relevant entries, best first: the share of the question they cover, plus a
    little when the question uses the entry's own words (its triggers)."""
    out = []
    for entry in legal:
        topical = TRIGGER_WEIGHT * bool(matches(question, entry.triggers.all()))
        for statement in entry.statements:
            out.append(_Scored(statement, entry, terms.coverage(f"{statement.nb} {statement.quote}") + topical))
    return sorted(out, key=lambda s: -s.overlap)


@dataclass
class _Plan:
    """What the answer rests on, shared by its layers so nothing is said twice."""

    question: ParsedQuestion
    kind: str
    ranked: Sequence[Sentence]
    statements: list[_Scored]
    book: CitationBook
    catalogue: Catalogue
    terms: Terms
    near_laws: frozenset[str] | None = None  # _near_laws
    used: set[str] = field(default_factory=set)  # statement quotes and evidence sentences already shown

    def summary(self, decisive: str | None, fit: FitAssessment | None, methods: list[MethodMatch]) -> str:
        """At most three sentences that answer, resting on the first citation."""
        lang, book, t = self.question.lang, self.book, T[self.question.lang]
        if self.kind == "case" and fit:
            reason = fit.reasons[0]
            text = f"{VERDICT_LEAD[lang][fit.verdict]} {reason.text} {book.cite_all(reason.cites, reason.text)}"
            if methods and fit.verdict != "not_suited":
                text += " " + t["start_with"].format(name=self.catalogue.method(methods[0].id).name.text(lang))
            return clip(text, MAX_SUMMARY)
        if self.kind == "method" and methods:
            method = self.catalogue.method(methods[0].id)
            opening = sentences(method.summary.text(lang), 0)[0]
            lead = t["best_method"].format(name=method.name.text(lang))
            return clip(f"{lead} {opening} {book.cite_all(method.summary.cites, opening)}", MAX_SUMMARY)
        if decisive is None:
            return t["none"]
        first = next((s for s in self.statements if s.statement.cite == decisive and s.overlap >= MIN_STATEMENT), None)
        if first is not None and not self._off_topic(decisive):
            return self._statement_summary(first.statement, decisive)
        best = next((s for s in self.ranked if s.key == decisive), None)
        chunks = book.index.by_key[decisive]
        # A sentence that shares little with the question does not beat the passage's opening (its main rule).
        opening = (sentences(chunks[0].text) or [best_quote(chunks, self.question.text)])[0]
        quote = best.text if best and best.coverage >= MIN_COVERAGE else clip(opening, ROLE_QUOTE)
        self.used.add(quote)
        marker = book.cite(decisive, quote=quote)
        basis = BASIS_LABEL[lang][basis_of(chunks[0])].lower()
        answers = best is not None and best.coverage >= WEAK_SUPPORT and not self._off_topic(decisive)
        says = t["source_says" if answers else "closest_says"]
        return clip(f"{says.format(title=chunks[0].title, basis=basis)} «{quote}» {marker}", MAX_SUMMARY)

    def _statement_summary(self, first: Statement, decisive: str) -> str:
        """The statement that answers best, then up to two statements of the evidence that answer what
        it leaves open (the question's terms it does not cover), within three sentences."""
        text, covered = self._statement(first), self.terms.covered(f"{first.nb} {first.quote}")
        pair = {decisive, *self.passages()[:2]}  # the decisive paragraph and the runner-up
        for _ in range(2):
            gains = [
                (self.terms.share(self.terms.covered(f"{s.statement.nb} {s.statement.quote}") - covered)
                 + SAME_PARAGRAPH * (s.statement.cite == decisive), s.statement)
                for s in self.statements
                if s.statement.quote not in self.used and s.statement.cite in pair
            ]
            gain, best = max(gains, key=lambda g: g[0], default=(0.0, None))
            if best is None or gain < MIN_GAIN or len(text) + len(best.text(self.question.lang)) > MAX_SUMMARY - 8:
                break
            text += " " + self._statement(best)
            covered |= self.terms.covered(f"{best.nb} {best.quote}")
        return text

    @property
    def evidence_keys(self) -> set[str]:
        return {s.key for s in self.ranked[:12]}

    def _statement(self, statement: Statement) -> str:
        """A curated statement with its citation. No «Ja.»/«Nei.» before it: whether the rule answers the
        question's own verb cannot be read from words (a rule on advisory referendums read as «Ja.» to
        making one binding; 4 of the 12 such leads on the tuning sets answered something else), so the rule
        speaks for itself."""
        self.used.add(statement.quote)
        marker = self.book.cite(statement.cite, quote=statement.quote, basis=statement.basis,
                                kind=statement.kind)
        return f"{statement.text(self.question.lang)} {marker}"

    def key_points(self, fit: FitAssessment | None, methods: list[MethodMatch]) -> list[str]:
        """At most five points with their weight labels: reasons, curated statements, evidence sentences."""
        lang, points = self.question.lang, []
        if fit and self.kind == "case":
            for reason in fit.reasons[1:3]:
                basis: Basis = "lov" if all(c.startswith(("lov/", "forskrift/")) for c in reason.cites) else "forskning"
                points.append(f"{label(basis, lang)}: {reason.text} {self.book.cite_all(reason.cites, reason.text)}")
        if methods and self.kind == "method":
            method = self.catalogue.method(methods[0].id)
            for claim in relevant(method.fits_when, self.question.text, lang, 2):
                points.append(f"{label(claim.basis, lang)}: {claim_text(claim, self.book, lang)}")
        floor = max(MIN_COVERAGE, RELATIVE_COVERAGE * max((s.coverage for s in self.ranked), default=0.0))
        best_sentence = {s.key: s for s in best_per_passage(self.ranked)}
        order = self.passages()
        runner_up = self._runner_up(order)
        for key in ([runner_up] if runner_up else []) + order:
            if len(points) >= MAX_POINTS:
                break
            statement = next((s.statement for s in self.statements if s.statement.cite == key
                              and s.overlap >= MIN_STATEMENT and s.statement.quote not in self.used), None)
            sentence = best_sentence.get(key)
            if statement is not None:
                kind = KIND_LABEL[lang][statement.kind]
                points.append(f"{label(statement.basis, lang)} · {kind}: {self._statement(statement)}")
            elif sentence and sentence.text not in self.used and not self._quoted(key) and not self._off_topic(key) and (
                sentence.coverage >= floor or key == runner_up
            ):
                self.used.add(sentence.text)
                marker = self.book.cite(key, quote=sentence.text)
                quote = clip(sentence.text, POINT_QUOTE)
                title = short_title(sentence.chunk.title)
                points.append(f"{label(basis_of(sentence.chunk), lang)} · {title}: «{quote}» {marker}")
        return [f"### {T[lang]['points']}\n" + "\n".join(f"- {p}" for p in points)] if points else []

    def _runner_up(self, order: list[str]) -> str | None:
        """For a legal answer, the best law paragraph after the one the summary rests on: it is always the
        first key point, so the answer opens on the two paragraphs that answer best."""
        if self.kind != "legal" or sum(c.basis == "lov" for c in self.book.items) >= 2:
            return None
        return next((k for k in order if not self._quoted(k) and not self._off_topic(k)
                     and self.book.index.by_key[k][0].source_type == "law"), None)

    def _off_topic(self, key: str) -> bool:
        """A law paragraph from a law that is neither among the closest to the question nor named in it."""
        chunk = self.book.index.by_key[key][0]
        return self.near_laws is not None and chunk.source_type == "law" and chunk.law_id not in self.near_laws

    def passages(self) -> list[str]:
        """Evidence passages by how well they answer: their best sentence (overlap with the question and
        retrieval score) plus their best curated statement; for a legal answer, law paragraphs first."""
        sentence: dict[str, float] = {}
        law: dict[str, bool] = {}
        for s in self.ranked:
            sentence.setdefault(s.key, s.score)
            law[s.key] = s.chunk.source_type == "law"
        statement: dict[str, float] = {}
        for scored in self.statements:
            statement.setdefault(scored.statement.cite, scored.overlap)
        first_law = self.kind == "legal"
        return sorted(sentence, key=lambda k: (-(first_law and law[k]), -sentence[k] - STATEMENT_WEIGHT * statement.get(k, 0.0)))

    def _quoted(self, key: str) -> bool:
        return any(c.key == key for c in self.book.items)


def _legal_more(plan: _Plan, legal: list[LegalEntry], book: CitationBook, lang: Lang) -> list[str]:
    """The rest of the relevant legal entries: statements not shown yet, and the thesis against today's law."""
    t, blocks, differences = T[lang], [], []
    for entry in legal[:4]:
        lines = []
        for statement in entry.statements:
            if statement.quote in plan.used:
                continue
            chunk = book.index.by_key.get(statement.cite, [None])[0]
            if chunk is None:
                continue
            lines.append(f"- {label(statement.basis, lang)} · {KIND_LABEL[lang][statement.kind]}: "
                         f"{plan._statement(statement)} «{statement.quote}» — {chunk.title} ({chunk.version_label})")
        if lines:
            blocks.append(f"**{entry.topic.text(lang)}**\n" + "\n".join(lines))
        if entry.thesis_vs_law:
            differences.append(f"- {label('vurdering', lang)}: {claim_text(entry.thesis_vs_law, book, lang)}")
    out = [f"### {t['legal_more']}\n\n" + "\n\n".join(blocks)] if blocks else []
    return out + ([f"### {t['differ']}\n" + "\n".join(differences)] if differences else [])


