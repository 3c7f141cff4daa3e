"""Find law and paragraph references in free text: "kommuneloven § 11-5", "koml. 5-7", "fvl. § 6"."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from .ingest.lawmeta import LAWS, paragraph_token

# English names users write, mapped to law ids.
ENGLISH_NAMES: dict[str, str] = {
    "local government act": "lov/2018-06-22-83",
    "public administration act": "lov/1967-02-10",
    "freedom of information act": "lov/2006-05-19-16",
    "planning and building act": "lov/2008-06-27-71",
    "personal data act": "lov/2018-06-15-38",
    "public procurement act": "lov/2016-06-17-73",
    "public procurement regulations": "forskrift/2016-08-12-974",
    "procurement regulation": "forskrift/2016-08-12-974",
    "education act": "lov/2023-06-09-30",
    "gdpr": "lov/2018-06-15-38",
    "personvernforordningen": "lov/2018-06-15-38",
}


def _alias_table() -> list[tuple[str, str]]:
    pairs = [(alias.lower(), law) for law, (_, aliases) in LAWS.items() for alias in aliases]
    pairs += list(ENGLISH_NAMES.items())
    return sorted(pairs, key=lambda p: -len(p[0]))  # longest first: "ny forvaltningslov" before "fvl"


_ALIASES = _alias_table()
_ALIAS_RE = re.compile(
    r"(?<![\wæøå])(" + "|".join(re.escape(a) for a, _ in _ALIASES) + r")(?:ens|en|a|s)?\.?(?![\wæøå])",
    re.IGNORECASE,
)
_PARA = r"\d+(?:\s*-\s*\d+)?(?:\s?[a-h](?![\wæøå]))?"
# "§ 5-7", "§§ 11-3 og 11-4", "paragraf 5-7", "section 5-7"
_SECTION_RE = re.compile(
    rf"(?:§§?|paragrafene|paragrafen|paragraf|sections?)\s*({_PARA}(?:\s*(?:,|og|and|eller|or|–|-)\s*{_PARA})*)",
    re.IGNORECASE,
)
_YEAR = r"(?:1[89]|20)\d\d(?![\d-])"
_ARTICLE_RE = re.compile(r"(?:artikkel|article|art\.)\s*(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Reference:
    """A paragraph a text refers to; law_id is empty when the text names no law."""

    law_id: str
    paragraph: str  # token as in cite keys: "5-7", "11a"
    start: int
    end: int

    def key(self) -> str:
        if self.paragraph.startswith("gdpr/"):
            return f"{self.law_id}/{self.paragraph}"
        return f"{self.law_id}/§{self.paragraph}"


def mentioned_laws(text: str) -> list[str]:
    """Law ids named in the text (by name or alias), in order of first mention."""
    alias_to_law = dict(_ALIASES)
    found = [alias_to_law[m.group(1).lower()] for m in _ALIAS_RE.finditer(text)]
    return list(dict.fromkeys(found))


def _law_near(text: str, start: int, end: int) -> str:
    """The law named right before a reference (within 40 characters), else right after it."""
    alias_to_law = dict(_ALIASES)
    before = [m for m in _ALIAS_RE.finditer(text, max(0, start - 40), start)]
    # A law name binds to the reference next to it, unless another §, a quote or a line break stands
    # between them ("Kommuneloven § 5-1: «… § 52 …»" does not make § 52 a kommuneloven §, nor does a
    # link ending in "§18)" make § 18 a paragraph of the law named on the next line).
    if before and not re.search(r"[§«»\n]", text[before[-1].end() : start]):
        return alias_to_law[before[-1].group(1).lower()]
    after = _ALIAS_RE.search(text, end, min(len(text), end + 25))
    if after and not re.search(r"[§«»\n]", text[end : after.start()]):
        return alias_to_law[after.group(1).lower()]
    return ""


def _tokens(group: str) -> list[str]:
    parts = re.findall(_PARA, group, re.IGNORECASE)
    return [paragraph_token(p) for p in parts]


def find_references(text: str) -> list[Reference]:
    """Every paragraph reference in the text, with the law it belongs to when one is named."""
    refs: list[Reference] = []
    covered: list[tuple[int, int]] = []
    for match in _SECTION_RE.finditer(text):
        law = _law_near(text, match.start(), match.end())
        for token in _tokens(match.group(1)):
            refs.append(Reference(law, token, match.start(), match.end()))
        covered.append((match.start(), match.end()))
    # "koml. 5-7" / "fvl 6": an alias directly followed by a number, without "§". A year is no
    # paragraph: "Opplæringslova 2023" names the law of 2023.
    for match in _ALIAS_RE.finditer(text):
        rest = re.match(rf"\s*(?!{_YEAR})({_PARA})(?![\d\wæøå])", text[match.end() :], re.IGNORECASE)
        if not rest or any(s <= match.end() < e for s, e in covered):
            continue
        law = dict(_ALIASES)[match.group(1).lower()]
        refs.append(Reference(law, paragraph_token(rest.group(1)), match.start(), match.end() + rest.end()))
    for match in _ARTICLE_RE.finditer(text):
        law = _law_near(text, match.start(), match.end())
        if law == "lov/2018-06-15-38":
            refs.append(Reference(law, f"gdpr/a{match.group(1)}", match.start(), match.end()))
    refs.sort(key=lambda r: r.start)
    return list(dict.fromkeys(refs))


def resolve(refs: Iterable[Reference], known_keys: Collection[str]) -> list[str]:
    """Cite keys in the index for the references; a reference without a law matches every law.

    `known_keys` is used as given when it is a set or mapping (the index's `by_key`): copying 100,000
    keys for every question would cost more than the rest of the query analysis.
    """
    keys = known_keys if isinstance(known_keys, (set, frozenset, dict)) else set(known_keys)
    out: list[str] = []
    for ref in refs:
        if ref.law_id:
            if ref.key() in keys:
                out.append(ref.key())
            continue
        suffix = f"/§{ref.paragraph}"
        out.extend(sorted(k for k in keys if k.endswith(suffix)))
    return list(dict.fromkeys(out))
