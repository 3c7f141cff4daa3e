"""Norwegian tokenisation (Snowball stemmer, æ/ø/å intact) and the persisted BM25 keyword index."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

BM25_PARAMS = {"k1": 1.2, "b": 0.75, "method": "lucene", "stemmer": "norwegian"}

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


def tokenize(text: str) -> list[str]:
    """Stemmed tokens for BM25."""
    return _stemmer().stemWords(words(text))


class BM25Index:
    """BM25 (bm25s, Lucene variant) over stemmed tokens, saved as plain files."""

    def __init__(self, model: object) -> None:
        self._model = model
        self._vocab: dict[str, int] = model.vocab_dict  # type: ignore[attr-defined]

    @classmethod
    def build(cls, texts: list[str]) -> BM25Index:
        import bm25s

        model = bm25s.BM25(k1=BM25_PARAMS["k1"], b=BM25_PARAMS["b"], method=BM25_PARAMS["method"])
        model.index([tokenize(t) or [""] for t in texts], show_progress=False)
        return cls(model)

    @property
    def vocabulary(self) -> dict[str, int]:
        """Stemmed token -> id for every token in the indexed chunks."""
        return self._vocab

    def save(self, path: Path) -> None:
        self._model.save(str(path), show_progress=False)  # type: ignore[attr-defined]
        (path / "samskap.json").write_text(json.dumps(BM25_PARAMS))

    @classmethod
    def load(cls, path: Path) -> BM25Index:
        import bm25s

        if not (path / "samskap.json").exists():
            raise ValueError(f"BM25-indeksen mangler i {path}")
        return cls(bm25s.BM25.load(str(path), show_progress=False))

    def scores(self, query: str) -> np.ndarray:
        tokens = [t for t in tokenize(query) if t in self._vocab]
        n_docs = int(self._model.scores["num_docs"])  # type: ignore[attr-defined]
        if not tokens:
            return np.zeros(n_docs, dtype=np.float32)
        return np.asarray(self._model.get_scores(tokens), dtype=np.float32)  # type: ignore[attr-defined]

    def top(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
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
