"""The deterministic advisor: case features → co-creation fit, ranked methods, relevant legal entries.

Everything it says comes from the curated catalogue (assistant/catalogue/*.yaml), whose every claim
cites a thesis section or law paragraph; the advisor only decides which entries apply and why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from .answer import Fit, Lang
from .catalogue import Catalogue, LegalEntry, Method
from .question import ParsedQuestion
from .textproc import tokenize
from .texts.answer import ACTOR_NAMES, FIT_REASONS

EXTERNAL_ACTORS = ("citizens", "volunteers", "politicians", "business", "suppliers")


def _phrase_pattern(phrases: list[str]) -> re.Pattern[str] | None:
    cleaned = sorted({p.lower().strip() for p in phrases if p and p.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    body = "|".join(re.escape(p) for p in cleaned)
    return re.compile(rf"(?<![\wæøå])(?:{body})(?![\wæøå])")


@lru_cache(maxsize=512)
def _compiled(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    return _phrase_pattern(list(phrases))


def matches(text: str | ParsedQuestion, phrases: list[str]) -> list[str]:
    """Cue phrases found in text: exact whole words, or (for several words) their stems in order, close."""
    lowered, stems = (
        (text.lowered, text.stems) if isinstance(text, ParsedQuestion) else (text.lower(), tokenize(text))
    )
    pattern = _compiled(tuple(phrases))
    found = list(dict.fromkeys(m.group(0) for m in pattern.finditer(lowered))) if pattern else []
    for phrase in phrases:
        parts = tokenize(phrase)
        if len(parts) > 1 and phrase.lower() not in found and _near(parts, stems):
            found.append(phrase.lower())
    return found


def _near(parts: list[str], stems: Sequence[str], slack: int = 2) -> bool:
    """The stems of a phrase occur in the text in the same order, with at most `slack` words between."""
    for start, stem in enumerate(stems):
        if stem != parts[0]:
            continue
        pos, ok = start, True
        for part in parts[1:]:
            window = stems[pos + 1 : pos + 2 + slack]
            if part not in window:
                ok = False
                break
            pos = pos + 1 + window.index(part)
        if ok:
            return True
    return False


@dataclass
class Features:
    found: dict[str, list[str]] = field(default_factory=dict)  # feature id -> matched cues

    def has(self, name: str) -> bool:
        return bool(self.found.get(name))

    @property
    def external_actors(self) -> list[str]:
        return [a for a in EXTERNAL_ACTORS if self.has(a)]


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

    def as_fit(self) -> Fit:
        return Fit(verdict=self.verdict, reasons=[r.text for r in self.reasons])  # type: ignore[arg-type]


def _feature_reason(catalogue: Catalogue, name: str, lang: Lang) -> Reason:
    spec = catalogue.features[name].reason
    if spec is None:
        raise ValueError(f"features.yaml: egenskapen «{name}» mangler «reason», som rådgiveren bruker")
    return Reason(spec.text(lang), list(spec.cites))


def assess_fit(question: ParsedQuestion, features: Features, catalogue: Catalogue) -> FitAssessment | None:
    """Fit verdict following the thesis (5.1): complex problems yes, exercise of authority no."""
    is_case = question.co_creating_case or (
        question.case_markers
        and any(features.has(f) for f in ("authority", "planning", "wicked", "procurement", "individual"))
    )
    if not is_case:
        return None
    lang = question.lang
    authority, planning, wicked = features.has("authority"), features.has("planning"), features.has("wicked")
    reasons: list[Reason] = []
    if authority and not (planning or wicked or features.has("individual")):
        verdict = "not_suited"
        reasons.append(_feature_reason(catalogue, "authority", lang))
        reasons.append(
            _reason("participation", lang, ["thesis/5.1", "lov/2008-06-27-71/§5-1"])
        )
    elif authority or planning or (features.has("procurement") and features.has("suppliers")):
        verdict = "depends"
        if planning:
            reasons.append(_feature_reason(catalogue, "planning", lang))
        if authority:
            reasons.append(_feature_reason(catalogue, "authority", lang))
        if wicked:
            reasons.append(_feature_reason(catalogue, "wicked", lang))
        if features.has("procurement"):
            reasons.append(
                _reason("procurement", lang, ["forskrift/2016-08-12-974/§8-1", "lov/2016-06-17-73/§4"])
            )
        if features.has("individual") and not authority:
            reasons.append(
                _reason("individual_decision", lang, ["lov/1967-02-10/§2"])
            )
    elif wicked or len(features.external_actors) >= 2 or features.has("individual"):
        verdict = "suited"
        if wicked:
            reasons.append(_feature_reason(catalogue, "wicked", lang))
        if features.external_actors:
            actors = ", ".join(ACTOR_NAMES[lang][a] for a in features.external_actors)
            reasons.append(
                _reason("actors", lang, ["thesis/2.3"], actors=actors)
            )
        if features.has("individual"):
            reasons.append(
                _reason("individual_level", lang, ["thesis/4.2.8"])
            )
    else:
        verdict = "depends"
        reasons.append(
            _reason("unclear", lang, ["thesis/5.1"])
        )
    if features.has("time_pressure"):
        reasons.append(_feature_reason(catalogue, "time_pressure", lang))
    return FitAssessment(verdict, reasons)


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
