"""Decide whether a question is one Samskap should answer: in scope, specific enough, not an attack."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

from .answer import Lang
from .embed import embed_with_cache
from .index.storage import embedding_cache
from .lookup import find_references, mentioned_laws
from .textproc import stopwords

if TYPE_CHECKING:
    from .index import Index
    from .retrieve import Hit
from .texts.messages import REFUSALS

MAX_QUESTION_CHARS = 4000

# Terminal escape sequences (colour codes, window titles) are removed whole, not only their ESC byte.
_ANSI = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")


def clean_question(text: str) -> str:
    """The question as the user meant it: NFC, no control, bidi or zero-width characters, trimmed.

    Line breaks and tabs stay; other whitespace-like controls become a space; terminal escape
    sequences, format characters (bidi overrides, zero-width spaces and joiners, soft hyphens, tag
    characters) and lone surrogates are dropped.
    """
    text = _ANSI.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    out = []
    for char in unicodedata.normalize("NFC", text):
        if char in "\n\t":
            out.append(char)
            continue
        category = unicodedata.category(char)
        if category in ("Zl", "Zp"):
            out.append("\n")
        elif category == "Cc":
            out.append(" " if char.isspace() else "")
        elif category not in ("Cf", "Cs"):
            out.append(char)
    return "".join(out).strip()


# Function words of languages Samskap does not answer in (German, French, Spanish, Italian, Portuguese,
# Dutch, Polish). Words that are also Norwegian, Swedish, Danish or English (de, del, den, der, des, die,
# en, et, i, la, le, lo, man, mit, per, sans, sur, to, was …) are left out: they never count against a question.
_FOREIGN_WORDS = frozenset(
    # German
    "und ist nicht ich wir sie das dass eine einen einem einer von zu auf für wie welche welcher welches "
    "kann können muss müssen bei nach oder auch sich wenn haben wird werden gibt unsere "
    "unser unserer ihre im vom zum zur über durch ohne nur noch schon sehr diese dieser dieses warum wer "
    "soll sollen darf dürfen gemeinde bürger "
    # French
    "les est sont une dans avec pas ne qui que quoi quel quelle quels quelles pourquoi nous vous "
    "notre nos votre leur leurs être avoir peut peuvent doit doivent faut cette ces au aux mais ou où "
    "il elle ils très aussi quand comme qu avons avez sommes faire "
    # Spanish
    "los las y es una para por que qué cómo cuál cuáles cuándo dónde porque nuestro nuestra "
    "nuestros nuestras puede pueden debe deben está están estar sus su muy también pero "
    "cuando sobre municipio ciudadanos "
    # Italian
    "il gli della delle degli nel nella sono che quale quali perché può possono deve devono "
    "anche questo questa nostro nostra cittadini "
    # Portuguese
    "uma não são qual quais onde pode podem nosso nossa município cidadãos muito isso este "
    "esta dos ao "
    # Dutch
    "het een niet wat hoe zijn wij onze moet moeten kunnen worden wordt voor ook maar bij naar welke "
    "waarom wanneer dat deze hebben heeft ik zich gemeente burgers "
    # Polish
    "w z na się nie są że jak czy dla przez jakie jaki jaka które który która gmina gminy może "
    "można mogą musi powinna powinien oraz lub albo od po nasz nasza naszej mieszkańców".split()
)
# Function words of the languages we answer in, and of Swedish and Danish, which we let through.
_SUPPORTED_WORDS = frozenset(
    # bokmål and nynorsk
    "og ikke ikkje er det som hva kva hvordan korleis kan skal vi me vår vårt våre med for til av på å "
    "om har hvilke kven hvem når hvorfor kvifor ein eit ei dei ho eg jeg meg oss seg sin sitt "
    "sine må bør kunne skulle være vere vore blir bli vert også òg berre bare mykje mye frå fra "
    "eller men da så at nå no her der "
    # Swedish and Danish
    "och inte är att vad hur varför ska måste också från hvad hvornår hvorfor vores kommune "
    # English
    "the what how which can should does do are we our about and with of must may there this that these "
    "those would could will have has been who why when where you your they their".split()
)
# Letters used by those other languages but not in Norwegian, Swedish or Danish.
_FOREIGN_LETTERS = re.compile(r"[ßüñãõçąęłńśźżćőű¿¡]", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+")
_IDEOGRAPHIC = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def unsupported_language(text: str) -> bool:
    """True when the text is clearly written in a language other than Norwegian or English.

    Mostly non-Latin letters (Arabic, Cyrillic, Chinese, …), or more function words of German,
    French, Spanish, Italian, Portuguese, Dutch or Polish than of Norwegian, Swedish, Danish and
    English. A foreign name or a quoted term in a Norwegian or English question does not count.
    """
    tokens = _WORD.findall(text.lower())
    if not tokens:
        return False
    # Words by script; a Chinese or Japanese character counts as a word of its own.
    latin = sum(unicodedata.name(t[0], "").startswith("LATIN") for t in tokens)
    other = sum(len(t) if _IDEOGRAPHIC.match(t) else 1 for t in tokens) - latin
    if other > latin:
        return True
    foreign = sum(t in _FOREIGN_WORDS or bool(_FOREIGN_LETTERS.search(t)) for t in tokens)
    foreign += bool(re.search(r"[¿¡]", text))
    supported = sum(t in _SUPPORTED_WORDS for t in tokens)
    return foreign >= 2 and foreign > supported


_EXTRACTION = re.compile(
    r"system ?prompt|systemprompten|systemledetekst|skjulte instruks|hidden instructions|"
    r"ignorer (?:alle |de |dine )?(?:tidligere )?instruksjon|ignore (?:all |any |your |the )?(?:previous |prior )?instructions|"
    r"vis (?:meg )?(?:dine |de )?instruksjon|reveal (?:your |the )?(?:prompt|instructions)|"
    r"print (?:your |the )?(?:prompt|instructions)|hvilke instruksjoner (?:har du|fikk du)|developer mode",
    re.IGNORECASE,
)
# Asking for an opinion about a named person (personal data about a third party).
_PERSON_OPINION = re.compile(
    r"(?:hva synes du om|hva mener du om|din personlige vurdering av|er (?:han|hun|hen) til å stole på|"
    r"what do you think of|is (?:he|she) trustworthy)",
    re.IGNORECASE,
)
_NAMED_PERSON = re.compile(r"\b[A-ZÆØÅ][a-zæøå]+ [A-ZÆØÅ][a-zæøå]+\b|naboen min|kollegaen min|my neighbou?r")
def instructs_a_model(text: str) -> bool:
    """True when a text speaks to a language model ("ignore previous instructions", "system prompt")."""
    return bool(_EXTRACTION.search(text))


# Words that ask for advice or name the kind of thing asked about without saying anything about the
# case ("Hva bør vi gjøre?", "Hvilken metode skal vi velge?", "Help us", "Hva sier loven?"). A question
# made of these and function words only has no case: Samskap asks what the case is (no_case).
_GENERIC_ADVICE = frozenset(
    # bokmål and nynorsk
    "bør burde burdi gjøre gjør gjort gjere gjer gjera gjøres metode metoden metoder metodar tilnærming "
    "framgangsmåte fremgangsmåte velge velje vel velger råd rådet tips hjelp hjelpe hjelpa trenger treng "
    "trengs litt noe noen noko nokon ting sak saken saka saker prosjekt prosjektet case gå går fram frem "
    "gang begynne byrje starte start komme kommer kome koma kjem anbefale anbefaler anbefalt lurt lurest best beste "
    "passer passar bruke bruk regler reglene reglane regelverket lov loven lova lovlig tillatt si sier "
    "seier spørsmål lurer an nå jeg eg du dere de dykk kommune kommunen kommunar kommuner mer meir "
    "bedre betre god godt gode første neste steg kanskje egentlig eigentleg akkurat gjerne mulig mogleg "
    "hei hallo takk gi gje gjev hvilken hvilket kva slags "
    # English
    "should shall would could might need needs some something anything thing things help advice "
    "advise tips suggestion suggestions recommend recommendation method methods approach choose pick "
    "case project start begin rules law allowed legal lawful me my i us municipality council best good "
    "better next first step steps now go way ways any please hi hello thanks tell know".split()
)


def has_no_case(text: str) -> bool:
    """True when the question names nothing to advise on: no law or paragraph, and no content word
    beyond function words and generic advice words ("Hva bør vi gjøre?", "Help us")."""
    if mentioned_laws(text) or find_references(text):
        return False
    function_words = stopwords() | _SUPPORTED_WORDS | _GENERIC_ADVICE
    return all(t in function_words or len(t) < 2 for t in _WORD.findall(text.lower()))


@dataclass
class ScopeDecision:
    refuse: bool
    # the refusal_reason code (CONTRACTS §3): empty | too_long | language | prompt_extraction | person |
    # vague | off_topic
    reason: str = ""
    message: str = ""  # what the user reads


def refusal(reason: str, lang: Lang, message: str | None = None) -> ScopeDecision:
    """A refusal with its code and the user's message (REFUSALS[lang][message or reason])."""
    return ScopeDecision(True, reason, REFUSALS[lang][message or reason].format(max=MAX_QUESTION_CHARS))


def check_scope(question: str, lang: Lang, has_history: bool = False) -> ScopeDecision:
    """The checks before retrieval: empty, overlong, foreign-language, prompt-extraction, person-judging
    questions, and a request for advice with no case (unless it follows up a conversation).

    Whether the corpus covers the question is decided after retrieval, by judge_coverage.
    """
    text = clean_question(question)
    if not any(c.isalnum() for c in text):  # nothing, or only emoji and punctuation
        return refusal("empty", lang)
    if len(text) > MAX_QUESTION_CHARS:
        return refusal("too_long", lang)
    if unsupported_language(text):
        return refusal("language", lang)
    if _EXTRACTION.search(text):
        return refusal("prompt_extraction", lang)
    if _PERSON_OPINION.search(text) and _NAMED_PERSON.search(text):
        return refusal("person", lang)
    if not has_history and has_no_case(text):
        return refusal("vague", lang)
    return ScopeDecision(False)


# ---------------------------------------------------------------- coverage: does the corpus answer it?

DOMAIN_FILE = Path(__file__).resolve().parent / "data" / "domain.yaml"
OUTSIDE_FILE = Path(__file__).resolve().parent / "data" / "outside.yaml"  # what Samskap does not cover
DENSE_TOP = 10  # the passages whose dense similarity counts for Coverage.lift

# The decision from coverage (benchmarks/scope_calibration.py prints how these were found). On
# evals/scope_tuning.yaml (166 labelled questions kept apart from the evaluation sets; follow-ups and
# requests with no case left out, as they never reach this gate) a logistic regression on the four
# standardised signals, L2 0.02, gave these weights per unit of each signal. THRESHOLD is the lowest
# score of an in-scope tuning question minus MARGIN: no in-scope tuning question is refused, and the
# margin leaves room for new in-scope wordings, because refusing a user in scope is worse than
# answering an out-of-scope question. With `outside` (2026-12-02) the tuning set's refusal recall went
# from 54 to 57 of 72 out-of-scope questions (leave-one-out the same), still with no in-scope one refused.
WEIGHTS = {"lift": 55.83, "domain": 61.41, "unknown": -4.12, "outside": -11.02}
THRESHOLD = 43.64
# Lift and unknown words are relative to the corpus (its mean vector, its vocabulary) and were calibrated on
# the shipped corpus (about 1,900 passages); on a much smaller corpus they mean little, and only the domain
# signal (independent of the corpus) decides, at the lowest similarity an in-scope question of
# evals/scope_tuning.yaml has (0.813 with the shipped embedder; 28 of its 72 out-of-scope questions lie below).
MIN_GATE_PASSAGES = 1000
MIN_DOMAIN_SMALL_CORPUS = 0.813
# In logit units. 0.25 refused no in-scope tuning question with the full fit, but one under
# leave-one-out (and a freshly built index, whose HNSW graph differs, moved one in-scope English
# question below it); 0.5 refuses none under leave-one-out either.
MARGIN = 0.5


class KnownStems:
    """The stems the corpus uses; a stem is also known inside a longer one («habil» in «inhabil», «saksbehandl»
    in «saksbehandling»: the stemmer keeps derivations apart), from PART_MIN letters on."""

    PART_MIN = 5

    def __init__(self, stems: frozenset[str]) -> None:
        self.stems = stems
        self._joined = "\n".join(sorted(stems))

    def __contains__(self, stem: object) -> bool:
        return stem in self.stems or (isinstance(stem, str) and len(stem) >= self.PART_MIN and stem in self._joined)


@dataclass(frozen=True)
class Coverage:
    """How well the corpus and the service's domain cover a question."""

    lift: float  # mean cosine similarity of the best dense passages, minus that to the corpus as a whole
    domain: float  # best cosine similarity to a description of what Samskap covers (data/domain.yaml)
    # share of the question's content stems that neither the corpus nor data/domain.yaml uses (0 for
    # English questions); the descriptions keep a small corpus from making every word unknown
    unknown: float
    outside: float = 0.0  # best cosine similarity to a description of what Samskap does not cover (data/outside.yaml)

    def score(self) -> float:
        """Higher is better covered; below THRESHOLD the question is out of scope."""
        return sum(weight * getattr(self, name) for name, weight in WEIGHTS.items())


def domain_texts(path: Path = DOMAIN_FILE) -> list[str]:
    """The descriptions of what Samskap covers (or, with OUTSIDE_FILE, does not), in Norwegian and English."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [entry[lang] for entry in entries for lang in ("nb", "en")]


def domain_vectors(index: Index, path: Path = DOMAIN_FILE) -> np.ndarray:
    """The descriptions embedded as passages by the index's embedder (stored with the index's passage
    vectors, so they are embedded once per embedder)."""
    with embedding_cache(index.settings) as cache:
        vectors, _ = embed_with_cache(index.embedder, domain_texts(path), cache)
    return np.vstack([v for v in vectors if v is not None]).astype(np.float32)


def measure_coverage(
    stems: Sequence[str],
    english: bool,
    hits: Sequence[Hit],
    query_vector: np.ndarray,
    mean_vector: np.ndarray,
    domain: np.ndarray,
    vocabulary: Container[str],
    outside: np.ndarray | None = None,
) -> Coverage:
    """The coverage signals of one question, from the retrieval already done for its answer."""
    top = [h.dense_sim for h in hits if h.dense_sim is not None and (h.dense_rank or 0) <= DENSE_TOP]
    baseline = float(mean_vector @ query_vector) if len(mean_vector) else 0.0
    lift = float(np.mean(top)) - baseline if top else 0.0
    domain_sim = float(np.max(domain @ query_vector)) if len(domain) else 0.0
    outside_sim = float(np.max(outside @ query_vector)) if outside is not None and len(outside) else 0.0
    content = set(stems)
    unknown = 0.0 if english or not content else sum(t not in vocabulary for t in content) / len(content)
    return Coverage(lift, domain_sim, unknown, outside_sim)


# A question about rights and duties (for the legal pointer when it is out of scope).
_LEGAL_ASK = re.compile(
    r"\b(?:lov\w*|ulovlig\w*|rett(?:en)? til|rettighet\w*|krav på|kreve|krevje|plikt\w*|regler|reglene|"
    r"regelverk\w*|gyldig|allowed|legal\w*|illegal|lawful|laws?|rights?|entitled|obliged)\b",
    re.IGNORECASE,
)


# A question that names co-creation, the service's subject, asks about it, whatever its other words (a short
# case about co-creating with the applicants for a benefit is a fit question, not off topic). None of
# the out-of-scope questions in the scope and fit sets, tuning or check, names it.
_NAMES_CO_CREATION = re.compile(r"\b(?:samskap\w*|co-?creat\w*)", re.IGNORECASE)


def judge_coverage(
    coverage: Coverage, lang: Lang, text: str, legal: bool = False, small_corpus: bool = False
) -> ScopeDecision:
    """Refuse a question the corpus does not cover (off_topic); a legal one gets the pointer to
    lovdata.no and the agency in charge. On a small corpus only the domain signal decides. A question
    that names co-creation is never off topic."""
    if _NAMES_CO_CREATION.search(text):
        return ScopeDecision(False)
    if (coverage.domain >= MIN_DOMAIN_SMALL_CORPUS) if small_corpus else (coverage.score() >= THRESHOLD):
        return ScopeDecision(False)
    legal = legal or bool(_LEGAL_ASK.search(text))
    return refusal("off_topic", lang, "off_topic_legal" if legal else "off_topic")
