"""Query analysis: named paragraphs and laws, language, and weighted BM25 terms (bokmål, nynorsk, English)."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from .answer import Lang
from .lookup import find_references, mentioned_laws, resolve
from .textproc import Decompounder, stem, words

# English domain terms -> Norwegian words, used to expand the keyword (BM25) query of English
# questions; the dense leg is multilingual already. Longest phrases are matched first.
ENGLISH_GLOSSARY: dict[str, str] = {
    # co-creation and methods
    "co-creation": "samskaping samskape",
    "co-create": "samskape samskaping",
    "co-creative": "samskapende samskaping",
    "living lab": "living lab",
    "urban lab": "bylab",
    "service design": "tjenestedesign",
    "user journey": "brukerreise",
    "user journeys": "brukerreiser",
    "double diamond": "doble diamant",
    "triple diamond": "triple diamant",
    "task committee": "oppgaveutvalg",
    "utopia workshop": "utopiaverksted",
    "self-managed team": "selvstyrte team",
    "self-organised team": "selvstyrte team",
    "self-organized team": "selvstyrte team",
    "matrix organisation": "matriseorganisering",
    "portfolio management": "porteføljestyring",
    "network": "nettverk",
    "broker": "megler",
    "wicked problem": "samfunnsfloke floke",
    "wicked problems": "samfunnsfloker floker",
    "innovation": "innovasjon",
    "innovative": "innovativ",
    "sustainable development goals": "bærekraftsmål",
    "vision": "visjon",
    "future": "framtid fremtid",
    "participation": "medvirkning deltakelse",
    "involvement": "involvering medvirkning",
    "involve": "involvere",
    "input": "innspill",
    "digital platform": "digital plattform",
    "online": "digital",
    "pilot": "pilot",
    "trust": "tillit",
    "governance": "styring",
    "management": "ledelse styring",
    "leadership": "ledelse",
    "manager": "leder",
    "employees": "ansatte",
    "staff": "ansatte",
    # people and sectors
    "citizens": "innbyggere",
    "residents": "innbyggere",
    "resident": "innbygger",
    "inhabitants": "innbyggere",
    "volunteers": "frivillige",
    "voluntary": "frivillig",
    "businesses": "næringsliv",
    "local businesses": "næringsliv",
    "private sector": "næringsliv",
    "public sector": "offentlig sektor",
    "civil society": "sivilsamfunnet",
    "elderly": "eldre",
    "older people": "eldre",
    "young people": "ungdom unge",
    "youth": "ungdom",
    "children": "barn",
    "family": "familie",
    "families": "familier",
    "parents": "foreldre",
    "pupils": "elever",
    "school": "skole",
    "kindergarten": "barnehage",
    "home care": "hjemmetjenesten hjemmesykepleie",
    "patient": "pasient",
    "services": "tjenester",
    "service": "tjeneste",
    "mental health": "psykisk helse",
    "unemployment": "arbeidsledighet",
    "neighbours": "naboer",
    "neighbors": "naboer",
    "climate": "klima",
    "emissions": "utslipp klimagassutslipp",
    # municipal organisation and law
    "municipality": "kommune",
    "municipal": "kommunal",
    "municipal council": "kommunestyret",
    "local council": "kommunestyret",
    "council": "kommunestyret",
    "executive committee": "formannskap",
    "committee": "utvalg",
    "committees": "utvalg",
    "elected representatives": "folkevalgte",
    "elected": "folkevalgt",
    "politicians": "politikere folkevalgte",
    "member": "medlem",
    "members": "medlemmer",
    "eligible": "valgbar",
    "eligibility": "valgbarhet",
    "meeting": "møte",
    "meetings": "møter",
    "open to the public": "møteoffentlighet åpne møter",
    "closed meeting": "lukke møte",
    "minutes": "møtebok",
    "agenda": "saksliste",
    "citizens' initiative": "innbyggerforslag",
    "proposal": "forslag",
    "signatures": "underskrifter",
    "referendum": "folkeavstemning",
    "youth council": "ungdomsråd",
    "council for the elderly": "eldreråd",
    "user council": "brukerråd",
    "public access": "innsyn",
    "access to information": "innsyn",
    "freedom of information": "innsyn offentlighet",
    "internal document": "organinterne dokument",
    "documents": "dokumenter",
    "impartiality": "habilitet inhabilitet",
    "disqualified": "inhabil ugild",
    "conflict of interest": "inhabilitet",
    "confidentiality": "taushetsplikt",
    "duty of confidentiality": "taushetsplikt",
    "consent": "samtykke",
    "data protection": "personvern personopplysninger",
    "personal data": "personopplysninger",
    "privacy": "personvern",
    "procurement": "anskaffelse",
    "public procurement": "offentlige anskaffelser",
    "supplier": "leverandør",
    "suppliers": "leverandører",
    "tender": "konkurranse",
    "competition": "konkurranse",
    "innovation partnership": "innovasjonspartnerskap",
    "market dialogue": "dialog markedet",
    "threshold": "terskelverdi",
    "zoning plan": "reguleringsplan",
    "building permit": "byggesak byggetillatelse",
    "building application": "byggesøknad",
    "master plan": "kommuneplan",
    "decision": "vedtak avgjørelse",
    "individual decision": "enkeltvedtak",
    "case processing": "saksbehandling",
    "application": "søknad",
    "legal basis": "hjemmel",
    # the thesis
    "thesis": "oppgaven masteroppgave",
    "master's thesis": "masteroppgave",
    "research question": "problemstilling forskningsspørsmål",
    "informants": "informanter",
    "interviews": "intervjuer",
    "tanker": "tankskip",
}

# Everyday words -> the statutory terms the laws use for the same concept (bokmål and nynorsk). The
# patterns are matched on the lower-cased question; the terms expand the keyword (BM25) query only.
LAY_TO_LEGAL: list[tuple[str, str]] = [
    (r"\b(?:bror\w*|søster\w*|slektning\w*|svoger\w*|ektefelle\w*|samboer\w*|nær venn\w*)", "ugild inhabil slekt"),
    (r"\b(?:habil\w*|inhabil\w*|egeninteresse\w*)", "ugild inhabil habilitet"),
    (r"\bhelseopplysning\w*|\bpersonlige forhold|\b(?:få vite|dele|utlevere)\b[^.?!]*\bopplysning\w*", "taushetsplikt"),
    (r"\bdokument\w*[^.?!]*\boffentlig\w*|\boffentlig\w*[^.?!]*\bdokument\w*", "innsyn saksdokument"),
    (r"\b(?:velges|velge|valgt)\b|\bsitte (?:i|som)\b|\bbli medlem\b", "valgbar valg"),
    (r"\b(?:lukke|lukket|åpne?)\s+(?:\w+\s+)?møte\w*|\bmøte\w*\s+(?:\w+\s+){0,3}åpne?\b|\bpublikum\b", "møteoffentlighet"),
    (r"\bsnakke med\b|\bsamtale\w* med\b", "dialog"),
    (r"\bstå bak\b|\bunderskrift\w*|\bsignatur\w*", "innbyggerforslag underskrifter"),
    (r"\bpersonvern\w*|\bgdpr\b", "personvernforordningen personopplysninger"),
]
_LAY_TO_LEGAL = [(re.compile(p, re.IGNORECASE), terms) for p, terms in LAY_TO_LEGAL]

# Bokmål / nynorsk forms the Snowball stemmer does not unify (offentleglova and opplæringslova are
# nynorsk); a query term in one form also searches the other.
NYNORSK_PAIRS: list[tuple[str, str]] = [
    ("saksforberedelse", "saksførebuing"),
    ("forberedelse", "førebuing"),
    ("virksomhet", "verksemd"),
    ("avgjørelse", "avgjerd"),
    ("behandling", "handsaming"),
    ("saksbehandling", "sakshandsaming"),
    ("utvalg", "utval"),
    ("kontrollutvalg", "kontrollutval"),
    ("arbeidsutvalg", "arbeidsutval"),
    ("samarbeidsutvalg", "samarbeidsutval"),
    ("skole", "skule"),
    ("egen", "eigen"),
    ("myndighet", "styresmakt"),
    ("hjemmel", "heimel"),
    ("hovedregel", "hovudregel"),
    ("ansatt", "tilsett"),
    ("tjeneste", "teneste"),
    ("tjenestemann", "tenestemann"),
    ("lærer", "lærar"),
    ("leder", "leiar"),
    ("folkevalgt", "folkevald"),
    ("valg", "val"),
    ("velge", "velje"),
    ("valgt", "valt"),
    ("begrunnelse", "grunngiving"),
    ("veiledning", "rettleiing"),
    ("følge", "følgje"),
    ("forespørsel", "førespurnad"),
    ("fravær", "fråvær"),
    ("skoleeier", "skoleeigar"),
    ("uttale", "fråsegn"),
    # the terms of offentleglova's paragraph headings (§§ 2–33) where the stems differ
    ("virkeområde", "verkeområde"),
    ("forbud", "forbod"),
    ("kreve", "krevje"),
    ("sammenstilling", "samanstilling"),
    ("merinnsyn", "meirinnsyn"),
    ("taushetsplikt", "teieplikt"),
    ("utenfra", "utanfrå"),
    ("hensyn", "omsyn"),
    ("ansettelse", "tilsetjing"),
    ("søker", "søkjar"),
    ("forskning", "forsking"),
    ("avgjøre", "avgjere"),
    ("iverksetting", "iverksetjing"),
    # and of opplæringslova's, where the stems differ and the word is not only a school term
    ("medvirkning", "medverknad"),
    ("tilskudd", "tilskot"),
    ("forebygging", "førebygging"),
    ("innhold", "innhald"),
    ("tilbud", "tilbod"),
]

# Words that make a question a legal one (law chunks then get Tuning.law_bonus).
_LEGAL = re.compile(
    r"\b(?:lov(?:en|a|ens|lig|ligt|verk\w*)?|hjemmel|paragraf\w*|forskrift\w*|regler|reglene|regelverk\w*|"
    r"\w*plikt\w*|innsyn\w*|habil\w*|inhabil\w*|ugild\w*|valgbar\w*|velges|møtebok|møteoffentlighet|"
    r"unnta\w*|folkevalgt organ|saksbehandlingsregler|anskaffelse\w*|terskelverdi\w*|kunngjør\w*|"
    r"konkurransen|leverandør\w*|enkeltvedtak\w*|personvern\w*|personopplysning\w*|\w*opplysninger|"
    r"samtykk\w*|dokument\w*|folkeavstemning|innbyggerforslag|law|act|legal\w*|regulations?|"
    r"procurement|suppliers?|confidential\w*|data protection|privacy|signatures|eligib\w*|impartial\w*)\b",
    re.IGNORECASE,
)
_ENGLISH = re.compile(
    r"\b(?:the|what|how|which|can|should|does|do|is|are|we|our|about|and|with|for|of|to|a|must|may|there)\b",
    re.IGNORECASE,
)
_NORWEGIAN = re.compile(
    r"\b(?:og|ikke|ikkje|er|det|som|hva|kva|hvordan|korleis|kan|skal|vi|vår|med|for|til|en|et|av|på|å|om)\b",
    re.IGNORECASE,
)
_GLOSSARY_RE = re.compile(
    r"(?<![\w-])(" + "|".join(re.escape(t) for t in sorted(ENGLISH_GLOSSARY, key=len, reverse=True)) + r")(?![\w-])",
    re.IGNORECASE,
)

# Questions that ask whether co-creation suits a case ("Passer samskaping her?", "Kan vi samskape med
# naboene om vedtaket?") are about co-creation in general as much as about the case: they also search
# for this facet, in Norwegian because the corpus is. A fit question says so outright, or is a yes/no
# question about co-creating (not about a co-creation project).
_FIT = re.compile(
    r"\b(?:passer|egner)\s+samskaping|\bsamskaping\w*\s+(?:passer|egner)|sak\s+for\s+samskaping|"
    r"co-creation\s+(?:a\s+)?(?:good\s+)?fit|(?:suited|suitable|fit)\s+for\s+co-creation",
    re.IGNORECASE,
)
_YES_NO = re.compile(
    r"^(?:kan|bør|skal|går|passer|egner|er|blir|vil|can|could|should|shall|does|do|is|would|may)\b", re.IGNORECASE
)
_CO_CREATING = re.compile(
    r"\b(?:samskapes?|samskaping(?:en|sprosess\w*)?|co-create|co-creation(?!\s+(?:project|method|arena|lab)))\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.?!]+\?")


def is_fit_question(text: str) -> bool:
    """True when the text asks whether co-creation suits a case."""
    if _FIT.search(text):
        return True
    return any(_YES_NO.match(s.strip()) and _CO_CREATING.search(s) for s in _SENTENCE.findall(text))


FIT_FACET = "Når egner samskaping seg, og når egner det seg ikke?"

# "What does the thesis conclude?" asks for its conclusion chapter and summary, whose words
# (konklusjon, sammendrag) the question's verb forms ("konkluderer") do not share after stemming.
_CONCLUSION = re.compile(r"\bkonklu\w*|\bconclu\w*|\bhovedfunn\w*|\bmain findings?\b", re.IGNORECASE)
CONCLUSION_FACET = "Konklusjon og sammendrag av masteroppgaven"

PART_WEIGHT = 0.5  # a compound's parts count half as much as the compound itself
VARIANT_WEIGHT = 1.0  # the other written standard counts like the word the user wrote
# Keyword expansions keyword_terms() applies; a subset switches the others off (for measuring).
EXPANSIONS = ("compounds", "nynorsk", "english", "lay_legal")


@dataclass
class Query:
    """What a question asks for, ready for the retriever."""

    text: str
    lang: Lang
    keys: list[str] = field(default_factory=list)  # paragraphs the text names with their law
    bare_keys: list[str] = field(default_factory=list)  # paragraphs named without a law, in every law
    laws: list[str] = field(default_factory=list)  # law ids the text names
    terms: dict[str, float] = field(default_factory=dict)  # stemmed BM25 terms with weights
    legal: bool = False  # the text asks about law
    facets: list[str] = field(default_factory=list)  # extra sub-queries for the question's intent


def detect_language(text: str) -> Lang:
    """English when English function words outnumber Norwegian ones, else bokmål."""
    return "en" if len(_ENGLISH.findall(text)) > len(_NORWEGIAN.findall(text)) else "nb"


@lru_cache(maxsize=1)
def _variants() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for bokmal, nynorsk in NYNORSK_PAIRS:
        a, b = stem([bokmal, nynorsk])
        if a != b:
            table.setdefault(a, []).append(b)
            table.setdefault(b, []).append(a)
    return table


def translate(text: str) -> str:
    """The Norwegian glossary words for the English domain terms in a text ('' when none)."""
    return " ".join(ENGLISH_GLOSSARY[m.group(1).lower()] for m in _GLOSSARY_RE.finditer(text))


def keyword_terms(
    text: str, lang: Lang, compounds: Decompounder | None = None, expansions: Collection[str] = EXPANSIONS
) -> dict[str, float]:
    """Weighted stemmed terms: the words, their compound parts, nynorsk/bokmål forms, glossary words."""
    terms: dict[str, float] = {}

    def add(term: str, weight: float) -> None:
        terms[term] = terms.get(term, 0.0) + weight

    items = words(text)
    if lang == "en" and "english" in expansions:
        items += words(translate(text))
    if "lay_legal" in expansions:
        items += words(" ".join(legal for pattern, legal in _LAY_TO_LEGAL if pattern.search(text)))
    variants = _variants() if "nynorsk" in expansions else {}
    splitter = compounds if "compounds" in expansions else None
    for word, term in zip(items, stem(items), strict=True):
        add(term, 1.0)
        for other in variants.get(term, ()):
            add(other, VARIANT_WEIGHT)
        for part in stem(splitter.split(word)) if splitter else []:
            add(part, PART_WEIGHT)
            for other in variants.get(part, ()):
                add(other, PART_WEIGHT * VARIANT_WEIGHT)
    return terms


def analyze(
    text: str,
    known_keys: Collection[str],
    compounds: Decompounder | None = None,
    expansions: Collection[str] = EXPANSIONS,
    lang: Lang | None = None,
    laws: Sequence[str] | None = None,
) -> Query:
    """Parse a search text: named paragraphs (resolved to cite keys), named laws, language and terms.

    A caller that has read the question already (question.parse_question) passes its language and
    named laws, so they are found once.
    """
    lang = lang or detect_language(text)
    refs = find_references(text)
    keys = resolve([r for r in refs if r.law_id], known_keys)
    bare = [k for k in resolve([r for r in refs if not r.law_id], known_keys) if k not in keys]
    laws = list(laws) if laws is not None else mentioned_laws(text)
    fit = is_fit_question(text)  # about co-creation's fit, not about the law of the case
    return Query(
        text=text,
        lang=lang,
        keys=keys,
        bare_keys=bare,
        laws=laws,
        terms=keyword_terms(text, lang, compounds, expansions),
        legal=bool(refs or laws or _LEGAL.search(text)) and not fit,
        facets=[FIT_FACET] * fit + [CONCLUSION_FACET] * bool(_CONCLUSION.search(text)),
    )
