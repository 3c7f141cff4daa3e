"""Index builds started by the app run in a fresh process.

Chroma's HNSW files are written from buffers that are not cleared first: the unused link slots of
each element hold whatever the process's memory held before. In the app's own process that can be a
question, an answer or a language-model response (seen in a test: an HTTP reply with the API key in
`data_level0.bin`). A process started with "spawn" has never held any of that, and it gets the
settings without the API key.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable
from typing import Any, Literal

from pydantic import SecretStr

from .config import Settings
from .embed import Embedder
from .index import BuildReport, IndexUnavailable, Progress, build_index, fill_vectors

BuildMode = Literal["update", "fill", "rebuild"]
Builder = Callable[[Settings, BuildMode, Progress | None], BuildReport]


def build_here(
    settings: Settings, mode: BuildMode, progress: Progress | None = None, embedder: Embedder | None = None
) -> BuildReport:
    """One build in this process.

    update: bring the index up to date at once, leaving new passages without vectors (keyword search);
    fill: embed what the current index lacks, then switch to a complete index;
    rebuild: the same as update, from scratch (a damaged index).
    """
    if mode == "fill":
        return fill_vectors(settings, embedder, (lambda done, total: progress("embed", done, total)) if progress else None)
    return build_index(settings, rebuild=mode == "rebuild", progress=progress, embedder=embedder, embed_missing=False)


def _child(settings: Settings, mode: BuildMode, messages: Any) -> None:
    try:
        report = build_here(settings, mode, lambda phase, done, total: messages.put(("progress", phase, done, total)))
    except IndexUnavailable as exc:
        messages.put(("unavailable", str(exc), exc.rebuild))
    except Exception as exc:  # sent to the app, which shows it; the process ends either way
        messages.put(("error", f"{type(exc).__name__}: {exc}"))
    else:
        messages.put(("done", report))


def build_isolated(settings: Settings, mode: BuildMode, progress: Progress | None = None) -> BuildReport:
    """`build_here` in a fresh process without the API key; progress and errors come back to this one."""
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    clean = settings.model_copy(update={"llm_api_key": SecretStr("")})
    process = context.Process(target=_child, args=(clean, mode, messages), name="samskap-build", daemon=True)
    process.start()
    try:
        while True:
            try:
                kind, *rest = messages.get(timeout=0.5)
            except queue.Empty:
                if not process.is_alive():
                    raise IndexUnavailable(
                        f"Indekseringen stoppet uventet (avslutningskode {process.exitcode}). Indeksen som var i "
                        "bruk, er uendret."
                    ) from None
                continue
            if kind == "progress":
                if progress:
                    progress(*rest)
            elif kind == "done":
                report: BuildReport = rest[0]
                return report
            elif kind == "unavailable":
                raise IndexUnavailable(rest[0], rebuild=rest[1])
            else:
                raise IndexUnavailable(f"Indekseringen feilet: {rest[0]}")
    finally:
        process.join(30)
        messages.close()
