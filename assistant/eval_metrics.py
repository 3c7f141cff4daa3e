"""Scoring for the evaluation: the §5 metrics over (question, outcome) pairs; pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .answer import Answer, Lang, Role

if TYPE_CHECKING:
    from .index import Index
    from .ingest.base import Chunk

RETRIEVAL_METRICS = ("recall_at_k", "mrr", "latency_ms")


@dataclass(frozen=True)
class Question:
    """One item of the question set."""

    id: str
    question: str
    lang: Lang | None = None
    role: Role = "prosjektleder"
    category: str = "annet"
    expect: Mapping[str, Any] = field(default_factory=dict)
    follow_up_of: str | None = None


@dataclass
class Outcome:
    """What a system returned for one question; the baselines fill only `retrieved` and `latency_ms`."""

    retrieved: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    fit: str | None = None
    citations: list[str] = field(default_factory=list)
    quotes: list[tuple[str, str]] = field(default_factory=list)  # (cite key, quote)
    text: str = ""  # what the chat shows unfolded
    details: str = ""  # the folded rest
    clarify: bool = False  # the answer asks a question back
    refused: bool = False
    refusal_reason: str | None = None
    latency_ms: float = 0.0

    @property
    def whole(self) -> str:
        """The whole answer: what is shown and what is folded."""
        return f"{self.text}\n\n{self.details}" if self.details else self.text

    @classmethod
    def from_answer(cls, answer: Answer, latency_ms: float) -> Outcome:
        """The parts of an Answer the metrics look at."""
        return cls(
            retrieved=list(answer.retrieved),
            methods=[m.id for m in answer.methods],
            fit=answer.fit.verdict if answer.fit else None,
            citations=[c.key for c in answer.citations],
            quotes=[(c.key, c.quote) for c in answer.citations],
            text=answer.text,
            details=answer.details,
            clarify=answer.clarify is not None,
            refused=answer.refused,
            refusal_reason=answer.refusal_reason,
            latency_ms=round(latency_ms, 2),
        )


def matches(found: str, expected: str) -> bool:
    """CONTRACTS §1: `found` is `expected` or one of its subsections."""
    return found == expected or found.startswith(expected + ".")


def first_rank(keys: Sequence[str], expected: Sequence[str], k: int) -> int | None:
    """1-based rank of the first of the top-k keys that matches any expected key."""
    return next((i for i, key in enumerate(keys[:k], 1) if any(matches(key, e) for e in expected)), None)


def leads(outcome: Outcome, laws: Sequence[str]) -> bool:
    """Every expected law key matches one of the answer's first two citations (CONTRACTS §5 lead_at_2)."""
    return all(any(matches(c, law) for c in outcome.citations[:2]) for law in laws)


def _norm(text: str) -> str:
    return " ".join(text.split())


def mentioned(word: str, text: str) -> bool:
    """A mention is in the text, case-insensitive, whitespace-normalised."""
    return _norm(word).casefold() in _norm(text).casefold()


def check(item: Question, outcome: Outcome, k: int) -> dict[str, bool]:
    """An ok flag per expectation; `refuse` is also flagged when the answer was refused unexpectedly."""
    expect, ok = item.expect, {}
    if expect.get("sources"):
        ok["sources"] = first_rank(outcome.retrieved, expect["sources"], k) is not None
    if expect.get("methods"):
        ok["methods"] = all(m in outcome.methods[:3] for m in expect["methods"])
    if expect.get("fit"):
        ok["fit"] = outcome.fit == expect["fit"]
    if expect.get("laws"):
        ok["laws"] = all(any(matches(c, law) for c in outcome.citations) for law in expect["laws"])
        ok["lead"] = leads(outcome, expect["laws"])
    if expect.get("mention"):
        ok["mention"] = all(mentioned(m, outcome.whole) for m in expect["mention"])
    if "refuse" in expect or outcome.refused:
        ok["refuse"] = outcome.refused == bool(expect.get("refuse"))
    return ok


def _share(values: Sequence[bool]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def latency_summary(values: Sequence[float]) -> dict[str, float | None]:
    """Median and 95th percentile (of milliseconds, or characters), null without values."""
    if not values:
        return {"p50": None, "p95": None}
    p50, p95 = np.percentile(np.asarray(values, dtype=float), [50, 95])
    return {"p50": round(float(p50), 1), "p95": round(float(p95), 1)}


def denominators(questions: Sequence[Question]) -> dict[str, int]:
    """How many cases each share of `summarise` is taken over — the same selections (a share of 9 cases moves
    0.111 with one answer)."""
    expects = [q.expect for q in questions]
    return {
        "recall_at_k": sum(bool(e.get("sources")) for e in expects),
        "law_recall": sum(len(e.get("laws") or []) for e in expects),
        "lead_at_2": sum(bool(e.get("laws")) for e in expects),
        "method_hit_at_3": sum(bool(e.get("methods")) for e in expects),
        "fit_accuracy": sum(bool(e.get("fit")) for e in expects),
        "refusal_recall": sum(e.get("refuse") is True for e in expects),
    }


def summarise(pairs: Sequence[tuple[Question, Outcome]], k: int) -> dict[str, Any]:
    """The §5 metrics over (question, outcome) pairs; a metric is null when no question carries it."""
    ranks = [first_rank(o.retrieved, q.expect["sources"], k) for q, o in pairs if q.expect.get("sources")]
    refusable = [o.refused for q, o in pairs if q.expect.get("refuse") is True]
    others = [o.refused for q, o in pairs if q.expect.get("refuse") is not True]
    answered = [(q, o) for q, o in pairs if not o.refused]
    return {
        "n_questions": len(pairs),
        "recall_at_k": _share([r is not None for r in ranks]),
        "mrr": round(sum(1 / r for r in ranks if r) / len(ranks), 3) if ranks else None,
        "method_hit_at_3": _share(
            [all(m in o.methods[:3] for m in q.expect["methods"]) for q, o in pairs if q.expect.get("methods")]
        ),
        "fit_accuracy": _share([o.fit == q.expect["fit"] for q, o in pairs if q.expect.get("fit")]),
        "law_recall": _share(
            [any(matches(c, law) for c in o.citations) for q, o in pairs for law in q.expect.get("laws") or []]
        ),
        "mention_recall": _share([mentioned(m, o.whole) for q, o in pairs for m in q.expect.get("mention") or []]),
        "lead_at_2": _share([leads(o, q.expect["laws"]) for q, o in pairs if q.expect.get("laws")]),
        "answer_chars": latency_summary([len(o.text) for _, o in answered]),
        "clarify_rate": _share([o.clarify for _, o in answered]),
        "refusal_recall": _share(refusable),
        "false_refusals": sum(others) if others else None,
        "n_refused": sum(o.refused for _, o in pairs),
        "latency_ms": latency_summary([o.latency_ms for _, o in pairs]),
    }


def faithfulness(
    pairs: Sequence[tuple[Question, Outcome]], by_key: Mapping[str, Sequence[Chunk]]
) -> tuple[float | None, list[dict[str, str]]]:
    """Share of citations whose quote occurs in a chunk of the cited key, and the ones that do not."""
    checked: list[bool] = []
    offending: list[dict[str, str]] = []
    for item, outcome in pairs:
        for key, quote in outcome.quotes:
            found = bool(quote.strip()) and any(_norm(quote) in _norm(c.text) for c in by_key.get(key, ()))
            checked.append(found)
            if not found:
                offending.append({"id": item.id, "key": key, "quote": quote})
    return _share(checked), offending


def per_category(pairs: Sequence[tuple[Question, Outcome]], k: int) -> dict[str, dict[str, Any]]:
    """`summarise` per question category, in order of first appearance."""
    groups: dict[str, list[tuple[Question, Outcome]]] = {}
    for item, outcome in pairs:
        groups.setdefault(item.category, []).append((item, outcome))
    return {name: summarise(group, k) for name, group in groups.items()}


def question_record(item: Question, outcome: Outcome, k: int) -> dict[str, Any]:
    """The per-question entry of §5, with the expectation and rank for the report."""
    expect = item.expect
    rank = first_rank(outcome.retrieved, expect["sources"], k) if expect.get("sources") else None
    missing = {
        "laws": [law for law in expect.get("laws") or [] if not any(matches(c, law) for c in outcome.citations)],
        "mention": [m for m in expect.get("mention") or [] if not mentioned(m, outcome.whole)],
    }
    return {
        "id": item.id,
        "category": item.category,
        "question": item.question,
        "follow_up_of": item.follow_up_of,
        "expect": dict(expect),
        "ok": check(item, outcome, k),
        "rank": rank,
        "retrieved": outcome.retrieved,
        "methods": outcome.methods,
        "fit": outcome.fit,
        "citations": outcome.citations,
        "refused": outcome.refused,
        "refusal_reason": outcome.refusal_reason,
        "latency_ms": outcome.latency_ms,
        "missing": missing,
        "lead": leads(outcome, expect["laws"]) if expect.get("laws") else None,
        "text": outcome.text,
        "details": outcome.details,
    }


def retrieval_result(questions: Sequence[Question], outcomes: Sequence[Outcome], k: int) -> dict[str, Any]:
    """Recall@k, MRR and latency of a retrieval-only system, in total and per category."""
    pairs = list(zip(questions, outcomes, strict=True))
    total = summarise(pairs, k)
    return {
        **{name: total[name] for name in RETRIEVAL_METRICS},
        "per_category": {
            name: {m: values[m] for m in ("recall_at_k", "mrr")} for name, values in per_category(pairs, k).items()
        },
        "questions": [
            {"id": q.id, "rank": first_rank(o.retrieved, q.expect["sources"], k), "retrieved": o.retrieved[:k]}
            for q, o in pairs
            if q.expect.get("sources")
        ],
    }


def score(
    questions: Sequence[Question], outcomes: Sequence[Outcome], k: int, index: Index | None = None
) -> dict[str, Any]:
    """The §5 result of the product (without baselines)."""
    pairs = list(zip(questions, outcomes, strict=True))
    result = {"k": k, **summarise(pairs, k)}
    by_key = index.by_key if index is not None else {}
    result["faithfulness"], result["faithfulness_failures"] = faithfulness(pairs, by_key)
    categories = per_category(pairs, k)
    for name in categories:
        group = [(q, o) for q, o in pairs if q.category == name]
        categories[name]["faithfulness"] = faithfulness(group, by_key)[0]
    result["per_category"] = categories
    result["questions"] = [question_record(q, o, k) for q, o in pairs]
    return result
