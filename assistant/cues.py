"""Cue matching: catalogue phrases found in a question, as whole words or, for several words, as stems close together."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from .question import ParsedQuestion
from .textproc import tokenize


def _phrase_pattern(phrases: list[str]) -> re.Pattern[str] | None:
    cleaned = sorted({p.lower().strip() for p in phrases if p and p.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    body = "|".join(re.escape(p) for p in cleaned)
    return re.compile(rf"(?<![\wæøå])(?:{body})(?![\wæøå])")


@lru_cache(maxsize=512)
def _compiled(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    return _phrase_pattern(list(phrases))


@lru_cache(maxsize=16384)
def phrase_stems(phrase: str) -> tuple[str, ...]:
    """The stems of a catalogue phrase; phrases are fixed, so each is tokenised once per process."""
    return tuple(tokenize(phrase))


def matches(text: str | ParsedQuestion, phrases: list[str]) -> list[str]:
    """Cue phrases found in text: exact whole words, or (for several words) their stems in order, close."""
    lowered, stems = (
        (text.lowered, text.stems) if isinstance(text, ParsedQuestion) else (text.lower(), tokenize(text))
    )
    pattern = _compiled(tuple(phrases))
    found = list(dict.fromkeys(m.group(0) for m in pattern.finditer(lowered))) if pattern else []
    for phrase in phrases:
        parts = phrase_stems(phrase)
        if len(parts) > 1 and phrase.lower() not in found and _near(parts, stems):
            found.append(phrase.lower())
    return found


def _near(parts: Sequence[str], stems: Sequence[str], slack: int = 2) -> bool:
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


def stem_matches(text: str, phrases: list[str]) -> list[str]:
    """Phrases whose stems all occur in the text in order, close together (any inflection of each word)."""
    stems = tokenize(text)
    present = set(stems)
    found = []
    for phrase in phrases:
        parts = phrase_stems(phrase)
        if parts and (parts[0] in present if len(parts) == 1 else _near(parts, stems)):
            found.append(phrase.lower())
    return found


COMPOUND_HEAD = 5  # a word this long or longer also matches as the last part of a compound


def compound_matches(text: str, words: list[str]) -> list[str]:
    """Single words found in the text, also as the head of a compound («minoritetsforeldre» has «foreldre»)."""
    stems = set(tokenize(text))
    found = []
    for word in words:
        parts = phrase_stems(word)
        if len(parts) != 1:
            continue
        head = parts[0]
        if head in stems or (len(head) >= COMPOUND_HEAD and any(s.endswith(head) and len(s) > len(head) for s in stems)):
            found.append(word.lower())
    return found
