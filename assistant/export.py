"""Exports: the conversation as Markdown and one answer as a decision note (Markdown, Word, PDF), written
to a temporary folder that is cleared after an hour, or to a file of the caller's choice."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from .answer import Answer, Lang
from .note import build_note, law_texts_fetched
from .note_render import note_markdown, write_docx, write_pdf
from .texts.answer import BASIS_LABEL
from .texts.export import EXPORT_TEXTS

NOTE_SUFFIXES = (".docx", ".pdf", ".md")


def labels(lang: Lang) -> dict[str, str]:
    return EXPORT_TEXTS["en" if lang == "en" else "nb"]


def conversation_markdown(answers: Sequence[Answer], lang: Lang = "nb") -> str:
    """The whole conversation: each question, its short answer first, then the rest of the answer and its sources."""
    t = labels(lang)
    parts = [f"# {t['conversation']}", f"{t['date']}: {date.today().isoformat()}"]
    for i, answer in enumerate(answers, 1):
        parts.append(f"## {i}. {t['question']}\n\n{answer.question.strip()}")
        if answer.refused:
            parts.append(answer.text.strip())  # the message; refusal_reason is a code
            continue
        summary = answer.summary.strip()
        if summary:
            parts.append(f"### {t['short']}\n\n{summary}")
        rest = "\n\n".join(p for p in (_without_summary(answer.text, summary), answer.details.strip()) if p)
        if rest:
            parts.append(f"### {t['details'] if summary else t['short']}\n\n{rest}")
        if answer.citations:
            parts.append(f"### {t['sources']}\n\n" + _source_lines(answer, lang))
    return "\n\n".join(parts) + "\n"


def _without_summary(text: str, summary: str) -> str:
    """The answer text without its opening short answer (it is shown above it already)."""
    paragraphs = text.strip().split("\n\n")
    if summary and paragraphs and _flat(summary) in _flat(paragraphs[0]):
        paragraphs = paragraphs[1:]
    return "\n\n".join(paragraphs).strip()


def _flat(text: str) -> str:
    return " ".join(text.split())


def _source_lines(answer: Answer, lang: Lang) -> str:
    t = labels(lang)
    lines = []
    for c in sorted(answer.citations, key=lambda c: c.number):
        version = f" ({t['version']}: {c.version})" if c.version else ""
        url = f" <{c.url}>" if c.url else ""
        lines.append(f"- [{c.number}] {BASIS_LABEL[lang][c.basis]} · {c.title} — `{c.key}`{version}{url}")
    return "\n".join(lines)


def decision_note_markdown(
    answer: Answer, case: Mapping[str, str] | None = None, lang: Lang | None = None,
    laws_fetched: Sequence[date] = (),
) -> str:
    """One answer as a decision note in Markdown (see assistant.note for its sections)."""
    return note_markdown(build_note(answer, case, lang, laws_fetched))


def _default_corpus() -> Path:
    from .config import load_settings

    try:
        return load_settings().corpus_dir
    except ValueError:
        return Path("corpus")


def write_decision_note(
    answer: Answer,
    path: str | Path,
    case: Mapping[str, str] | None = None,
    lang: Lang | None = None,
    corpus_dir: Path | None = None,
) -> Path:
    """Write the decision note for one answer; the format follows the suffix (.docx, .pdf or .md).

    `case` holds the case form's fields (label → value); `corpus_dir` is where the law texts' fetch date
    is read (standard: the configured corpus). Raises ValueError (Norwegian message) for another suffix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in NOTE_SUFFIXES:
        raise ValueError(
            f"Beslutningsnotatet kan ikke lagres som «{path.suffix or path.name}». "
            "Bruk en fil som slutter på .docx (Word), .pdf eller .md (Markdown)."
        )
    note = build_note(answer, case, lang, law_texts_fetched(corpus_dir or _default_corpus()))
    if suffix == ".docx":
        return write_docx(note, path)
    if suffix == ".pdf":
        return write_pdf(note, path)
    path.write_text(note_markdown(note), encoding="utf-8")
    return path


EXPORT_MAX_AGE_S = 3600  # exports hold questions and answers: kept for an hour, then deleted


def _export_folder() -> Path:
    """A fresh folder under the system temp dir; exports older than EXPORT_MAX_AGE_S are removed first."""
    root = Path(tempfile.gettempdir()) / "samskap-exports"
    root.mkdir(mode=0o700, exist_ok=True)
    for old in root.iterdir():
        if time.time() - old.stat().st_mtime > EXPORT_MAX_AGE_S:
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=root))


def _case_of(answer: Answer, case: Mapping[str, str] | None) -> Mapping[str, str] | None:
    """The case form's fields if the answer is the one the form asked (its first field, the problem, is in
    the question); a later chat question in the same conversation gets no case."""
    problem = next(iter(case.values()), "").strip() if case else ""
    return case if problem and " ".join(problem.split()) in " ".join(answer.question.split()) else None


def export_files(answers: Sequence[Answer], case: Mapping[str, str] | None, lang: str | None,
                 which: str, corpus_dir: Path | None = None) -> list[str]:
    """Write the decision note (Word, PDF and Markdown) or the conversation to a temp folder; return the paths."""
    if not answers:
        return []
    folder = _export_folder()
    stamp = time.strftime("%Y%m%d-%H%M")
    language: Lang = "en" if lang == "en" else "nb"
    if which == "note":
        last = answers[-1]
        note = build_note(last, _case_of(last, case), language if lang else last.language,
                          law_texts_fetched(corpus_dir or _default_corpus()))
        name = f"{labels(language)['note_file']}-{stamp}"
        paths = [write_docx(note, folder / f"{name}.docx")]
        try:
            paths.append(write_pdf(note, folder / f"{name}.pdf"))
        except RuntimeError:
            pass
        md_path = folder / f"{name}.md"
        md_path.write_text(note_markdown(note), encoding="utf-8")
        return [str(p) for p in [*paths, md_path]]
    md_path = folder / f"{labels(language)['chat_file']}-{stamp}.md"
    md_path.write_text(conversation_markdown(answers, language), encoding="utf-8")
    return [str(md_path)]
