"""Decide whether a question is one Samskap should answer: in scope, specific enough, not an attack."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .answer import Lang
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
# Topics outside the corpus (asked without any co-creation or municipal-law context).
_OFF_TOPIC = re.compile(
    r"skattesats|skatteprosent|inntektsskatt|formuesskatt|\bmva-sats|fartsgrense|trafikkregl|motorvei|"
    r"været|værmelding|weather|oppskrift på (?!hvordan)|recipe for (?!running)|fiskesuppe|fotball|eliteserien|"
    r"football|limerick|dikt om|poem about|aksjer|stocks|kryptovaluta|reklametekst|slagord|marketing copy|"
    r"advertising slogan|horoskop|lotto",
    re.IGNORECASE,
)
# Asking for an opinion about a named person (personal data about a third party).
_PERSON_OPINION = re.compile(
    r"(?:hva synes du om|hva mener du om|din personlige vurdering av|er (?:han|hun|hen) til å stole på|"
    r"what do you think of|is (?:he|she) trustworthy)",
    re.IGNORECASE,
)
_NAMED_PERSON = re.compile(r"\b[A-ZÆØÅ][a-zæøå]+ [A-ZÆØÅ][a-zæøå]+\b|naboen min|kollegaen min|my neighbou?r")
# Words that show the question is about co-creation, municipal organisation or the laws in the corpus.
_DOMAIN = re.compile(
    r"samskap|co-creat|cocreat|innovasjon|innovation|kommun|municipal|council|innbygger|citizen|resident|"
    r"frivillig|volunt|medvirk|particip|utvalg|utval|committee|metode|method|living lab|lab\b|tjenestedesign|"
    r"service design|utopia|nettverk|network|team|matrise|matrix|portefølje|portfolio|plattform|platform|"
    r"anskaff|innkjøp|procure|leverandør|supplier|personvern|personopplys|privacy|data protection|gdpr|"
    r"innsyn|public access|offentleg|offentlig|habil|impartial|taushet|confidential|lov\b|loven|lova|law\b|act\b|"
    r"forskrift|regulation|§|paragraf|section|folkevalg|politik|politician|elected|oppgave|thesis|masteroppgav|"
    r"nordre follo|tankskip|eldre|elderly|ungdom|youth|skole|school|barnehage|helse|health|plan|bygg|vedtak|decision|"
    r"tilsyn|brukerråd|samarbeidsutvalg|siloer|silo|ledelse|leader|prosjekt|project|tjeneste|service|bydel|bygd|"
    r"nærmiljø|familie|family|forebygg|prevent|klima|climate|utenforskap|exclusion|hjemmetjeneste|home care|"
    r"folkemøte|innspill|input|møte|meeting|studie|study|intervju|interview|informant|forsk|research|workshop|verksted",
    re.IGNORECASE,
)
_VAGUE = re.compile(
    r"^(?:hva er reglene|hva sier loven|kan vi gjøre det|er det lov|går det an|hva gjør vi nå|hjelp|"
    r"what are the rules|can we do (?:it|that)|is it allowed|help)\s*[?.!]*$",
    re.IGNORECASE,
)


def instructs_a_model(text: str) -> bool:
    """True when a text speaks to a language model ("ignore previous instructions", "system prompt")."""
    return bool(_EXTRACTION.search(text))


@dataclass
class ScopeDecision:
    refuse: bool
    # short machine-readable reason: empty | too_long | language | extraction | off_topic | vague | person
    reason: str = ""
    message: str = ""  # what the user reads


def refusal(reason: str, lang: Lang) -> ScopeDecision:
    return ScopeDecision(True, reason, REFUSALS[lang][reason].format(max=MAX_QUESTION_CHARS))


def check_scope(
    question: str, lang: Lang, has_history: bool = False, corpus_overlap: float | None = None
) -> ScopeDecision:
    """Refuse empty, overlong, foreign-language, prompt-extraction, off-topic, person-judging and vague questions.

    `corpus_overlap` is the share of the question's content words found in the corpus vocabulary; it
    keeps in scope a question that uses none of our domain words but clearly the corpus's language.
    """
    text = clean_question(question)
    if not any(c.isalnum() for c in text):  # nothing, or only emoji and punctuation
        return refusal("empty", lang)
    if len(text) > MAX_QUESTION_CHARS:
        return refusal("too_long", lang)
    if unsupported_language(text):
        return refusal("language", lang)
    if _EXTRACTION.search(text):
        return refusal("extraction", lang)
    if _PERSON_OPINION.search(text) and _NAMED_PERSON.search(text):
        return refusal("person", lang)
    if _OFF_TOPIC.search(text) and not re.search(r"samskap|co-creat|kommun|municipal", text, re.I):
        return refusal("off_topic", lang)
    if _VAGUE.match(text) and not has_history:
        return refusal("vague", lang)
    if not _DOMAIN.search(text) and not has_history and (corpus_overlap or 0.0) < 0.75:
        return refusal("off_topic", lang)
    return ScopeDecision(False)
