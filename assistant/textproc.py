"""Norwegian tokenisation (Snowball stemmer, æ/ø/å intact) and the persisted BM25 keyword index."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .ingest.base import Chunk

# Stored in the manifest; a change rebuilds the index. Bump "tokenizer" when tokenize() changes for
# indexed text (2: compounds are followed by their parts). "fields": what keyword_text() indexes.
BM25_PARAMS = {
    "k1": 1.2, "b": 0.75, "method": "lucene", "stemmer": "norwegian", "tokenizer": 2, "fields": "title+text"
}

# Paragraph numbers like 5-7 or 11-5 stay one token; otherwise runs of word characters.
_TOKEN = re.compile(r"\d+(?:-\d+)+[a-zæøå]?|\w+", re.UNICODE)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("norwegian")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_NORWEGIAN

    # A few nynorsk function words the bokmål list lacks.
    nynorsk = {"ikkje", "eit", "dei", "ho", "korleis", "kva", "kvar", "frå", "berre", "vere", "vore"}
    return frozenset(STOPWORDS_NORWEGIAN) | frozenset(STOPWORDS_EN) | nynorsk


def words(text: str) -> list[str]:
    """Lower-cased word tokens without stopwords (not stemmed)."""
    stop = stopwords()
    return [t for t in _TOKEN.findall(text.lower()) if t not in stop and (len(t) > 1 or t.isdigit())]


def stem(items: list[str]) -> list[str]:
    """Snowball (Norwegian) stems of lower-cased words."""
    return list(_stemmer().stemWords(items))


class Decompounder:
    """Splits a compound into words seen in the corpus: 'oppgaveutvalg' -> ['oppgave', 'utvalg'].

    No dictionary: a split is valid when both parts are known words (at least MIN_PART letters; the
    left part may end in a linking -s or -e, as in 'samskapings|arena'). Among valid splits the most
    balanced wins, and long parts are split again, so 'kommunestyremedlemmer' also yields 'styre'.
    """

    MIN_PART = 4
    MIN_DF = 2  # a part must occur in at least this many chunks
    MAX_DEPTH = 2

    def __init__(self, known: Iterable[str]) -> None:
        self.known = frozenset(known)
        self._cache: dict[str, list[str]] = {}

    @classmethod
    def from_documents(cls, documents: Iterable[list[str]]) -> Decompounder:
        """Learn the known words from word lists (one per document)."""
        df: Counter[str] = Counter()
        for doc in documents:
            df.update(set(doc))
        stop = stopwords()
        return cls(
            w for w, n in df.items() if n >= cls.MIN_DF and len(w) >= 3 and w.isalpha() and w not in stop
        )

    def split(self, word: str) -> list[str]:
        """The parts of a compound (and of its long parts), or [] when it is not one."""
        if word not in self._cache:
            self._cache[word] = self._split(word, 0)
        return self._cache[word]

    def _split(self, word: str, depth: int) -> list[str]:
        if len(word) < 2 * self.MIN_PART or not word.isalpha():
            return []
        best: tuple[int, str, str] | None = None
        for i in range(self.MIN_PART, len(word) - self.MIN_PART + 1):
            left, right = word[:i], word[i:]
            if right not in self.known:
                continue
            for head in (left, left[:-1]) if left[-1] in "se" else (left,):
                if head in self.known:
                    balance = min(len(head), len(right))
                    if best is None or balance > best[0]:
                        best = (balance, head, right)
        if best is None:
            return []
        out: list[str] = []
        for part in best[1:]:
            out.append(part)
            if depth < self.MAX_DEPTH:
                out.extend(self._split(part, depth + 1))
        return out


def tokenize(text: str, compounds: Decompounder | None = None) -> list[str]:
    """Stemmed tokens for BM25; with a decompounder, each compound is followed by its parts."""
    items = words(text)
    if compounds is not None:
        items = [t for w in items for t in (w, *compounds.split(w))]
    return stem(items)


def keyword_text(chunk: Chunk) -> str:
    """What BM25 indexes for a chunk: its title (section path or law paragraph title) and its text."""
    return f"{chunk.title}\n{chunk.text}"


class BM25Index:
    """BM25 (bm25s, Lucene variant) over stemmed, decompounded tokens, saved as plain files."""

    def __init__(self, model: object, compounds: Decompounder | None = None) -> None:
        self._model = model
        self._vocab: dict[str, int] = model.vocab_dict  # type: ignore[attr-defined]
        self.compounds = compounds
        matrix = model.scores  # type: ignore[attr-defined]
        self._data = np.asarray(matrix["data"], dtype=np.float32)
        self._indices = np.asarray(matrix["indices"])
        self._indptr = np.asarray(matrix["indptr"])
        self.n_docs = int(matrix["num_docs"])

    @classmethod
    def build(cls, texts: list[str], decompound: bool = True) -> BM25Index:
        import bm25s

        compounds = Decompounder.from_documents(words(t) for t in texts) if decompound else None
        model = bm25s.BM25(k1=BM25_PARAMS["k1"], b=BM25_PARAMS["b"], method=BM25_PARAMS["method"])
        model.index([tokenize(t, compounds) or [""] for t in texts], show_progress=False)
        return cls(model, compounds)

    @property
    def vocabulary(self) -> dict[str, int]:
        """Stemmed token -> id for every token in the indexed chunks."""
        return self._vocab

    def save(self, path: Path) -> None:
        self._model.save(str(path), show_progress=False)  # type: ignore[attr-defined]
        known = sorted(self.compounds.known) if self.compounds else []
        (path / "compounds.json").write_text(json.dumps(known, ensure_ascii=False))
        (path / "samskap.json").write_text(json.dumps(BM25_PARAMS))

    @classmethod
    def load(cls, path: Path) -> BM25Index:
        import bm25s

        if not (path / "samskap.json").exists():
            raise ValueError(f"BM25-indeksen mangler i {path}")
        known = path / "compounds.json"
        compounds = Decompounder(json.loads(known.read_text())) if known.exists() else None
        return cls(bm25s.BM25.load(str(path), show_progress=False), compounds)

    def doc_freq(self, term: str) -> int:
        """Number of chunks containing a stemmed term."""
        tid = self._vocab.get(term)
        return 0 if tid is None else int(self._indptr[tid + 1] - self._indptr[tid])

    def term_scores(self, terms: Mapping[str, float]) -> np.ndarray:
        """BM25 score of every chunk for weighted stemmed terms (a term's weight scales its share)."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        for term, weight in terms.items():
            tid = self._vocab.get(term)
            if tid is None or weight == 0:
                continue
            lo, hi = self._indptr[tid], self._indptr[tid + 1]
            out[self._indices[lo:hi]] += weight * self._data[lo:hi]
        return out

    def scores(self, query: str | Mapping[str, float]) -> np.ndarray:
        """BM25 scores for a query text (tokenized like the chunks) or for weighted terms."""
        if isinstance(query, str):
            terms: dict[str, float] = {}
            for token in tokenize(query, self.compounds):
                terms[token] = terms.get(token, 0.0) + 1.0
            query = terms
        return self.term_scores(query)

    def top(
        self, query: str | Mapping[str, float], k: int, mask: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Best k (position, score) with score > 0, optionally only where mask is True."""
        scores = self.scores(query)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        if k <= 0:
            return []
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(int(i), float(scores[i])) for i in best if scores[i] > 0]
