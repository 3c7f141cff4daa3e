"""Fit as criteria (thesis 5.1, 2.2–2.4, 4.1.6; catalogue/criteria.yaml): each judged met / not met / unknown.

A criterion is met outright when the case uses one of its corpus words (`terms`) or when the user has
answered it (a `facts` sentence from the chat's buttons or the case form). `authority` and `complex` are
also judged by meaning: the case's query vector is compared with the descriptions of both, and the
difference of the two best similarities decides — a relative measure, so it does not depend on how
similar the embedder makes texts in general. The margins below were chosen on evals/fit_tuning.yaml, the
fit items of evals/scope_tuning.yaml and the public set's fit questions (held-out sets are only reported):
not-suited cases lie at −0.02 … +0.04, suited ones at −0.07 … −0.03, mixed ones at −0.02 … 0. Terms are
matched by stem, so «tildeler», «tildelt» and «tildelingen» all show an allocation; a term right after a
negation («gjelder ikke tildeling») does not count. evals/fit_tuning2.yaml (64 cases, written blind) checked the
criteria as they were before it joined the tuning material: 43 of 64 right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .answer import Criterion, CriterionStatus, Lang
from .catalogue import Catalogue, Claim, FitCriterion
from .cues import compound_matches, matches, phrase_stems, stem_matches
from .embed import Embedder
from .question import ParsedQuestion
from .texts.answer import ACTOR_NAMES

AUTHORITY_BY_MEANING = 0.02  # sim(authority) − sim(complex) at or above this: an exercise of authority
AUTHORITY_HINTED = -0.015  # … at or above this, with a hint word in the case: an exercise of authority
COMPLEX_BY_MEANING = 0.025  # sim(complex) − sim(authority) at or above this: a complex problem, not authority;
# in between, authority is unknown (and asked when it decides)
OUTSIDE_ACTORS = ("citizens", "volunteers", "business", "suppliers")  # features.yaml groups outside the municipality
DECIDING = ("authority", "complex", "actors")  # the criteria the verdict rests on, asked in this order
SEVERAL_GROUPS = 2  # outside actor groups that, each holding a part, show a problem no single owner can solve


@dataclass
class Judged:
    """One criterion for one case: its status, the user's words that decided it, and how it was decided."""

    id: str
    status: CriterionStatus
    words: list[str] = field(default_factory=list)
    by: str = ""  # "terms" | "meaning" | "fact" | "actors" (complex, from several outside groups) | ""
    groups: list[str] = field(default_factory=list)  # actors: the OUTSIDE_ACTORS groups the case names

    def criterion(self, spec: FitCriterion, lang: Lang) -> Criterion:
        return Criterion(self.id, spec.label.text(lang), self.status, evidence_text(self, lang),
                         list(self.claim(spec).cites))

    def claim(self, spec: FitCriterion) -> Claim:
        return {"met": spec.met, "not_met": spec.not_met, "unknown": spec.unknown}[self.status]


class DescriptionVectors:
    """The criteria descriptions embedded once per embedder (query mode, like the case they are compared with),
    as unit vectors."""

    def __init__(self) -> None:
        self._cache: dict[str, dict[str, np.ndarray]] = {}

    def get(self, catalogue: Catalogue, embedder: Embedder) -> dict[str, np.ndarray]:
        if embedder.id not in self._cache:
            vectors = {cid: np.asarray(embedder.embed(spec.describe.all(), "query"))
                       for cid, spec in catalogue.criteria.items() if spec.describe.all()}
            self._cache[embedder.id] = {cid: m / np.linalg.norm(m, axis=1, keepdims=True) for cid, m in vectors.items()}
        return self._cache[embedder.id]


def stated_facts(question: ParsedQuestion, catalogue: Catalogue) -> tuple[dict[str, tuple[CriterionStatus, str]], str]:
    """The answers the user gave (fact sentences in the case text) and the text without them."""
    text, found = question.context, {}  # type: tuple[str, dict[str, tuple[CriterionStatus, str]]]
    for cid, spec in catalogue.criteria.items():
        if spec.facts is None:
            continue
        for status in ("not_met", "unknown", "met"):  # "ikke" sentences first: they contain the others' words
            for sentence in (getattr(spec.facts, status).nb, getattr(spec.facts, status).en):
                if sentence.lower() in text.lower():
                    start = text.lower().index(sentence.lower())
                    text = text[:start] + text[start + len(sentence):]
                    found.setdefault(cid, (status, sentence))
    return found, text


STATUS_OF_OPTION = ("met", "not_met", "unknown")  # a clarify's options, in order: yes, no, don't know


def fact_for(catalogue: Catalogue, question: str, option: int, lang: Lang) -> tuple[str, str] | None:
    """(criterion id, the fact sentence) for the answer option chosen to a clarifying question."""
    for cid, spec in catalogue.criteria.items():
        if spec.question and spec.facts and question in (spec.question.nb, spec.question.en):
            return cid, getattr(spec.facts, STATUS_OF_OPTION[option]).text(lang)
    return None


# An association named by a compound on «-lag» («bygdelaget», «pensjonistlag», «idrettslagene»). The corpus's
# other words on «-lag» are not: forslag, grunnlag, vederlag, opplag, overslag, nabolag, ozonlaget, the verb
# «(på)klaget», and «-slag» after a short prefix (avslag, utslag, beslag, anslag, oppslag, innslag).
_LAG_WORD = re.compile(r"(?<![\wæøå])([\wæøå]{3,}lag)(?:et|ene|a)?(?![\wæøå])", re.IGNORECASE)
_NOT_ASSOCIATION = ("forslag", "grunnlag", "vederlag", "opplag", "overslag", "nabolag", "ozonlag", "klag")


def associations(text: str) -> list[str]:
    """Compounds on «-lag» that name an association."""
    found = []
    for match in _LAG_WORD.finditer(text):
        head = match.group(1).lower()
        if head.endswith(_NOT_ASSOCIATION) or (head.endswith("slag") and len(head) <= 8):
            continue
        found.append(match.group(0).lower())
    return found


def outside_actors(text: str, catalogue: Catalogue) -> dict[str, list[str]]:
    """The features.yaml actor groups outside the municipality named in the text (also as compound heads:
    «demensforeningen» is a «forening», «minoritetsforeldre» are «foreldre», «bygdelaget» a «lag»), with
    the words found."""
    found = {}
    for group in OUTSIDE_ACTORS:
        cues = catalogue.features[group].cues.all() if group in catalogue.features else []
        words = compound_matches(text, cues) + matches(text, [c for c in cues if len(c.split()) > 1])
        if group == "volunteers":
            words += associations(text)
        if words:
            found[group] = list(dict.fromkeys(words))
    return found


_NEGATION = r"(?:ikke|ingen|inga|not|no|mer enn|more than|utover|beyond)"


def _negated(text: str, word: str) -> bool:
    """The word, in any inflection, comes right after a negation («ikke bare gi innspill», «not just
    feedback», «ikke selve tildelingen» for the term «tildeling»)."""
    stems = phrase_stems(word)
    start = stems[0] if len(stems) == 1 and word.lower().startswith(stems[0]) else word
    return bool(re.search(rf"\b{_NEGATION}\s+(?:[\wæøå]+\s+){{0,2}}{re.escape(start)}[\wæøå]*\b", text, re.IGNORECASE))


def judge(
    question: ParsedQuestion,
    catalogue: Catalogue,
    similarity: dict[str, float] | None,
) -> dict[str, Judged]:
    """Every criterion for the case: the user's answers first, then corpus words, then meaning.

    `similarity` holds the best similarity of the case to each described criterion (None without an
    embedder).
    """
    facts, text = stated_facts(question, catalogue)
    out: dict[str, Judged] = {}
    for cid, spec in catalogue.criteria.items():
        if cid in facts:
            status, sentence = facts[cid]
            out[cid] = Judged(cid, status, [sentence], "fact")
            continue
        # «saken gjelder ikke tildeling av plasser» does not show an allocation
        words = [w for w in stem_matches(text, spec.terms.all()) if not _negated(text, w)]
        out[cid] = Judged(cid, "met", words, "terms") if words else Judged(cid, "unknown")
    outside = outside_actors(text, catalogue)
    if out["actors"].by != "fact" and outside:
        grouped = [w for words in outside.values() for w in words]
        out["actors"] = Judged("actors", "met", grouped + out["actors"].words, "terms")
    out["actors"].groups = list(outside)  # named in the reason, also when the user answered the question
    hints = [w for w in stem_matches(text, catalogue.criteria["authority"].hints.all()) if not _negated(text, w)]
    consulted = [w for w in matches(text, catalogue.criteria["complex"].consult.all())  # others only give input
                 if not _negated(text, w)]  # «ikke bare gi innspill» asks for more than input
    if similarity and "authority" in similarity and "complex" in similarity:
        margin = similarity["authority"] - similarity["complex"]
        if out["authority"].status == "unknown":
            if margin >= AUTHORITY_BY_MEANING or (hints and margin >= AUTHORITY_HINTED):
                out["authority"] = Judged("authority", "met", hints, "meaning")
            elif -margin >= COMPLEX_BY_MEANING and not hints:
                out["authority"] = Judged("authority", "not_met", [], "meaning")
        if out["complex"].status == "unknown" and -margin >= COMPLEX_BY_MEANING and not consulted:
            out["complex"] = Judged("complex", "met", [], "meaning")
    elif out["authority"].status == "unknown" and out["complex"].status == "met" and not hints:
        out["authority"] = Judged("authority", "not_met")  # no embedder: a complex problem named outright
    # Thesis 2.3/2.4.1: a problem whose parts are held by several kinds of actors outside the municipality
    # (residents, civil society, business …) is one the municipality cannot solve alone — unless they are only
    # asked for input (criteria.yaml, complex.consult).
    if (out["complex"].status == "unknown" and out["authority"].status != "met" and len(outside) >= SEVERAL_GROUPS
            and not consulted):
        out["complex"] = Judged("complex", "met", [words[0] for words in outside.values()], "actors")
    influence = out["influence"]
    if out["authority"].status == "met":
        out["influence"] = Judged("influence", "not_met", out["authority"].words, out["authority"].by)
    elif influence.status == "unknown" and question.co_creating_case:
        out["influence"] = Judged("influence", "met", [], "terms")
    return out


def designing(question: ParsedQuestion, catalogue: Catalogue) -> list[str]:
    """Words showing the case designs what decisions are later made under (a service, a system, rules)."""
    return matches(question.context, catalogue.criteria["authority"].design.all())


def evidence_text(judged: Judged, lang: Lang) -> str:
    """What decided the status: the user's answer, the case's words, or the description as a whole."""
    if judged.by == "fact":
        return ("your answer: " if lang == "en" else "ditt svar: ") + f"«{judged.words[0]}»"
    if judged.words:
        shown = ", ".join(f"«{w}»" for w in dict.fromkeys(judged.words[:4]))
        if judged.by == "actors":
            return (f"several kinds of actors outside the municipality hold a part: {shown}" if lang == "en"
                    else f"flere slags aktører utenfor kommunen har en del av løsningen: {shown}")
        return (f"the case says {shown}" if lang == "en" else f"saken nevner {shown}")
    if judged.by == "meaning":
        return "judged from the description as a whole" if lang == "en" else "vurdert ut fra beskrivelsen som helhet"
    return ""


def reason_text(judged: Judged, spec: FitCriterion, lang: Lang) -> str:
    """The criterion's reason, with the actor groups filled in and what decided it."""
    names = [ACTOR_NAMES[lang][a] for a in OUTSIDE_ACTORS if a in judged.groups]
    if judged.id == "actors" and not names:
        names = judged.words[:3]
    text = judged.claim(spec).text(lang).format(actors=", ".join(names) or "–")
    evidence = evidence_text(judged, lang) if judged.id != "actors" or judged.by == "fact" else ""
    return f"{text} ({evidence})" if evidence else text
