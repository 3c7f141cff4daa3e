"""The words of an answer, in Norwegian bokmål and English: headings, labels, notices and lead-ins."""

from __future__ import annotations

from datetime import date

from ..answer import Lang
from ..ingest.lawmeta import MONTHS

NOTICE = {
    "nb": "*Dette er veiledning, ikke juridisk rådgivning. Kontroller gjeldende lovtekst på lovdata.no.*",
    "en": "*This is guidance, not legal advice. Check the text in force on lovdata.no.*",
}
# The weight of what a statement rests on (answer.Basis).
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
# The first words of a fit verdict's summary.
VERDICT_LEAD = {
    "nb": {
        "suited": "Ja, samskaping egner seg her.",
        "not_suited": "Nei, samskaping egner seg ikke her.",
        "depends": "Det kommer an på.",
    },
    "en": {
        "suited": "Yes, co-creation fits here.",
        "not_suited": "No, co-creation does not fit here.",
        "depends": "It depends.",
    },
}
# A fit criterion's status as shown beside it.
STATUS_LABEL = {
    "nb": {"met": "Ja", "not_met": "Nei", "unknown": "Ukjent"},
    "en": {"met": "Yes", "not_met": "No", "unknown": "Unknown"},
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
        "clarify": "Spørsmål tilbake",
        "criteria": "Kriteriene",
        "points": "Det viktigste",
        "fit": "Passer samskaping?",
        "methods": "Anbefalte metoder",
        "method_steps": "Metode og første steg",
        "why": "Hvorfor",
        "start": "Slik kommer dere i gang",
        "caveats": "Vær obs på",
        "checklist": "Sjekkliste",
        "legal": "Rettslig grunnlag",
        "legal_more": "Mer om regelverket",
        "open": "Åpne spørsmål til kommuneadvokaten",
        "differ": "Oppgaven og dagens lov",
        "law_text": "Lovtekst",
        "passages": "Fra kildene",
        "sources": "Kilder",
        "more_sources": "Øvrige kilder",
        "more": "Mer",
        "best_method": "Best egnet er {name}:",
        "source_says": "{title} ({basis}):",
        "closest_says": "Kildene svarer ikke direkte på spørsmålet. Nærmest kommer {title} ({basis}):",
        "start_with": "Start med: {name}.",
        "none": "Korpuset gir ikke et sikkert svar på dette spørsmålet.",
        "not_in_force": "Ikke i kraft ennå",
        "repealed": "Opphevet",
        "pending": "Oppheving er vedtatt",
        "repealed_since": "Opphevet fra {date} ifølge endringsnotatet; teksten i korpuset er eldre enn "
        "opphevingen – kontroller gjeldende rett på lovdata.no eller kjør `python -m assistant update-laws`",
    },
    "en": {
        "short": "Short answer",
        "clarify": "A question back",
        "criteria": "The criteria",
        "points": "Key points",
        "fit": "Does co-creation fit?",
        "methods": "Recommended methods",
        "method_steps": "Method and first steps",
        "why": "Why",
        "start": "How to get started",
        "caveats": "Watch out for",
        "checklist": "Checklist",
        "legal": "Legal basis",
        "legal_more": "More on the rules",
        "open": "Open questions for the municipal lawyer",
        "differ": "The thesis and today's law",
        "law_text": "Statutory text",
        "passages": "From the sources",
        "sources": "Sources",
        "more_sources": "Other sources",
        "more": "More",
        "best_method": "The best match is {name}:",
        "source_says": "{title} ({basis}):",
        "closest_says": "The sources do not answer this directly. The closest is {title} ({basis}):",
        "start_with": "Start with: {name}.",
        "none": "The corpus does not give a reliable answer to this question.",
        "not_in_force": "Not yet in force",
        "repealed": "Repealed",
        "pending": "Repeal adopted",
        "repealed_since": "Repealed from {date} according to the amendment note; the corpus text predates "
        "the repeal – check the law in force on lovdata.no or run `python -m assistant update-laws`",
    },
}

# The advisor's own fit reasons (those of the criteria are in catalogue/criteria.yaml, of features in features.yaml);
# the sources they rest on are given where they are used (advisor.assess_fit).
FIT_REASONS = {
    "nb": {
        "participation": "Bruk heller god medvirkning og tydelig kommunikasjon; gjelder det plan, krever plan- og "
        "bygningsloven medvirkning.",
        "procurement": "I en anskaffelse kan kommunen ha dialog med leverandører før konkurransen, men må behandle dem "
        "likt og ikke gi noen en urimelig konkurransefordel; samskaping passer i behovs- og dialogfasen, ikke i "
        "tildelingen.",
    },
    "en": {
        "participation": "Use good participation (medvirkning) and clear communication instead; where a plan is "
        "involved, the Planning and Building Act requires participation.",
        "procurement": "In a procurement the municipality may talk to suppliers before the competition, but must "
        "treat them equally and must not give anyone an unfair advantage; co-creation fits the needs and dialogue "
        "phase, not the award.",
    },
}
ACTOR_NAMES = {
    "nb": {"citizens": "innbyggere", "volunteers": "frivillige", "politicians": "folkevalgte",
           "business": "næringsliv", "suppliers": "leverandører"},
    "en": {"citizens": "citizens", "volunteers": "volunteers", "politicians": "politicians",
           "business": "business", "suppliers": "suppliers"},
}

_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


def long_date(day: date, lang: Lang) -> str:
    """'1. juli 2026' / '1 July 2026'."""
    if lang == "nb":
        return f"{day.day}. {MONTHS[day.month - 1]} {day.year}"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def label(basis: str, lang: Lang) -> str:
    """A weight label in bold: **Lov**, **Forskning** …"""
    return f"**{BASIS_LABEL[lang][basis]}**"
