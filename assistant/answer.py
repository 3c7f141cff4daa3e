"""The Answer the assistant returns (CONTRACTS.md §3) and its parts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

Verdict = Literal["suited", "not_suited", "depends"]
Role = Literal["prosjektleder", "jurist"]
Lang = Literal["nb", "en"]
ROLES: tuple[Role, ...] = get_args(Role)
LANGS: tuple[Lang, ...] = get_args(Lang)
# The weight of what a statement rests on: binding law, municipal policy, research, or our inference.
Basis = Literal["lov", "strategi", "forskning", "vurdering"]


CriterionStatus = Literal["met", "not_met", "unknown"]


@dataclass
class Criterion:
    """One fit criterion (FIT-CRITERIA.md) as judged for this case, with the words that decided it."""

    id: str
    label: str  # shown to the user, in the answer's language
    status: CriterionStatus
    evidence: str = ""  # the user's words (or the reason) that decided the status
    cites: list[str] = field(default_factory=list)


@dataclass
class Fit:
    verdict: Verdict
    reasons: list[str] = field(default_factory=list)
    criteria: list[Criterion] = field(default_factory=list)


@dataclass
class Clarify:
    """One question back to the user when a deciding fact is missing (CONTRACTS.md §3)."""

    question: str
    options: list[str] = field(default_factory=list)


@dataclass
class MethodAdvice:
    id: str
    name: str
    score: float
    why: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    citations: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)


@dataclass
class Citation:
    key: str
    title: str
    quote: str
    url: str = ""
    version: str = ""
    basis: Basis = "forskning"
    number: int = 0  # the [n] used in the answer text
    warning: str = ""  # e.g. not in force / repeal adopted
    kind: str = ""  # for law: skal | kan | kan_ikke | krever_hjemmel | merk, when a statement says so


@dataclass
class Answer:
    question: str
    language: Lang = "nb"
    role: Role = "prosjektleder"
    refused: bool = False
    # a code (CONTRACTS §3): off_topic | vague | prompt_extraction | language | empty | too_long | person,
    # and unavailable (the index) or error (the app) outside the service; the words shown are in `text`
    refusal_reason: str | None = None
    kind: str = ""  # what the answer leads with: legal | case | method | source | none (compose.answer_kind)
    summary: str = ""  # the answer in at most three sentences, with [n] markers
    text: str = ""  # what the chat shows unfolded (starts with the summary)
    details: str = ""  # the rest: folded in the chat, complete in exports
    clarify: Clarify | None = None
    fit: Fit | None = None
    methods: list[MethodAdvice] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    open_questions: list[str] = field(default_factory=list)  # for the municipal lawyer
    notices: list[str] = field(default_factory=list)  # e.g. "the language model was unreachable"
    engine: str = "offline"  # offline | llm

    @property
    def law_citations(self) -> list[Citation]:
        """The citations of law and regulation paragraphs, in citation order."""
        return [c for c in self.citations if c.key.startswith(("lov/", "forskrift/"))]

    def to_json(self) -> dict[str, Any]:
        """The JSON of CONTRACTS.md §3 (with a few extra fields)."""
        data = asdict(self)
        for method in data["methods"]:
            method.pop("steps", None)
        return data
