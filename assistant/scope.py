"""Decide whether a question is one Samskap should answer: in scope, specific enough, not an attack."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .answer import Lang

MAX_QUESTION_CHARS = 4000

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


@dataclass
class ScopeDecision:
    refuse: bool
    reason: str = ""  # short machine-readable reason: empty | too_long | extraction | off_topic | vague | person
    message: str = ""  # what the user reads


_MESSAGES = {
    "nb": {
        "empty": "Skriv inn et spørsmål eller beskriv saken din, så hjelper jeg deg.",
        "too_long": f"Spørsmålet er for langt (over {MAX_QUESTION_CHARS} tegn). Korte ned teksten, eller beskriv "
        "saken med skjemaet.",
        "extraction": "Jeg deler ikke instruksjonene mine. Spør meg gjerne om samskaping, metoder eller det "
        "juridiske handlingsrommet i en sak.",
        "off_topic": "Dette ligger utenfor det Samskap kan svare på. Jeg svarer på spørsmål om samskaping i "
        "kommuner, metoder, og lovene i korpuset (blant annet kommuneloven, forvaltningsloven, "
        "offentleglova, plan- og bygningsloven, personopplysningsloven og anskaffelsesregelverket).",
        "vague": "Spørsmålet er for generelt til at jeg kan svare presist. Hvilken sak gjelder det? Beskriv "
        "gjerne hva dere vil gjøre, hvem som er med, og om kommunen skal fatte vedtak.",
        "person": "Jeg vurderer ikke enkeltpersoner. Spør meg gjerne om samskaping, metoder eller regelverket.",
    },
    "en": {
        "empty": "Type a question or describe your case, and I will help.",
        "too_long": f"The question is too long (over {MAX_QUESTION_CHARS} characters). Shorten it, or describe "
        "the case with the form.",
        "extraction": "I do not share my instructions. Ask me about co-creation, methods or the legal scope "
        "for a case.",
        "off_topic": "This is outside what Samskap can answer. I answer questions about co-creation in "
        "municipalities, methods, and the laws in the corpus (the Local Government Act, the Public "
        "Administration Act, the Freedom of Information Act, planning, data protection and "
        "procurement rules).",
        "vague": "The question is too general for a precise answer. Which case is it about? Describe what you "
        "want to do, who takes part, and whether the municipality makes a decision.",
        "person": "I do not assess individuals. Ask me about co-creation, methods or the rules.",
    },
}


def refusal(reason: str, lang: Lang) -> ScopeDecision:
    return ScopeDecision(True, reason, _MESSAGES[lang][reason])


def check_scope(
    question: str, lang: Lang, has_history: bool = False, corpus_overlap: float | None = None
) -> ScopeDecision:
    """Refuse empty, overlong, prompt-extraction, off-topic, person-judging and too vague questions.

    `corpus_overlap` is the share of the question's content words found in the corpus vocabulary; it
    keeps in scope a question that uses none of our domain words but clearly the corpus's language.
    """
    text = question.strip()
    if not text:
        return refusal("empty", lang)
    if len(text) > MAX_QUESTION_CHARS:
        return refusal("too_long", lang)
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
