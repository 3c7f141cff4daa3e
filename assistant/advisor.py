"""The deterministic advisor: case features → co-creation fit, ranked methods, relevant legal entries.

Everything it says comes from the curated catalogue (assistant/catalogue/*.yaml), whose every claim
cites a thesis section or law paragraph; the advisor only decides which entries apply and why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .answer import Clarify, Criterion, Fit, Lang
from .catalogue import Catalogue, LegalEntry, Method
from .criteria import DECIDING, Judged, designing, judge, reason_text
from .cues import matches
from .question import ParsedQuestion
from .texts.answer import FIT_REASONS

_COCREATION = re.compile(r"samskap|co-?creat")  # the corpus's own word (and its English) for what is judged


@dataclass
class Features:
    found: dict[str, list[str]] = field(default_factory=dict)  # feature id -> matched cues

    def has(self, name: str) -> bool:
        return bool(self.found.get(name))


def detect_features(question: ParsedQuestion, catalogue: Catalogue) -> Features:
    found = {name: matches(question, spec.cues.all()) for name, spec in catalogue.features.items()}
    return Features({k: v for k, v in found.items() if v})


@dataclass
class Reason:
    text: str
    cites: list[str]


@dataclass
class FitAssessment:
    verdict: str
    reasons: list[Reason]
    criteria: list[Criterion] = field(default_factory=list)
    clarify: Clarify | None = None  # the deciding criterion is unknown: ask it

    def as_fit(self) -> Fit:
        return Fit(verdict=self.verdict, reasons=[r.text for r in self.reasons], criteria=self.criteria)  # type: ignore[arg-type]


def _feature_reason(catalogue: Catalogue, name: str, lang: Lang) -> Reason:
    spec = catalogue.features[name].reason
    if spec is None:
        raise ValueError(f"features.yaml: egenskapen «{name}» mangler «reason», som rådgiveren bruker")
    return Reason(spec.text(lang), list(spec.cites))


def is_case(question: ParsedQuestion, judged: dict[str, Judged], features: Features) -> bool:
    """A concrete case to judge: it speaks about co-creating here, answers a clarifying question, asks about
    co-creation in the asker's own situation ("vi", "kommunen skal"), or is such a situation with a
    deciding criterion met, a plan or a procurement in it."""
    if question.co_creating_case or any(j.by == "fact" for j in judged.values()):
        return True
    met = any(judged[c].status == "met" for c in DECIDING)
    about_cocreation = bool(_COCREATION.search(question.lowered))
    return (about_cocreation and (question.case_markers or met)) or (
        question.case_markers and (met or features.has("planning") or features.has("procurement"))
    )


def assess_fit(
    question: ParsedQuestion,
    features: Features,
    catalogue: Catalogue,
    similarity: dict[str, float] | None = None,
) -> FitAssessment | None:
    """The fit verdict from the criteria (thesis 5.1): authority → not suited; a complex problem with actors
    outside the municipality → suited; otherwise it depends, and an unknown deciding criterion is asked."""
    judged = judge(question, catalogue, similarity)
    if not is_case(question, judged, features):
        return None
    lang = question.lang
    status = {cid: j.status for cid, j in judged.items()}
    reasons: list[Reason] = []
    ask: str | None = None

    def add(cid: str) -> None:
        spec = catalogue.criteria[cid]
        reasons.append(Reason(reason_text(judged[cid], spec, lang), list(judged[cid].claim(spec).cites)))

    # The decisions are authority, but the case also designs what they are made under, or names a complex
    # problem outright: co-creation may fit the design or the problem, not the decisions.
    authority_by_words = status["authority"] == "met" and judged["authority"].by in ("terms", "fact")
    mixed = status["authority"] == "met" and (
        bool(designing(question, catalogue))
        or (authority_by_words and status["complex"] == "met" and judged["complex"].by in ("terms", "fact"))
    )
    if status["authority"] == "met" and not mixed:
        verdict = "not_suited"
        add("authority")
        reasons.append(_reason("participation", lang, ["thesis/5.1", "lov/2008-06-27-71/§5-1"]))
    elif status["authority"] == "met":  # the decisions are authority; the problem or design around them is not
        verdict = "depends"
        add("authority")
        add("complex")
    elif features.has("planning"):  # plan work: statutory participation, decided by the council
        verdict = "depends"
        reasons.append(_feature_reason(catalogue, "planning", lang))
        if status["complex"] == "met":
            add("complex")
    elif features.has("procurement") and features.has("suppliers"):
        verdict = "depends"
        reasons.append(_reason("procurement", lang, ["forskrift/2016-08-12-974/§8-1", "lov/2016-06-17-73/§4"]))
    elif status["complex"] == "met" and status["actors"] == "met":  # and no sign of authority
        verdict = "suited"
        add("complex")
        add("actors")
    else:
        verdict = "depends"
        ask = next((c for c in DECIDING if status[c] == "unknown"), None)
        decided = [c for c in DECIDING if status[c] != "unknown"]
        for cid in ([ask] if ask else []) + decided:
            add(cid)
    if features.has("time_pressure"):
        reasons.append(_feature_reason(catalogue, "time_pressure", lang))
    criteria = [judged[cid].criterion(spec, lang) for cid, spec in catalogue.criteria.items()]
    return FitAssessment(verdict, reasons, criteria, _clarify(catalogue, ask, lang) if ask else None)


def _clarify(catalogue: Catalogue, cid: str, lang: Lang) -> Clarify | None:
    spec = catalogue.criteria[cid]
    if spec.question is None:
        return None
    return Clarify(spec.question.text(lang), list(spec.options.nb if lang == "nb" else spec.options.en))


def _reason(key: str, lang: Lang, cites: list[str], **values: str) -> Reason:
    """One of the advisor's own fit reasons (texts.answer.FIT_REASONS) with the sources it rests on."""
    return Reason(FIT_REASONS[lang][key].format(**values), cites)


@dataclass
class MethodMatch:
    id: str
    score: float
    cues: list[str]


def rank_methods(
    question: ParsedQuestion, catalogue: Catalogue, evidence_keys: list[str] | None = None
) -> list[MethodMatch]:
    """Methods scored by matched signals (longer phrases weigh more, a name counts most) and evidence."""
    ranked: list[MethodMatch] = []
    evidence_rank = {key: i for i, key in enumerate(evidence_keys or [])}
    for method in catalogue.methods:
        cues = matches(question, method.signals.all())
        names = matches(question, name_cues(method))
        raw = sum(1.0 + 0.5 * (len(c.split()) - 1) for c in cues) + 3.0 * len(names)
        for key in method.evidence:
            rank = next((r for k, r in evidence_rank.items() if k == key or k.startswith(key + ".")), None)
            if rank is not None and rank < 10:
                raw += 1.0 - rank / 10  # the method's own thesis sections were retrieved
        if raw > 0:
            ranked.append(MethodMatch(method.id, round(raw / (raw + 3.0), 3), cues + names))
    ranked.sort(key=lambda m: -m.score)
    return ranked


def name_cues(method: Method) -> list[str]:
    """The parts of a method's names (split at / , and brackets) that rank_methods matches in a question."""
    out: list[str] = []
    for name in (method.name.nb, method.name.en):
        for part in re.split(r"\s*[/(),]\s*", name):
            if len(part) > 3:
                out.append(part.lower())
    return out


EVIDENCE_DEPTH = 6  # an entry joins when one of its paragraphs is among this many retrieved passages


def legal_entries(
    question: ParsedQuestion,
    catalogue: Catalogue,
    methods: list[str],
    retrieved: Sequence[str] = (),
    named: Sequence[str] = (),
) -> list[LegalEntry]:
    """Legal entries that serve the evidence, best first.

    An entry joins only when one of its paragraphs is named in the question or among the top retrieved
    passages; a named law alone never pulls one in. Entries are ordered by the best rank of their
    paragraphs, then by trigger words and the chosen method; ties keep the id order, never file order.
    """
    rank_of = {key: i for i, key in enumerate(named)}
    for i, key in enumerate(retrieved[:EVIDENCE_DEPTH]):
        rank_of.setdefault(key, len(named) + i)
    scored: list[tuple[float, str, LegalEntry]] = []
    for entry in catalogue.legal:
        ranks = [rank_of[s.cite] for s in entry.statements if s.cite in rank_of]
        if not ranks:
            continue
        hits = matches(question, entry.triggers.all())
        score = 3.0 / (1 + min(ranks)) + 0.5 * len(hits) + 0.5 * any(m in entry.methods for m in methods[:1])
        scored.append((score, entry.id, entry))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [entry for _, _, entry in scored]
