"""The app's shared assistant: created on first use, reloaded after an upload, repaired when the index breaks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from .answer import Answer, Lang, Role
from .config import Settings
from .feedback import FeedbackStore, feedback_path
from .index import BuildReport, Index, IndexUnavailable, Progress, current_generation_dir
from .isolated import Builder, BuildMode, build_isolated
from .query import detect_language
from .texts.messages import UNAVAILABLE, VECTORS

if TYPE_CHECKING:
    from .service import Assistant, Turn

AssistantFactory = Callable[[Settings], "Assistant"]
HISTORY_TURNS = 6  # earlier turns passed to the assistant with a question

def turns_from_messages(messages: Sequence[Mapping[str, str]]) -> list[Turn]:
    """(question, answer) pairs from chat messages [{"role": "user"|"assistant", "content": …}, …]."""
    turns: list[Turn] = []
    question: str | None = None
    for message in messages:
        role, content = str(message.get("role", "")), str(message.get("content", ""))
        if role == "user":
            question = content
        elif role == "assistant" and question is not None:
            turns.append((question, content))
            question = None
    return turns


def _default_factory(settings: Settings) -> Assistant:
    from .service import Assistant

    return Assistant(settings)


class Runtime:
    """The shared assistant; replaced (under a lock) when an upload or a repair rebuilds the index.

    Index builds go through `builder`: by default in a fresh process (see isolated.py), so that no
    question, answer or API key from this process can end up in the index files.
    """

    def __init__(
        self, settings: Settings, factory: AssistantFactory | None = None, builder: Builder | None = None
    ) -> None:
        self.settings = settings
        self.factory = factory or _default_factory
        self.builder = builder or build_isolated
        self._assistant: Assistant | None = None
        self._lock = threading.Lock()
        self._repair: threading.Thread | None = None
        self.repair_error = ""  # why the last repair failed ("" when it did not)
        self._vectors: threading.Thread | None = None
        self.vector_progress = (0, 0)  # passages embedded so far, and to embed, by the running job
        self.vector_error = ""
        self.feedback = FeedbackStore(feedback_path(settings))

    @property
    def assistant(self) -> Assistant:
        with self._lock:
            if self._assistant is None:
                self._assistant = self.factory(self.settings)
            return self._assistant

    @property
    def index(self) -> Index | None:
        try:
            return self.assistant.index
        except Exception:
            return None

    def reload(self) -> None:
        fresh = self.factory(self.settings)
        with self._lock:
            self._assistant = fresh

    def ask(
        self,
        question: str,
        role: str,
        history: Sequence[Answer | Turn],
        on_token: Callable[[str], None] | None = None,
        lang: Lang | None = None,
    ) -> Answer:
        """Answer through the shared assistant; a broken or unreachable index gives a message, not an error.

        `history` holds the earlier answers of the conversation, or (question, answer text) pairs.
        """
        turns = [(t.question, t.text) if isinstance(t, Answer) else t for t in list(history)[-HISTORY_TURNS:]]
        chosen: Role = "jurist" if role == "jurist" else "prosjektleder"
        try:
            return self.assistant.ask(question, role=chosen, lang=lang, history=turns, on_token=on_token)
        except IndexUnavailable as exc:
            if exc.rebuild and self._switch_to_newer_index():
                return self.ask(question, role, history, on_token, lang)
            lang = lang or detect_language(question)
            if exc.rebuild:
                failed = self.repair_error
                self.start_repair()
                kind, error = ("rebuild_failed", failed) if failed else ("rebuild", "")
            else:
                kind, error = "retry", ""
            text = UNAVAILABLE[lang][kind].format(detail=str(exc), error=error)
            return Answer(question=question, language=lang, role=chosen, refused=True, text=text,
                          refusal_reason="unavailable")

    def _switch_to_newer_index(self) -> bool:
        """Reopen when another process (ingest, delete-data) replaced our generation; False if none did."""
        current = current_generation_dir(self.settings)
        if self._assistant is None or current is None or current == self._assistant.index.dir:
            return False
        try:
            self.reload()
        except IndexUnavailable:
            return False
        return True

    @property
    def repairing(self) -> bool:
        return self._repair is not None and self._repair.is_alive()

    def start_repair(self) -> None:
        """Rebuild the index from the corpus in the background (once at a time), then reload."""
        with self._lock:
            if self.repairing:
                return
            self._repair = threading.Thread(target=self._rebuild, name="samskap-repair", daemon=True)
            self._repair.start()

    def wait_for_repair(self, timeout: float | None = None) -> bool:
        """Wait for a running repair; True when none is running afterwards."""
        if self._repair is not None:
            self._repair.join(timeout)
        return not self.repairing

    def update_index(self, progress: Progress | None = None) -> BuildReport:
        """Bring the index up to date with the corpus now (keyword search for new passages), switch to it,
        and embed the new passages in the background."""
        report = self.builder(self.settings, "update", progress)
        self.reload()
        self.start_vectors()
        return report

    def _build_and_switch(self, mode: BuildMode, progress: Progress | None = None) -> str:
        """Run a build, then switch to a fresh assistant over its index; returns why it failed ("" if not)."""
        try:
            self.builder(self.settings, mode, progress)
            fresh = self.factory(self.settings)
        except Exception as exc:  # reported to the user (chat message or banner); the index in use stays
            return str(exc) or type(exc).__name__
        with self._lock:
            self._assistant = fresh
        return ""

    def _rebuild(self) -> None:
        self.repair_error = self._build_and_switch("rebuild")
        if not self.repair_error:
            self.start_vectors()  # a rebuilt index has keyword search at once; vectors follow

    @property
    def embedding(self) -> bool:
        """True while passages without vectors are being embedded in the background."""
        return self._vectors is not None and self._vectors.is_alive()

    def start_vectors(self) -> bool:
        """Embed, in the background, the passages the current index has no vectors for; then switch to
        the complete index. Returns True when a job runs (nothing is missing: False)."""
        index = self.index
        if index is None or index.vector_count >= len(index.chunks):
            return self.embedding
        with self._lock:
            if not self.embedding:
                self.vector_progress = (0, len(index.chunks) - index.vector_count)
                self._vectors = threading.Thread(target=self._fill_vectors, name="samskap-vectors", daemon=True)
                self._vectors.start()
        return True

    def wait_for_vectors(self, timeout: float | None = None) -> bool:
        """Wait for a running vector job; True when none is running afterwards."""
        if self._vectors is not None:
            self._vectors.join(timeout)
        return not self.embedding

    def _fill_vectors(self) -> None:
        self.vector_error = self._build_and_switch("fill", self._on_vector_progress)

    def _on_vector_progress(self, phase: str, done: int, total: int) -> None:
        if phase == "embed" and total:
            self.vector_progress = (done, total)

    def banner(self, lang: str | None) -> str:
        """The status line above the chat: vectors being built or failed; "" when all is well."""
        texts = VECTORS["en" if lang == "en" else "nb"]
        if self.embedding:
            done, total = self.vector_progress
            sep = "\u00a0" if lang != "en" else ","  # 1 200 (nb) / 1,200 (en)
            return texts["progress"].format(done=f"{done:,}".replace(",", sep), total=f"{total:,}".replace(",", sep))
        return texts["failed"].format(error=self.vector_error) if self.vector_error else ""
