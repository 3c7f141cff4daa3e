"""Law identities: lovdata.no keys, short names, aliases and version labels (CONTRACTS.md §1)."""

from __future__ import annotations

import re
from datetime import date

# law id (lovdata.no key prefix) -> (display short name, aliases users type)
LAWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "lov/2018-06-22-83": ("Kommuneloven", ("kommuneloven", "koml", "kml")),
    "lov/1967-02-10": ("Forvaltningsloven", ("forvaltningsloven", "fvl")),
    "lov/2025-06-20-81": ("Forvaltningsloven (2025)", ("ny forvaltningslov", "nye forvaltningsloven")),
    "lov/2006-05-19-16": ("Offentleglova", ("offentleglova", "offentlighetsloven", "offl")),
    "lov/2008-06-27-71": ("Plan- og bygningsloven", ("plan- og bygningsloven", "pbl")),
    "lov/2018-06-15-38": ("Personopplysningsloven", ("personopplysningsloven", "popplyl", "popl")),
    "lov/2016-06-17-73": ("Anskaffelsesloven", ("anskaffelsesloven", "loa")),
    "forskrift/2016-08-12-974": ("Anskaffelsesforskriften", ("anskaffelsesforskriften", "foa")),
    "lov/2023-06-09-30": ("Opplæringslova", ("opplæringslova", "opplæringsloven", "oppll")),
}

_REF = re.compile(
    r"(?:(?:NL|SF|LTI)/)?(?P<kind>lov|forskrift|LOV|FOR)[/-](?P<y>\d{4})-?(?P<m>\d{2})-?(?P<d>\d{2})"
    r"(?:-(?P<num>\d+))?",
)


def law_id(ref: str) -> str:
    """Normalise any Lovdata reference to the lovdata.no key prefix.

    'LOV-2018-06-22-83', 'NL/lov/2018-06-22-83', 'LTI/lov/2018-06-22-83', 'nl-20180622-083'
    and 'SF/forskrift/2016-08-12-974' become 'lov/2018-06-22-83' / 'forskrift/2016-08-12-974'.
    A number of 0 (laws without one, e.g. forvaltningsloven 1967) is left out.
    """
    text = ref.strip()
    file_match = re.fullmatch(r"(nl|sf)-(\d{4})(\d{2})(\d{2})-(\d+)(?:\.\w+)?", text, re.I)
    if file_match:
        prefix, y, m, d, num = file_match.groups()
        kind = "lov" if prefix.lower() == "nl" else "forskrift"
    else:
        match = _REF.search(text)
        if not match:
            raise ValueError(f"not a Lovdata reference: {ref!r}")
        kind = "lov" if match["kind"].lower() == "lov" else "forskrift"
        y, m, d, num = match["y"], match["m"], match["d"], match["num"]
    number = str(int(num)) if num and int(num) else ""
    return f"{kind}/{y}-{m}-{d}" + (f"-{number}" if number else "")


def paragraph_token(paragraph: str) -> str:
    """'§ 5-7' -> '5-7'; '§ 11 a' / '§11a.' -> '11a'; '§ 7-2 a' -> '7-2a'."""
    text = paragraph.replace("§", "").strip().rstrip(".").strip()
    return re.sub(r"\s+", "", text).lower()


def cite_key(law: str, paragraph: str) -> str:
    """The cite key of a paragraph: 'lov/2018-06-22-83/§5-7'."""
    return f"{law}/§{paragraph_token(paragraph)}"


def law_url(key: str) -> str:
    return "https://lovdata.no/" + key


def short_name(law: str, title: str = "") -> str:
    """Display name: from our table, else the parenthesised short title, else the title."""
    if law in LAWS:
        return LAWS[law][0]
    match = re.search(r"\(([^()]+)\)\s*\.?\s*$", title)
    if match:
        name = match.group(1).strip()
        return name[:1].upper() + name[1:]
    return title.strip()


def version_label(kind: str, date: str, lang: str = "nb") -> str:
    """Human label for a text version, e.g. 'gjeldende, sist endret 20.06.2025'."""
    shown = _no_date(date)
    if lang == "en":
        return {
            "as_enacted": f"as enacted {shown}",
            "current": f"current, last amended {shown}",
            "not_in_force": f"adopted {shown}, not yet in force",
        }.get(kind, shown)
    return {
        "as_enacted": f"som vedtatt {shown}",
        "current": f"gjeldende, sist endret {shown}",
        "not_in_force": f"vedtatt {shown}, ikke i kraft",
    }.get(kind, shown)


def _no_date(iso: str) -> str:
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", iso.strip())
    return f"{match[3]}.{match[2]}.{match[1]}" if match else iso


# Adopted laws known NOT to be in force yet. Lovtidend ("as enacted", LTI/) metadata is frozen at
# publication, so its "I kraft fra: Kongen bestemmer" cannot tell a law that is still waiting (the new
# forvaltningsloven 2025) from one put in force later (kommuneloven 2018, in force 2019/2020). A LTI text
# is therefore "as_enacted" unless its law is listed here or its stated in-force date lies in the future.
NOT_IN_FORCE: frozenset[str] = frozenset({"lov/2025-06-20-81"})

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# "Oppheves ved lov …" / nynorsk "Vert (Blir) oppheva ved lov …": a repeal adopted but not yet in
# force. Lovdata's renderings sometimes drop the spaces ("Opphevesved lov6 mars …"), hence `\s*`.
_PENDING_REPEAL = re.compile(
    r"(?:\b(?:Loven|Lova|Forskriften|Forskrifta|Paragrafen|Bestemmelsen|Føresegna)\s+)?"
    r"(?:[Oo]ppheves|(?:[Vv]ert|[Bb]lir)\s+oppheva)\s*(?:ved|med)\b.*",
    re.DOTALL,
)
_REPEALED_HEADING = re.compile(r"\(?\s*(?:opphevet|oppheva)\s*\)?\s*\.?", re.IGNORECASE)


def iso_date(text: str) -> str:
    """The first ISO date (YYYY-MM-DD) in a text, or ''."""
    match = _ISO_DATE.search(text)
    return match.group(0) if match else ""


def pending_repeal_note(note: str) -> str:
    """The 'Oppheves ved lov …' part of an amendment note, or '' when it announces no repeal."""
    match = _PENDING_REPEAL.search(note)
    return match.group(0).strip() if match else ""


MONTHS = ("januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober",
           "november", "desember")
_IN_FORCE_DATE = re.compile(r"i\s*kraft\s*(\d{1,2})\.?\s*(" + "|".join(MONTHS) + r")\s*(\d{4})", re.IGNORECASE)


def in_force_date(note: str) -> date | None:
    """The date an amendment note says it takes effect ("… (i kraft 1 juli 2026)"), or None."""
    match = _IN_FORCE_DATE.search(note)
    if not match:
        return None
    day, month, year = match.groups()
    try:
        return date(int(year), MONTHS.index(month.lower()) + 1, int(day))
    except ValueError:
        return None


def is_repealed_heading(heading: str) -> bool:
    """True for a paragraph heading that only says '(Opphevet)' / '(Oppheva)'."""
    return bool(_REPEALED_HEADING.fullmatch(heading.strip()))


def paragraph_title(short: str, paragraph: str, heading: str) -> str:
    """Display title of a paragraph: 'Kommuneloven § 5-7. Utvalg'."""
    head = f"{short} {paragraph}".strip()
    return f"{head}. {heading}" if heading else head


def unique_keys(keys: list[str]) -> list[str]:
    """Make cite keys unique in document order: a repeat of key K becomes 'K_2', 'K_3', …

    Lovdata never repeats a paragraph address within one document, but a rendering might (e.g. a
    transitional section quoting another law). The first occurrence keeps the real key so that
    citations and lovdata.no links stay correct; later ones get a suffix that no key can match by
    accident under the CONTRACTS matching rule (which only extends keys with '.').
    """
    seen: dict[str, int] = {}
    out = []
    for key in keys:
        seen[key] = seen.get(key, 0) + 1
        out.append(key if seen[key] == 1 else f"{key}_{seen[key]}")
    return out
