"""Evidence for one question: the retrieved passages' sentences ranked against it, and the citation book.

An answer is planned from these sentences: the best sentence of the decisive passage carries the
summary, the next ones the key points. Every quote is an exact substring of its passage (with
whitespace collapsed), so a reader can find it in the source.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from .answer import Basis, Citation, Lang
from .index import Index
from .ingest.base import Chunk
from .ingest.lawmeta import in_force_date
from .query import keyword_terms
from .question import ParsedQuestion
from .retrieve import HEADING, Hit, heading_text
from .textproc import Decompounder, tokenize
from .texts.answer import T, long_date

DEPTH = 6  # passages whose sentences are ranked (named paragraphs come on top of these)
RANK_WEIGHT = 0.35  # how much the passage's retrieval rank counts beside the sentence's own overlap
HISTORY_WEIGHT = 0.3  # terms of the previous question, for a follow-up
MAX_SENTENCE = 420  # longer sentences are cut at a word boundary (still a substring)


# A sentence ends at . ! ? : ; followed by space, but not after an abbreviation (jf., bl.a., f.eks., nr.)
# or a list letter ("a)").
_SENTENCE_END = re.compile(
    r"(?<!\bjf\.)(?<!\bnr\.)(?<!\bca\.)(?<!\bmv\.)(?<!\bpkt\.)(?<!\bbl\.a\.)(?<!\bf\.eks\.)(?<!\bosv\.)"
    r"(?<=[.!?:;])\s+"
)


def sentences(text: str, min_chars: int = 20) -> list[str]:
    """Sentences of a passage with whitespace collapsed, its numbered heading left out; `min_chars=0`
    keeps short ones (for windows). Consecutive sentences joined by a space are a substring of the
    passage with whitespace collapsed."""
    return [s for s in _split(text) if len(s) > min_chars]


@lru_cache(maxsize=4096)
def _split(text: str) -> tuple[str, ...]:
    """All sentences of a passage (the same passages are split for every question that retrieves them)."""
    out: list[str] = []
    for number, paragraph in enumerate(re.split(r"\n\s*\n", text.strip())):
        flat = " ".join(paragraph.split())
        if number == 0 and HEADING.fullmatch(flat):
            continue
        out += _SENTENCE_END.split(flat)
    return tuple(out)


@lru_cache(maxsize=16384)
def _stems(text: str, compounds: Decompounder | None = None) -> frozenset[str]:
    """Stems of a text, with its compounds' parts given a decompounder (corpus sentences are scored for
    many questions)."""
    return frozenset(tokenize(text, compounds))


def clip(text: str, max_chars: int) -> str:
    """A prefix of the text that ends at a word boundary (so a quote stays a substring)."""
    return text if len(text) <= max_chars else text[:max_chars].rsplit(" ", 1)[0] + " …"


MAX_EXPANDED = 520  # a quoted fragment grows to its whole sentence when that is at most this long


def whole_sentence(quote: str, chunks: Sequence[Chunk]) -> str:
    """The sentence a quoted fragment («kommunalsjefer, etatssjefer og ledere …») belongs to, so a reader
    sees the rule and not only its words; the fragment itself when the sentence is very long."""
    fragment = norm(quote.removesuffix(" …"))
    for chunk in chunks:
        for sentence in sentences(chunk.text, 0):
            if fragment in sentence and len(sentence) <= MAX_EXPANDED:
                return sentence if sentence != fragment else quote
    return quote


def best_quote(chunks: list[Chunk], hint: str, max_chars: int = 320, window: int = 1) -> str:
    """The run of `window` consecutive sentences that best matches the hint; an exact substring
    of the passage (with whitespace collapsed)."""
    hint_tokens = set(tokenize(hint))
    best, best_score = "", -1.0
    for chunk in chunks:
        parts = sentences(chunk.text, min_chars=0)  # consecutive, so a window stays one substring
        for start in range(len(parts)):
            candidate = " ".join(parts[start : start + window])
            if len(candidate) <= 20:
                continue
            overlap = len(hint_tokens & _stems(candidate))
            score = overlap - 0.001 * len(candidate)
            if score > best_score:
                best, best_score = candidate, score
    if not best and chunks:
        best = " ".join(chunks[0].text.split())
    return best if len(best) <= max_chars else best[:max_chars].rsplit(" ", 1)[0]


@dataclass(frozen=True)
class Sentence:
    """One sentence of a retrieved passage, scored against the question."""

    key: str
    chunk: Chunk
    text: str
    score: float  # overlap with the question's weighted terms (0–1) plus the passage's rank prior
    coverage: float  # share of the question's (idf-weighted) terms the sentence contains
    rank: int  # the passage's position in the retrieval (0 = best)


class Terms:
    """The question's weighted search terms (stems, compound parts, other written forms), idf-weighted."""

    def __init__(self, question: ParsedQuestion, index: Index) -> None:
        bm25, n = index.bm25, max(index.bm25.n_docs, 1)
        self.compounds = bm25.compounds
        terms = keyword_terms(question.text, question.text_lang, bm25.compounds)
        if question.follow_up:  # the earlier question gives context, the new one says what is asked
            for term, weight in keyword_terms(question.history[-1][0], question.text_lang, bm25.compounds).items():
                terms[term] = terms.get(term, 0.0) + HISTORY_WEIGHT * weight
        # idf squared: the rare words of a question ("kommunalsjef", "hastevedtak") say what it is about
        self.weight = {
            t: w * math.log(1 + (n - bm25.doc_freq(t) + 0.5) / (bm25.doc_freq(t) + 0.5)) ** 2
            for t, w in terms.items()
        }
        self.total = sum(self.weight.values()) or 1.0

    def covered(self, text: str) -> set[str]:
        """The question's terms that the text contains."""
        stems = _stems(text, self.compounds)
        return {t for t in self.weight if t in stems}

    def share(self, terms: set[str]) -> float:
        """The weight of some of the question's terms, as a share (0–1) of all."""
        return sum(self.weight[t] for t in terms) / self.total

    def coverage(self, text: str) -> float:
        """Share (0–1) of the question's weighted terms that the text contains."""
        return self.share(self.covered(text))


def rank_sentences(terms: Terms, hits: Sequence[Hit], depth: int = DEPTH) -> list[Sentence]:
    """Sentences of the top passages, best first: weighted overlap with the question, plus the passage's
    fused retrieval score relative to the best (a named paragraph counts as the best)."""
    chosen = [h for h in hits if h.direct] + [h for h in hits if not h.direct][:depth]
    top = max((h.score for h in hits if not h.direct), default=0.0) or 1.0
    out: list[Sentence] = []
    for rank, hit in enumerate(chosen):
        prior = RANK_WEIGHT * (1.0 if hit.direct else min(hit.score / top, 1.0))
        heading = heading_text(hit.chunk)  # a sentence under "§ 11-5 Møteoffentlighet" is about that
        for text in sentences(hit.chunk.text):
            coverage = terms.coverage(f"{heading} {text}")
            out.append(Sentence(hit.key, hit.chunk, clip(text, MAX_SENTENCE), coverage + prior, coverage, rank))
    out.sort(key=lambda s: -s.score)
    return out


def best_per_passage(ranked: Sequence[Sentence]) -> list[Sentence]:
    """The best sentence of each passage, in the order of their scores."""
    seen: dict[str, Sentence] = {}
    for sentence in ranked:
        seen.setdefault(sentence.key, sentence)
    return list(seen.values())


def short_title(title: str) -> str:
    """A thesis section's own heading ('4.1.1 Funn i lokale dokumenter'), not its whole path."""
    return title.rsplit(" › ", 1)[-1]


def basis_of(chunk: Chunk) -> Basis:
    return {"law": "lov", "strategy": "strategi"}.get(chunk.source_type, "forskning")  # type: ignore[return-value]


@lru_cache(maxsize=4096)
def norm(text: str) -> str:
    return " ".join(text.split())


@dataclass
class CitationBook:
    """Numbers citations in order of first use; every key must exist in the index."""

    index: Index
    lang: Lang
    items: list[Citation] = field(default_factory=list)

    def cite(self, key: str, hint: str = "", quote: str = "", basis: Basis | None = None, kind: str = "") -> str:
        """Register a citation and return its marker '[n]' (empty when the key is not in the index)."""
        chunks = self.index.by_key.get(key)
        if not chunks:
            return ""
        for item in self.items:
            if item.key == key:
                item.kind = item.kind or kind
                return f"[{item.number}]"
        first = chunks[0]
        if not quote or not any(norm(quote.removesuffix(" …")) in norm(c.text) for c in chunks):
            quote = best_quote(chunks, hint or first.title)
        quote = whole_sentence(quote, chunks)
        self.items.append(
            Citation(
                key=key,
                title=first.title,
                quote=quote.removesuffix(" …"),
                url=first.url,
                version=first.version_label,
                basis=basis or basis_of(first),
                number=len(self.items) + 1,
                warning=law_warning(first, self.lang),
                kind=kind,
            )
        )
        return f"[{len(self.items)}]"

    def cite_all(self, keys: Sequence[str], hint: str = "") -> str:
        return "".join(self.cite(k, hint) for k in keys)

    def numbers(self) -> set[int]:
        return {c.number for c in self.items}


def law_warning(chunk: Chunk, lang: Lang, today: date | None = None) -> str:
    t = T[lang]
    if chunk.version_kind == "not_in_force":
        return f"{t['not_in_force']} ({chunk.version_label})"
    if chunk.repealed:
        return t["repealed"]
    if chunk.pending_repeal:
        when = in_force_date(chunk.pending_repeal)
        if when and when <= (today or date.today()):
            # The repeal has taken effect since the corpus text was fetched: the quoted text is history.
            return t["repealed_since"].format(date=long_date(when, lang)) + f" ({chunk.pending_repeal})"
        return f"{t['pending']}: {chunk.pending_repeal}"
    return ""
