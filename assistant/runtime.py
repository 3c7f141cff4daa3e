"""The app's shared assistant: created on first use, reloaded after an upload, repaired when the index breaks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .answer import Answer, Role
from .config import Settings
from .feedback import FeedbackStore, feedback_path
from .index import Index, IndexUnavailable, build_index, current_generation_dir
from .query import detect_language

if TYPE_CHECKING:
    from .service import Assistant

AssistantFactory = Callable[[Settings], "Assistant"]
HISTORY_TURNS = 6  # earlier turns passed to the assistant with a question

_UNAVAILABLE = {
    "nb": {
        "rebuild": "⚠ {detail} Indeksen bygges nå på nytt fra korpuset i bakgrunnen; det kan ta noen minutter. "
        "Still spørsmålet igjen om litt.",
        "rebuild_failed": "⚠ {detail} Forrige forsøk på å bygge indeksen på nytt mislyktes: {error} "
        "Et nytt forsøk er startet.",
        "retry": "⚠ Søket er midlertidig utilgjengelig: {detail} Prøv igjen om litt; appen kobler seg til "
        "på nytt av seg selv.",
    },
    "en": {
        "rebuild": "⚠ The search index is missing or damaged ({detail}) It is being rebuilt from the corpus "
        "in the background, which can take a few minutes. Please ask again shortly.",
        "rebuild_failed": "⚠ The search index is missing or damaged ({detail}) The last rebuild failed "
        "({error}); a new attempt has started.",
        "retry": "⚠ Search is temporarily unavailable ({detail}) Please try again shortly; the app "
        "reconnects by itself.",
    },
}


def _default_factory(settings: Settings) -> Assistant:
    from .service import Assistant

    return Assistant(settings)


class Runtime:
    """The shared assistant; replaced (under a lock) when an upload or a repair rebuilds the index."""

    def __init__(self, settings: Settings, factory: AssistantFactory | None = None) -> None:
        self.settings = settings
        self.factory = factory or _default_factory
        self._assistant: Assistant | None = None
        self._lock = threading.Lock()
        self._repair: threading.Thread | None = None
        self.repair_error = ""  # why the last repair failed ("" when it did not)
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

    def ask(self, question: str, role: str, history: Sequence[Answer]) -> Answer:
        """Answer through the shared assistant; a broken or unreachable index gives a message, not an error."""
        turns = [(a.question, a.text) for a in list(history)[-HISTORY_TURNS:]]
        chosen: Role = "jurist" if role == "jurist" else "prosjektleder"
        try:
            return self.assistant.ask(question, role=chosen, lang=None, history=turns)
        except IndexUnavailable as exc:
            if exc.rebuild and self._switch_to_newer_index():
                return self.ask(question, role, history)
            lang = detect_language(question)
            if exc.rebuild:
                failed = self.repair_error
                self.start_repair()
                kind, error = ("rebuild_failed", failed) if failed else ("rebuild", "")
            else:
                kind, error = "retry", ""
            text = _UNAVAILABLE[lang][kind].format(detail=str(exc), error=error)
            return Answer(question=question, language=lang, role=chosen, refused=True, text=text,
                          refusal_reason=text)

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

    def _rebuild(self) -> None:
        embedder = self._assistant.index.embedder if self._assistant is not None else None
        try:
            build_index(self.settings, rebuild=True, embedder=embedder)
            fresh = self.factory(self.settings)
        except Exception as exc:  # reported to the next user who asks; the next question retries
            self.repair_error = str(exc) or type(exc).__name__
            return
        with self._lock:
            self._assistant = fresh
        self.repair_error = ""
