"""Pure functions that turn an Answer, the index or a build report into Markdown, tables and chat messages.

Nothing here imports gradio: every function can be called and tested without it.
"""

from __future__ import annotations

import html
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..answer import Answer
from ..catalogue import load_catalogue
from ..ingest.provenance import fetch_dates
from ..texts.answer import BASIS_LABEL, VERDICT_LABEL, T
from ..texts.ui import (
    ABOUT,
    CARD_HEADS,
    CASE_SENTENCES,
    DRAFT,
    NLOD,
    SOURCE_KINDS,
    UPLOAD,
    tr,
    ui_lang,
)
from ..uploads import UPLOAD_DIR

if TYPE_CHECKING:
    from ..config import Settings
    from ..index import BuildReport, Index


# ---------------------------------------------------------------- safety --------------------------------------

_UNSAFE_LINK = re.compile(r"\]\(\s*(?!https?://|#|mailto:)[^)]*\)", re.IGNORECASE)
_AUTOLINK = re.compile(r"<(https?://[^\s<>]+)>")


def safe_markdown(text: str) -> str:
    """Markdown with every raw HTML tag neutralised and only http(s) links kept."""
    links: list[str] = []

    def keep(match: re.Match[str]) -> str:
        links.append(match.group(1))
        return f"\x00{len(links) - 1}\x00"

    text = _AUTOLINK.sub(keep, text)
    text = text.replace("<", "&lt;")
    text = _UNSAFE_LINK.sub("](#)", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: f"<{links[int(m.group(1))]}>", text)


def escape_text(text: str) -> str:
    """Plain text (a passage, a title) for display inside Markdown: no HTML, no Markdown syntax."""
    text = html.escape(text, quote=False)
    return re.sub(r"([\\`*_\[\]{}()#+!|~])", r"\\\1", text)


def _link(url: str, label: str) -> str:
    if not re.match(r"^https?://", url):
        return escape_text(label)
    return f"[{escape_text(label)}]({url.replace(' ', '%20').replace(')', '%29').replace('(', '%28')})"


# ---------------------------------------------------------------- Answer → display ----------------------------


def answer_to_markdown(answer: Answer) -> str:
    """The chat message for one answer (sanitised Markdown)."""
    parts = [answer.text]  # a refusal shows its message (text), never its refusal_reason code
    parts.extend(f"> ℹ {n}" for n in answer.notices if n not in answer.text)
    body = safe_markdown("\n\n".join(p for p in parts if p))
    if answer.details:  # the rest of the answer, folded («Mer»); the only HTML we add, around sanitised Markdown
        more = T[answer.language]["more"]
        body += f"\n\n<details><summary>{more}</summary>\n\n{safe_markdown(answer.details)}\n\n</details>"
    return body


def fit_badge(answer: Answer | None, lang: str | None = "nb") -> str:
    """The verdict as a badge with its reasons, or a hint when the question had no concrete case."""
    lang = ui_lang(lang)
    if answer is None or answer.fit is None:
        return tr(lang, "no_verdict")
    icon = {"suited": "✓", "not_suited": "✗", "depends": "◐"}[answer.fit.verdict]
    lines = [f"### {icon} {VERDICT_LABEL[lang][answer.fit.verdict]}"]
    lines += [f"- {escape_text(r)}" for r in answer.fit.reasons]
    return "\n".join(lines)


def method_cards(answer: Answer | None, lang: str | None = "nb") -> str:
    """Ranked methods as short cards: name, why, first steps, caveats."""
    lang = ui_lang(lang)
    if answer is None or not answer.methods:
        return tr(lang, "no_methods")
    heads = CARD_HEADS[lang]
    cards = []
    for rank, m in enumerate(answer.methods[:4], 1):
        card = [f"#### {rank}. {escape_text(m.name)}"]
        for head, items in zip(heads, (m.why[:1], m.steps[:1], m.caveats[:2]), strict=True):
            if items:
                card.append(f"**{head}:**\n" + "\n".join(f"- {escape_text(i)}" for i in items))
        cards.append("\n\n".join(card))
    return "\n\n---\n\n".join(cards)


def legal_basis(answer: Answer | None, lang: str | None = "nb") -> str:
    """The law paragraphs the answer cites, with version and a lovdata.no link."""
    lang = ui_lang(lang)
    laws = answer.law_citations if answer else []
    if not laws:
        return tr(lang, "no_legal")
    version = tr(lang, "version")
    lines = []
    for c in laws:
        line = f"- [{c.number}] {_link(c.url or 'https://lovdata.no/' + c.key, c.title)} · {version}: {escape_text(c.version or '–')}"
        if c.warning:
            line += f"  \n  ⚠ {escape_text(c.warning)}"
        lines.append(line)
    return "\n".join(lines)


def citation_table(answer: Answer | None, lang: str | None = "nb") -> list[list[str]]:
    """One row per citation: number, kind of source and key, title, version."""
    if answer is None:
        return []
    basis = BASIS_LABEL[ui_lang(lang)]
    return [
        [str(c.number), f"{basis.get(c.basis, c.basis)} · {c.key}", c.title, c.version or "–"]
        for c in sorted(answer.citations, key=lambda c: c.number)
    ]


def citation_detail(index: Index | None, answer: Answer | None, number: int, lang: str | None = "nb") -> str:
    """The full passage behind citation [number]: title, § or section, version, link, text."""
    lang = ui_lang(lang)
    citation = next((c for c in (answer.citations if answer else []) if c.number == number), None)
    if citation is None:
        return tr(lang, "detail_hint")
    chunks = sorted(index.by_key.get(citation.key, []) if index else [], key=lambda c: c.part)
    first = chunks[0] if chunks else None
    lines = [f"### [{citation.number}] {escape_text(citation.title)}"]
    where = ""
    if first is not None:
        where = first.paragraph or first.section or (f"s. {first.page}" if first.page else "")
        if first.law_title:
            lines.append(f"*{escape_text(first.law_title)}*")
    meta = [f"`{citation.key}`"]
    if where and where not in citation.title:
        meta.append(escape_text(where))
    version = (first.version_label if first else "") or citation.version
    if version:
        meta.append(f"{tr(lang, 'version')}: {escape_text(version)}")
    lines.append(" · ".join(meta))
    if citation.key.startswith(("lov/", "forskrift/")):
        url = "https://lovdata.no/" + citation.key
        lines.append(_link(url, tr(lang, "read_lovdata")))
    elif citation.url:
        lines.append(_link(citation.url, citation.url))
    if citation.warning:
        lines.append(f"⚠ {escape_text(citation.warning)}")
    text = "\n\n".join(c.text for c in chunks) if chunks else citation.quote
    quoted = "\n".join("> " + line if line.strip() else ">" for line in escape_text(text).splitlines())
    lines.append(quoted)
    if first is not None and first.repealed:
        lines.append("⚠ " + tr(lang, "repealed"))
    return "\n\n".join(lines)


def compose_case_question(
    problem: str,
    involved: Sequence[str],
    authority: str,
    timeframe: str,
    personal_data: str,
    lang: str | None = "nb",
) -> str:
    """The case form as one question text, in the interface language.

    A "no" to personal data is left out: the advisor matches cue words, and naming personal data at all
    would pull in privacy law the case does not need.
    """
    lang = ui_lang(lang)
    t = CASE_SENTENCES[lang]
    who = ", ".join(involved)
    yes, no = tr(lang, "yes"), tr(lang, "no")
    parts = [t["case"].format(problem.strip())]
    if who:
        parts.append(t["involved"].format(who))
    facts = load_catalogue().criteria["authority"].facts  # the sentences the advisor reads back
    if facts and authority in (yes, no):
        parts.append((facts.met if authority == yes else facts.not_met).text(lang))
    if timeframe.strip():
        parts.append(t["timeframe"].format(timeframe.strip()))
    if personal_data == yes:
        parts.append(t["personal_data"])
    parts.append(t["ask"])
    return " ".join(parts)


def about_markdown(index: Index | None, settings: Settings, lang: str | None = "nb") -> str:
    """The 'about' panel: documents, laws with versions and fetch dates, chunk counts, embedder, LLM, licence."""
    lang = ui_lang(lang)
    t = ABOUT[lang]
    out = [f"## {tr(lang, 'about')}"]
    if index is None:
        out.append(t["not_loaded"])
    else:
        manifest = index.manifest
        counts = manifest.get("counts", {})
        kinds = SOURCE_KINDS[lang]
        count_text = ", ".join(f"{v} {kinds.get(k, k)}" for k, v in counts.items() if k != "total")
        created = manifest.get("created", "?")
        out.append(t["index"].format(total=counts.get("total", 0), counts=count_text, created=created))
        laws: dict[str, tuple[str, str, int]] = {}
        law_files: dict[str, str] = {}
        docs: dict[str, tuple[str, int]] = {}
        for chunk in index.chunks:
            if chunk.law_id:
                name, label, n = laws.get(chunk.law_id, (chunk.law_title or chunk.law_short, chunk.version_label, 0))
                laws[chunk.law_id] = (name, label, n + 1)
                law_files.setdefault(chunk.law_id, chunk.source_path)
            else:
                title, n = docs.get(chunk.source_path, (chunk.source_path, 0))
                docs[chunk.source_path] = (title, n + 1)
        out.append("### " + t["documents"])
        passages = tr(lang, "passages")
        out.append("\n".join(f"- {escape_text(p)} ({n} {passages})" for p, (_, n) in sorted(docs.items())) or "–")
        out.append("### " + t["laws"])
        fetched = fetch_dates(settings.corpus_dir)

        def when(lid: str) -> str:
            date = fetched.get(law_files[lid])
            return f" · {date.label(lang)}" if date else f" · {t['fetched_unknown']}"

        out.append(
            "\n".join(
                f"- {_link('https://lovdata.no/' + lid, name)} — {escape_text(label or '–')}{when(lid)} ({n} §§)"
                for lid, (name, label, n) in sorted(laws.items())
            )
            or "–"
        )
        out.append(t["update_laws"])
        embedder = manifest.get("embedder", {})
        out.append("### " + t["technology"])
        out.append(f"- Embedder: `{escape_text(str(embedder.get('id', '?')))}`")
    llm = settings.llm_model or urlsplit(settings.llm_base_url).netloc.rpartition("@")[2]  # never credentials
    out.append(f"- {t['llm']}: `{escape_text(llm)}`" if llm else t["no_llm"])
    out.append(f"---\n\n{NLOD}")
    out.append(t["disclaimer"])
    return "\n\n".join(out)


def build_report_markdown(report: BuildReport, saved: Sequence[Path], rejected: Sequence[str], settings: Settings,
                          lang: str | None = "nb") -> str:
    """What the upload did: files added, files that could not be read, the index size."""
    t = UPLOAD[ui_lang(lang)]
    lines = []
    if saved:
        rels = [p.resolve().relative_to(settings.corpus_dir.resolve()).as_posix() for p in saved]
        by_path = {f.path: f for f in report.files}
        ok = [r for r in rels if r in by_path and by_path[r].status == "indexed"]
        if ok:
            lines.append(t["added"])
            lines += [f"- {escape_text(r)} ({len(by_path[r].chunks)} {tr(lang, 'passages')})" for r in ok]
    problems = [f.message or f.path for f in report.problems if f.path.startswith(UPLOAD_DIR.as_posix())]
    if rejected or problems:
        lines.append(t["unusable"])
        lines += [f"- {escape_text(m)}" for m in [*rejected, *problems]]
    lines.append("")
    lines.append(t["total"].format(total=report.counts.get("total", 0)) + t["new"].format(n=report.embedded))
    if report.vectors_missing:
        lines.append(t["background"].format(n=report.vectors_missing))
    return "\n".join(lines)


def chat_messages(answers: Sequence[Answer], pending: str | None = None, partial: str = "") -> list[dict[str, str]]:
    """Chatbot messages (role/content dicts) for the conversation so far."""
    messages: list[dict[str, str]] = []
    for a in answers:
        messages.append({"role": "user", "content": escape_text(a.question)})
        messages.append({"role": "assistant", "content": answer_to_markdown(a)})
    if pending is not None:
        messages.append({"role": "user", "content": escape_text(pending)})
        messages.append({"role": "assistant", "content": partial or "…"})
    return messages


def stream_answer(
    ask: Callable[[Callable[[str], None]], Answer], lang: str | None, min_interval: float = 0.05
) -> Iterator[tuple[str, Answer | None]]:
    """Run `ask(on_token)` in a thread and yield (draft Markdown, None) as a model's tokens arrive,
    at most every `min_interval` seconds, then ("", answer). An offline answer yields only the answer.

    The draft is marked as such: the finished answer (checked against the sources, or the offline
    fallback) replaces it.
    """
    tokens: queue.Queue[str | None] = queue.Queue()
    outcome: list[Answer | BaseException] = []

    def work() -> None:
        try:
            outcome.append(ask(tokens.put))
        except BaseException as exc:  # re-raised in the caller's thread
            outcome.append(exc)
        finally:
            tokens.put(None)

    threading.Thread(target=work, name="samskap-answer", daemon=True).start()
    draft, shown = "", time.monotonic()
    while (token := tokens.get()) is not None:
        draft += token
        if time.monotonic() - shown >= min_interval:
            shown = time.monotonic()
            yield f"{DRAFT[ui_lang(lang)]}\n\n{safe_markdown(draft)}", None
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    yield "", result


def side_panel(answer: Answer | None, lang: str | None) -> tuple[str, str, str, list[list[str]], str]:
    """The side of the chat for one answer: verdict, methods, legal basis, citation table, source hint."""
    return (
        fit_badge(answer, lang),
        method_cards(answer, lang),
        legal_basis(answer, lang),
        citation_table(answer, lang),
        tr(lang, "detail_hint"),
    )
