"""The Python API: `Assistant(settings).ask(question, role=…, lang=…, history=…) -> Answer`."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cached_property

import numpy as np

from .advisor import assess_fit, detect_features, legal_entries, rank_methods
from .answer import LANGS, ROLES, Answer, Lang, Role
from .catalogue import load_catalogue
from .compose import MAX_SUMMARY, NOTICE, compose
from .config import Settings
from .criteria import DescriptionVectors
from .embed import Embedder
from .evidence import clip
from .index import Index, open_index
from .question import ParsedQuestion, Turn, parse_question, search_query
from .retrieve import Hit, Retriever
from .scope import (
    MIN_GATE_PASSAGES,
    OUTSIDE_FILE,
    Coverage,
    KnownStems,
    ScopeDecision,
    check_scope,
    clean_question,
    domain_texts,
    domain_vectors,
    instructs_a_model,
    judge_coverage,
    measure_coverage,
)
from .textproc import tokenize
from .texts.messages import LLM_FALLBACK, WITHHELD, WITHHELD_NOTICE


class Assistant:
    """Retrieval + advisor + composer over one index; safe to share between requests."""

    def __init__(self, settings: Settings, index: Index | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.index = index or open_index(settings, embedder)
        self.retriever = Retriever(self.index)
        self.catalogue = load_catalogue()
        self._descriptions = DescriptionVectors()

    @cached_property
    def _domain(self) -> np.ndarray:
        return domain_vectors(self.index)

    @cached_property
    def _outside(self) -> np.ndarray:
        return domain_vectors(self.index, OUTSIDE_FILE)

    @cached_property
    def _known_stems(self) -> KnownStems:
        """Stems the corpus or the description of what Samskap covers uses (scope: Coverage.unknown)."""
        return KnownStems(frozenset(self.index.bm25.vocabulary) | frozenset(tokenize(" ".join(domain_texts()))))

    def coverage(self, parsed: ParsedQuestion, hits: Sequence[Hit]) -> Coverage:
        """The scope gate's signals for a question, from the retrieval just done (the query is embedded once)."""
        assert parsed.query is not None
        return measure_coverage(
            stems=tokenize(parsed.text),
            english=parsed.text_lang == "en",
            hits=hits,
            query_vector=self.index.query_vector(parsed.query.text),
            mean_vector=self.index.mean_vector,
            domain=self._domain,
            vocabulary=self._known_stems,
            outside=self._outside,
        )

    def _coverage(self, parsed: ParsedQuestion, hits: Sequence[Hit]) -> ScopeDecision:
        """Whether the corpus covers the question."""
        assert parsed.query is not None
        return judge_coverage(self.coverage(parsed, hits), parsed.lang, parsed.text, legal=parsed.query.legal,
                              small_corpus=len(self.index.chunks) < MIN_GATE_PASSAGES)

    def _criteria_similarity(self, parsed: ParsedQuestion) -> dict[str, float] | None:
        """The case's best similarity to each fit criterion's descriptions (None without vectors)."""
        if not self.index.vector_count:
            return None
        descriptions = self._descriptions.get(self.catalogue, self.index.embedder)
        vector = self.index.query_vector(parsed.query.text if parsed.query else parsed.search_text)
        vector = vector / (np.linalg.norm(vector) or 1.0)
        return {cid: float((m @ vector).max()) for cid, m in descriptions.items()}

    def ask(
        self,
        question: str,
        role: Role = "prosjektleder",
        lang: Lang | None = None,
        history: Sequence[Turn] = (),
        on_token: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer one question; refusals are Answers with refused=True and a helpful message."""
        started = time.perf_counter()
        if role not in ROLES or lang not in (None, *LANGS):
            # nynorsk questions are read (and answered in bokmål) with lang=None, found from the question
            raise ValueError(f"Ukjent rolle «{role}» eller språk «{lang}»: bruk prosjektleder/jurist og nb/en/None.")
        parsed = parse_question(clean_question(question), role, lang, history, self.retriever.analyze)
        return self.answer(parsed, on_token, started)

    def answer(
        self, parsed: ParsedQuestion, on_token: Callable[[str], None] | None = None, started: float | None = None
    ) -> Answer:
        """Answer a parsed question (parse_question with this assistant's Retriever.analyze)."""
        started = started or time.perf_counter()
        answer = Answer(question=parsed.text, language=parsed.lang, role=parsed.role)
        scope = check_scope(parsed.text, parsed.lang, bool(parsed.history))
        if scope.refuse:
            return _refused(answer, scope, started)

        t0 = time.perf_counter()
        self.index.check()  # files deleted or damaged under a running app: IndexUnavailable(rebuild=True)
        query = parsed.query or search_query(parsed, self.retriever.analyze)
        parsed = replace(parsed, query=query)
        hits = self.retriever.search(query, k=12)
        # A follow-up is read with the question before it, which was in scope; while new passages still
        # lack vectors, the dense signals cannot see them, so the gate would refuse what only they answer.
        if not parsed.follow_up and self.index.vector_count == len(self.index.chunks):
            scope = self._coverage(parsed, hits)
            if scope.refuse:
                return _refused(answer, scope, started, retrieve=_ms(t0))
        retrieved = list(dict.fromkeys(h.key for h in hits))
        t1 = time.perf_counter()

        features = detect_features(parsed, self.catalogue)
        fit = assess_fit(parsed, features, self.catalogue, self._criteria_similarity(parsed))
        methods = rank_methods(parsed, self.catalogue, retrieved)
        direct = [h.key for h in hits if h.direct]
        legal = legal_entries(parsed, self.catalogue, [m.id for m in methods], retrieved, direct)
        t2 = time.perf_counter()

        result = compose(
            question=parsed,
            index=self.index,
            catalogue=self.catalogue,
            fit=fit,
            methods=methods,
            legal=legal,
            hits=hits,
        )
        answer.kind, answer.summary, answer.text, answer.details = result.kind, result.summary, result.text, result.details
        answer.open_questions = result.open_questions
        answer.methods, answer.citations = result.methods, result.citations
        answer.fit = fit.as_fit() if fit else None
        answer.clarify = fit.clarify if fit and result.kind == "case" else None
        answer.retrieved = retrieved
        if self.settings.llm_base_url:
            self._rewrite_with_llm(answer, parsed.history, on_token)
        answer.timings_ms = {
            "retrieve": _ms(t0, t1),
            "advise": _ms(t1, t2),
            "compose": _ms(t2),
            "total": _ms(started),
        }
        return answer


    def _rewrite_with_llm(
        self, answer: Answer, history: Sequence[Turn], on_token: Callable[[str], None] | None
    ) -> None:
        """Let the configured model write the prose; keep the offline text if it fails or cites badly."""
        from .llm import LLMError, build_messages, generate, validate

        lang = answer.language
        # The same ordered evidence as the offline answer: the sources its unfolded text cites, [1] first.
        shown = [c for c in answer.citations if f"[{c.number}]" in answer.text] or answer.citations[:MAX_LLM_SOURCES]
        passages = [(c.number, f"{c.title} ({c.key})", self.index.by_key[c.key][0].text) for c in shown]
        # Documents are data: a passage that addresses a language model is never shown to one.
        withheld = [n for n, _, text in passages if instructs_a_model(text)]
        passages = [(n, title, WITHHELD[lang] if n in withheld else text) for n, title, text in passages]
        if withheld:
            answer.notices.append(WITHHELD_NOTICE[lang].format(numbers=", ".join(f"[{n}]" for n in withheld)))
        advice = _advice_summary(answer)
        turns = [turn for q, a in history for turn in (("user", q), ("assistant", a))]
        messages = build_messages(answer.role, lang, answer.question, advice, passages, turns)
        try:
            raw = generate(self.settings, messages, on_token=on_token)
            text, problems = validate(raw, {n for n, _, _ in passages}, self.index.by_key)
        except LLMError as exc:
            text, problems = None, [str(exc)]
        if text is None:
            answer.notices.append(LLM_FALLBACK[lang] + (f" ({problems[0]})" if problems else ""))
            return
        if any(c.basis == "lov" for c in answer.citations) and NOTICE[lang] not in text:
            text = f"{text}\n\n{NOTICE[lang]}"
        answer.text, answer.summary, answer.engine = text, _summary_of(text, answer.summary), "llm"


MAX_LLM_SOURCES = 8
_SHORT_LABEL = re.compile(r"^\W*(?:kort svar|short answer)\W*:?\W*", re.IGNORECASE)


def _summary_of(text: str, fallback: str) -> str:
    """The model's short answer: its first paragraph without the label, at most three sentences."""
    first = next((p for p in text.split("\n\n") if p.strip() and not p.lstrip().startswith("#")), "")
    first = _SHORT_LABEL.sub("", first.strip())
    parts = re.split(r"(?<=[.!?])\s+", first)
    return clip(" ".join(parts[:3]), MAX_SUMMARY) if first else fallback


def _advice_summary(answer: Answer) -> str:
    """The advisor's result in a few plain lines for the model (it must keep verdict and methods)."""
    lines = [f"short answer from the sources: {answer.summary}"] if answer.summary else []
    if answer.fit:
        lines.append(f"fit: {answer.fit.verdict} — " + " | ".join(answer.fit.reasons))
    for method in answer.methods:
        lines.append(f"method: {method.name} (score {method.score})")
    return "\n".join(lines) or "-"


def _refused(answer: Answer, scope: ScopeDecision, started: float, retrieve: float = 0.0) -> Answer:
    """A refusal: the code in refusal_reason, the user's message in text."""
    answer.refused, answer.refusal_reason, answer.text = True, scope.reason, scope.message
    answer.timings_ms = {"retrieve": retrieve, "advise": 0.0, "compose": 0.0, "total": _ms(started)}
    return answer


def _ms(start: float, end: float | None = None) -> float:
    return round(((end if end is not None else time.perf_counter()) - start) * 1000, 2)
