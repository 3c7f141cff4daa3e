"""The Gradio app: pure functions that turn an Answer into Markdown and tables, and a thin Blocks shell."""

from __future__ import annotations

import html
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .answer import Answer, Lang
from .config import Settings
from .export import BASIS_LABEL, EXPORT_MAX_AGE_S, VERDICT_LABEL, export_files
from .index import BuildReport, Index
from .runtime import AssistantFactory, Runtime, turns_from_messages
from .uploads import UPLOAD_DIR, UPLOAD_TYPES, add_uploads, safe_upload_name, save_uploads  # noqa: F401 (re-exported)

if TYPE_CHECKING:
    import gradio as gr


NLOD = "Inneholder data under NLOD 2.0, tilgjengeliggjort av Lovdata."

# ---------------------------------------------------------------- texts ---------------------------------------

TEXTS: dict[str, dict[str, str]] = {
    "nb": {
        "subtitle": "Veiviser for samskaping i kommunen – hvert svar viser kildene det bygger på.",
        "tab_chat": "Samtale",
        "tab_case": "Saksskjema",
        "tab_upload": "Dokumenter",
        "tab_about": "Om tjenesten",
        "chat": "Samtale",
        "question": "Spørsmål",
        "placeholder": "Skriv spørsmålet ditt, f.eks. «Må møtene i et oppgaveutvalg være åpne?»",
        "send": "Send",
        "new": "Ny samtale",
        "role": "Rolle",
        "verdict": "Vurdering",
        "methods": "Metoder",
        "legal": "Rettslig grunnlag",
        "citations": "Kilder – velg en rad for å se hele teksten",
        "detail": "Kildetekst",
        "detail_hint": "*Velg en kilde i tabellen for å se hele avsnittet.*",
        "no_verdict": "*Ingen vurdering ennå – beskriv en konkret sak, så vurderer Samskap om samskaping egner seg.*",
        "no_methods": "*Ingen metoder foreslått.*",
        "no_legal": "*Ingen lovbestemmelser sitert.*",
        "feedback": "Tilbakemelding på siste svar",
        "up": "✓ Nyttig",
        "down": "✗ Ikke nyttig",
        "comment": "Kommentar (valgfritt – ikke skriv personopplysninger)",
        "store_q": "Lagre spørsmålet mitt sammen med tilbakemeldingen",
        "thanks": "Takk! Tilbakemeldingen er lagret{q}.",
        "with_q": " sammen med spørsmålet",
        "without_q": " uten spørsmålet",
        "no_answer": "Still et spørsmål først.",
        "export": "Eksport",
        "export_note": "Lag beslutningsnotat",
        "export_chat": "Last ned samtalen",
        "files": "Filer",
        "case_intro": "Beskriv saken, så vurderer Samskap om samskaping passer, og hvilken metode dere bør velge.",
        "problem": "Hva er utfordringen eller oppgaven?",
        "involved": "Hvem skal være med?",
        "authority": "Skal kommunen treffe et vedtak (utøve myndighet) i saken?",
        "timeframe": "Tidsramme",
        "personal": "Behandles det personopplysninger?",
        "case_send": "Vurder saken",
        "yes": "Ja",
        "no": "Nei",
        "unknown": "Vet ikke",
        "upload_intro": "Last opp kommunens egne strategier og planer (PDF, Markdown eller tekst, "
        "inntil {mb:g} MB og {pages} sider per fil). De blir søkbare og kan siteres i svarene.",
        "upload_files": "Filer",
        "upload_send": "Last opp og indekser",
        "about": "Om tjenesten",
    },
    "en": {
        "subtitle": "A guide to co-creation in the municipality – every answer shows the sources it rests on.",
        "tab_chat": "Conversation",
        "tab_case": "Case form",
        "tab_upload": "Documents",
        "tab_about": "About",
        "chat": "Conversation",
        "question": "Question",
        "placeholder": "Type your question, e.g. “Must the meetings of a task committee be open?”",
        "send": "Send",
        "new": "New conversation",
        "role": "Role",
        "verdict": "Assessment",
        "methods": "Methods",
        "legal": "Legal basis",
        "citations": "Sources – select a row to see the full text",
        "detail": "Source text",
        "detail_hint": "*Select a source in the table to see the full passage.*",
        "no_verdict": "*No assessment yet – describe a concrete case and Samskap will assess whether co-creation fits.*",
        "no_methods": "*No methods suggested.*",
        "no_legal": "*No statutory provisions cited.*",
        "feedback": "Feedback on the last answer",
        "up": "✓ Helpful",
        "down": "✗ Not helpful",
        "comment": "Comment (optional – do not enter personal data)",
        "store_q": "Store my question with the feedback",
        "thanks": "Thank you! Your feedback was saved{q}.",
        "with_q": " with the question",
        "without_q": " without the question",
        "no_answer": "Ask a question first.",
        "export": "Export",
        "export_note": "Create decision note",
        "export_chat": "Download conversation",
        "files": "Files",
        "case_intro": "Describe the case and Samskap will assess whether co-creation fits and which method to use.",
        "problem": "What is the challenge or task?",
        "involved": "Who will take part?",
        "authority": "Will the municipality make an administrative decision (exercise authority) in the case?",
        "timeframe": "Timeframe",
        "personal": "Will personal data be processed?",
        "case_send": "Assess the case",
        "yes": "Yes",
        "no": "No",
        "unknown": "Don't know",
        "upload_intro": "Upload the municipality's own strategies and plans (PDF, Markdown or text, "
        "up to {mb:g} MB and {pages} pages per file). They become searchable and citable.",
        "upload_files": "Files",
        "upload_send": "Upload and index",
        "about": "About the service",
    },
}
ROLE_LABEL = {"nb": {"prosjektleder": "Prosjektleder", "jurist": "Jurist"},
              "en": {"prosjektleder": "Project leader", "jurist": "Lawyer"}}
INVOLVED = {
    "nb": ["innbyggere", "frivillige", "folkevalgte", "næringsliv", "leverandører"],
    "en": ["citizens", "volunteers", "elected representatives", "local business", "suppliers"],
}


def _lang(lang: str | None) -> Lang:
    return "en" if lang == "en" else "nb"


def tr(lang: str | None, key: str) -> str:
    return TEXTS[_lang(lang)][key]


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
    parts = []
    if answer.refused and answer.refusal_reason and answer.refusal_reason not in answer.text:
        parts.append(answer.refusal_reason)
    parts.append(answer.text)
    parts.extend(f"> ℹ {n}" for n in answer.notices if n not in answer.text)
    return safe_markdown("\n\n".join(p for p in parts if p))


def fit_badge(answer: Answer | None, lang: str | None = "nb") -> str:
    """The verdict as a badge with its reasons, or a hint when the question had no concrete case."""
    lang = _lang(lang)
    if answer is None or answer.fit is None:
        return tr(lang, "no_verdict")
    icon = {"suited": "✓", "not_suited": "✗", "depends": "◐"}[answer.fit.verdict]
    lines = [f"### {icon} {VERDICT_LABEL[lang][answer.fit.verdict]}"]
    lines += [f"- {escape_text(r)}" for r in answer.fit.reasons]
    return "\n".join(lines)


def method_cards(answer: Answer | None, lang: str | None = "nb") -> str:
    """Ranked methods as short cards: name, why, first steps, caveats."""
    lang = _lang(lang)
    if answer is None or not answer.methods:
        return tr(lang, "no_methods")
    heads = {"nb": ("Hvorfor", "Første steg", "Vær obs på"), "en": ("Why", "First steps", "Watch out for")}[lang]
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
    lang = _lang(lang)
    laws = answer.law_citations if answer else []
    if not laws:
        return tr(lang, "no_legal")
    version = "versjon" if lang == "nb" else "version"
    lines = []
    for c in laws:
        line = f"- [{c.number}] {_link(c.url or 'https://lovdata.no/' + c.key, c.title)} · {version}: {escape_text(c.version or '–')}"
        if c.warning:
            line += f"  \n  ⚠ {escape_text(c.warning)}"
        lines.append(line)
    return "\n".join(lines)


CITATION_HEADERS = {"nb": ["n", "Kilde", "Tittel", "Versjon"], "en": ["n", "Source", "Title", "Version"]}


def citation_table(answer: Answer | None, lang: str | None = "nb") -> list[list[str]]:
    """One row per citation: number, kind of source and key, title, version."""
    if answer is None:
        return []
    basis = BASIS_LABEL[_lang(lang)]
    return [
        [str(c.number), f"{basis.get(c.basis, c.basis)} · {c.key}", c.title, c.version or "–"]
        for c in sorted(answer.citations, key=lambda c: c.number)
    ]


def citation_detail(index: Index | None, answer: Answer | None, number: int, lang: str | None = "nb") -> str:
    """The full passage behind citation [number]: title, § or section, version, link, text."""
    lang = _lang(lang)
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
        meta.append(("versjon: " if lang == "nb" else "version: ") + escape_text(version))
    lines.append(" · ".join(meta))
    if citation.key.startswith(("lov/", "forskrift/")):
        url = "https://lovdata.no/" + citation.key
        lines.append(_link(url, "Les på lovdata.no" if lang == "nb" else "Read on lovdata.no"))
    elif citation.url:
        lines.append(_link(citation.url, citation.url))
    if citation.warning:
        lines.append(f"⚠ {escape_text(citation.warning)}")
    text = "\n\n".join(c.text for c in chunks) if chunks else citation.quote
    quoted = "\n".join("> " + line if line.strip() else ">" for line in escape_text(text).splitlines())
    lines.append(quoted)
    if first is not None and first.repealed:
        lines.append("⚠ " + ("Bestemmelsen er opphevet." if lang == "nb" else "This provision is repealed."))
    return "\n\n".join(lines)


CASE_SENTENCES = {
    "nb": {
        "case": "Vår sak: {}",
        "involved": "Involverte: {}.",
        "authority_yes": "Kommunen skal treffe vedtak (utøve offentlig myndighet) i saken.",
        "authority_no": "Kommunen skal ikke treffe vedtak i saken.",
        "timeframe": "Tidsramme: {}.",
        "personal_data": "Det skal behandles personopplysninger om innbyggere.",
        "ask": "Egner samskaping seg, hvilken metode bør vi bruke, og hva er handlingsrommet etter loven?",
    },
    "en": {
        "case": "Our case: {}",
        "involved": "Involved: {}.",
        "authority_yes": "The municipality will make an administrative decision (exercise public authority) in the case.",
        "authority_no": "The municipality will not make an administrative decision in the case.",
        "timeframe": "Timeframe: {}.",
        "personal_data": "Personal data about citizens will be processed.",
        "ask": "Is co-creation suited, which method should we use, and what does the law allow?",
    },
}


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
    lang = _lang(lang)
    t = CASE_SENTENCES[lang]
    who = ", ".join(involved)
    yes, no = tr(lang, "yes"), tr(lang, "no")
    parts = [t["case"].format(problem.strip())]
    if who:
        parts.append(t["involved"].format(who))
    if authority == yes:
        parts.append(t["authority_yes"])
    elif authority == no:
        parts.append(t["authority_no"])
    if timeframe.strip():
        parts.append(t["timeframe"].format(timeframe.strip()))
    if personal_data == yes:
        parts.append(t["personal_data"])
    parts.append(t["ask"])
    return " ".join(parts)


def about_markdown(index: Index | None, settings: Settings, lang: str | None = "nb") -> str:
    """The 'about' panel: documents, laws with versions, chunk counts, embedder, LLM, licence, notice."""
    lang = _lang(lang)
    nb = lang == "nb"
    out = [f"## {tr(lang, 'about')}"]
    if index is None:
        out.append("Indeksen er ikke lastet." if nb else "The index is not loaded.")
    else:
        manifest = index.manifest
        counts = manifest.get("counts", {})
        names = {"thesis": ("masteroppgaven", "thesis"), "law": ("lovtekst", "law"), "strategy": ("strategier", "strategies")}
        count_text = ", ".join(
            f"{v} {names.get(k, (k, k))[0 if nb else 1]}" for k, v in counts.items() if k != "total"
        )
        out.append(
            (f"**Indeks:** {counts.get('total', 0)} tekstbiter ({count_text}), bygget {manifest.get('created', '?')}.")
            if nb
            else f"**Index:** {counts.get('total', 0)} passages ({count_text}), built {manifest.get('created', '?')}."
        )
        laws: dict[str, tuple[str, str, int]] = {}
        docs: dict[str, tuple[str, int]] = {}
        for chunk in index.chunks:
            if chunk.law_id:
                name, label, n = laws.get(chunk.law_id, (chunk.law_title or chunk.law_short, chunk.version_label, 0))
                laws[chunk.law_id] = (name, label, n + 1)
            else:
                title, n = docs.get(chunk.source_path, (chunk.source_path, 0))
                docs[chunk.source_path] = (title, n + 1)
        out.append("### " + ("Dokumenter" if nb else "Documents"))
        out.append("\n".join(f"- {escape_text(p)} ({n} {'tekstbiter' if nb else 'passages'})" for p, (_, n) in sorted(docs.items())) or "–")
        out.append("### " + ("Lover og forskrifter" if nb else "Laws and regulations"))
        out.append(
            "\n".join(
                f"- {_link('https://lovdata.no/' + lid, name)} — {escape_text(label or '–')} ({n} §§)"
                for lid, (name, label, n) in sorted(laws.items())
            )
            or "–"
        )
        embedder = manifest.get("embedder", {})
        out.append("### " + ("Teknikk" if nb else "Technology"))
        out.append(f"- Embedder: `{escape_text(str(embedder.get('id', '?')))}`")
    llm = settings.llm_model or urlsplit(settings.llm_base_url).netloc.rpartition("@")[2]  # never credentials
    if llm:
        out.append(f"- {'Språkmodell' if nb else 'Language model'}: `{escape_text(llm)}`")
    else:
        out.append(
            "- Språkmodell: ingen – svarene settes sammen uten språkmodell, direkte fra kildene."
            if nb
            else "- Language model: none – answers are composed directly from the sources."
        )
    out.append(f"---\n\n{NLOD}")
    out.append(
        "*Samskap gir veiledning, ikke juridisk rådgivning. Kontroller gjeldende lovtekst på lovdata.no.*"
        if nb
        else "*Samskap gives guidance, not legal advice. Check the text in force on lovdata.no.*"
    )
    return "\n\n".join(out)


def build_report_markdown(report: BuildReport, saved: Sequence[Path], rejected: Sequence[str], settings: Settings,
                          lang: str | None = "nb") -> str:
    """What the upload did: files added, files that could not be read, the index size."""
    nb = _lang(lang) == "nb"
    lines = []
    if saved:
        rels = [p.resolve().relative_to(settings.corpus_dir.resolve()).as_posix() for p in saved]
        by_path = {f.path: f for f in report.files}
        ok = [r for r in rels if r in by_path and by_path[r].status == "indexed"]
        if ok:
            lines.append("**Lagt til i indeksen:**" if nb else "**Added to the index:**")
            lines += [f"- {escape_text(r)} ({len(by_path[r].chunks)} {'tekstbiter' if nb else 'passages'})" for r in ok]
    problems = [f.message or f.path for f in report.problems if f.path.startswith(UPLOAD_DIR.as_posix())]
    if rejected or problems:
        lines.append("**Disse filene kunne ikke brukes:**" if nb else "**These files could not be used:**")
        lines += [f"- {escape_text(m)}" for m in [*rejected, *problems]]
    total = report.counts.get("total", 0)
    lines.append("")
    lines.append(
        (f"Indeksen har nå {total} tekstbiter." if nb else f"The index now holds {total} passages.")
        + (f" Nye tekstbiter i denne kjøringen: {report.embedded}." if nb else f" New in this run: {report.embedded}.")
    )
    if report.vectors_missing:
        lines.append(
            f"De nye dokumentene er søkbare på ord allerede. Semantisk søk for {report.vectors_missing} tekstbiter "
            "bygges i bakgrunnen (se linjen øverst); appen bytter selv når det er klart." if nb else
            f"The new documents can already be searched by their words. Semantic search for "
            f"{report.vectors_missing} passages is being built in the background (see the line at the top); the "
            "app switches by itself when it is ready."
        )
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


DRAFT = {
    "nb": "*Utkast fra språkmodellen – kontrolleres mot kildene før det vises ferdig.*",
    "en": "*Draft from the language model – checked against the sources before it is final.*",
}


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
            yield f"{DRAFT[_lang(lang)]}\n\n{safe_markdown(draft)}", None
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    yield "", result


def side_panel(answer: Answer | None, lang: str | None) -> tuple[str, str, str, list[list[str]], str]:
    return (
        fit_badge(answer, lang),
        method_cards(answer, lang),
        legal_basis(answer, lang),
        citation_table(answer, lang),
        tr(lang, "detail_hint"),
    )


# ---------------------------------------------------------------- Blocks --------------------------------------

CSS = """
.samskap-side .prose h3 { margin-top: 0.2em; }
footer { display: none !important; }
#citations [role=gridcell] { font-family: var(--font); cursor: pointer; }
"""


def create_app(
    settings: Settings, assistant_factory: AssistantFactory | None = None, runtime: Runtime | None = None
) -> gr.Blocks:
    """Build the Gradio Blocks app (does not launch it)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_RUN_HISTORY", "False")  # the browser would keep every question asked
    import gradio as gr

    runtime = runtime or Runtime(settings, assistant_factory)
    t = TEXTS["nb"]
    yes_no = [t["yes"], t["no"], t["unknown"]]

    # Gradio keeps a copy of every upload and export in its cache: delete them after an hour.
    with gr.Blocks(title="Samskap", delete_cache=(EXPORT_MAX_AGE_S, EXPORT_MAX_AGE_S)) as app:
        app.runtime = runtime  # for tests
        answers_state = gr.State([])
        case_state = gr.State(None)
        with gr.Row():
            header = gr.Markdown(f"# Samskap\n{t['subtitle']}")
            lang = gr.Radio([("Norsk", "nb"), ("English", "en")], value="nb", show_label=False,
                            elem_id="lang", scale=0, min_width=200)
        # While new passages are embedded in the background: progress, polled only while a job runs.
        banner = gr.Markdown(visible=False, elem_id="banner")
        banner_timer = gr.Timer(2.0, active=False)
        with gr.Tabs() as tabs:
            with gr.Tab(t["tab_chat"], id="chat") as tab_chat:
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(label=t["chat"], height=560, elem_id="chatbot", sanitize_html=True,
                                             buttons=["copy", "copy_all"])
                        question = gr.Textbox(label=t["question"], placeholder=t["placeholder"], lines=2,
                                              elem_id="question")
                        with gr.Row():
                            send = gr.Button(t["send"], variant="primary", elem_id="send")
                            new = gr.Button(t["new"], elem_id="new")
                        with gr.Accordion(t["feedback"], open=False, elem_id="feedback") as fb_box:
                            with gr.Row():
                                up = gr.Button(t["up"], elem_id="fb-up")
                                down = gr.Button(t["down"], elem_id="fb-down")
                            comment = gr.Textbox(label=t["comment"], lines=1, elem_id="fb-comment")
                            store_q = gr.Checkbox(label=t["store_q"], value=False, elem_id="fb-store")
                            fb_status = gr.Markdown(elem_id="fb-status")
                        with gr.Accordion(t["export"], open=False, elem_id="export") as ex_box:
                            with gr.Row():
                                note_btn = gr.Button(t["export_note"], elem_id="export-note")
                                chat_btn = gr.Button(t["export_chat"], elem_id="export-chat")
                            files = gr.File(label=t["files"], file_count="multiple", interactive=False,
                                            elem_id="export-files")
                    with gr.Column(scale=2, elem_classes=["samskap-side"]):
                        role = gr.Radio([("Prosjektleder", "prosjektleder"), ("Jurist", "jurist")],
                                        value="prosjektleder", label=t["role"], elem_id="role")
                        badge = gr.Markdown(t["no_verdict"], label=t["verdict"], elem_id="badge")
                        with gr.Accordion(t["legal"], open=True) as legal_box:
                            legal = gr.Markdown(t["no_legal"], elem_id="legal", max_height=380)
                        with gr.Accordion(t["methods"], open=True) as methods_box:
                            methods = gr.Markdown(t["no_methods"], elem_id="methods", max_height=420)
                with gr.Row():
                    with gr.Column(scale=3):
                        table = gr.Dataframe(headers=CITATION_HEADERS["nb"], value=[], interactive=False,
                                             label=t["citations"], wrap=True, elem_id="citations",
                                             column_widths=["6%", "34%", "42%", "18%"], datatype="str",
                                             max_height=420)
                    with gr.Column(scale=2):
                        detail = gr.Markdown(t["detail_hint"], elem_id="detail", max_height=420,
                                             container=True, padding=True)
            with gr.Tab(t["tab_case"], id="case") as tab_case:
                case_intro = gr.Markdown(t["case_intro"])
                problem = gr.Textbox(label=t["problem"], lines=3, elem_id="case-problem")
                involved = gr.CheckboxGroup(INVOLVED["nb"], label=t["involved"], elem_id="case-involved")
                authority = gr.Radio(yes_no, value=t["unknown"], label=t["authority"], elem_id="case-authority")
                timeframe = gr.Textbox(label=t["timeframe"], placeholder="f.eks. høsten 2026", elem_id="case-time")
                personal = gr.Radio(yes_no, value=t["unknown"], label=t["personal"], elem_id="case-personal")
                case_send = gr.Button(t["case_send"], variant="primary", elem_id="case-send")
            with gr.Tab(t["tab_upload"], id="upload") as tab_upload:
                upload_intro = gr.Markdown(t["upload_intro"].format(mb=settings.upload_max_mb,
                                                                    pages=settings.upload_max_pages))
                uploads = gr.File(label=t["upload_files"], file_count="multiple", file_types=list(UPLOAD_TYPES),
                                  elem_id="upload-files")
                upload_btn = gr.Button(t["upload_send"], variant="primary", elem_id="upload-send")
                upload_status = gr.Markdown(elem_id="upload-status")
            with gr.Tab(t["tab_about"], id="about") as tab_about:
                about = gr.Markdown(elem_id="about")

        side_outputs = [badge, methods, legal, table, detail]

        def show_banner(lang_value: str) -> tuple[Any, Any]:
            text = runtime.banner(lang_value)
            return gr.Markdown(text, visible=bool(text)), gr.Timer(active=runtime.embedding)

        def respond(message: str, role_value: str, lang_value: str, answers: list[Answer]) -> Iterator[Any]:
            message = (message or "").strip()
            if not message:
                yield chat_messages(answers), "", answers, *side_panel(answers[-1] if answers else None, lang_value)
                return
            yield chat_messages(answers, message), "", answers, *side_panel(None, lang_value)
            answer: Answer | None = None
            try:
                for draft, answer in stream_answer(lambda on_token: runtime.ask(message, role_value, answers, on_token),
                                                   lang_value):
                    if answer is None:
                        yield chat_messages(answers, message, draft), "", answers, *side_panel(None, lang_value)
            except Exception as exc:
                answer = Answer(question=message, refused=True, text="", refusal_reason=f"⚠ {exc}")
            assert answer is not None
            answers = [*answers, answer]
            yield chat_messages(answers), "", answers, *side_panel(answer, lang_value)

        chat_outputs = [chatbot, question, answers_state, *side_outputs]
        send.click(respond, [question, role, lang, answers_state], chat_outputs, api_visibility="private")
        question.submit(respond, [question, role, lang, answers_state], chat_outputs, api_visibility="private")

        def respond_case(problem_v: str, involved_v: list[str], authority_v: str, time_v: str, personal_v: str,
                         role_value: str, lang_value: str, answers: list[Answer]) -> Iterator[Any]:
            if not (problem_v or "").strip():
                gr.Warning("Beskriv saken først." if _lang(lang_value) == "nb" else "Describe the case first.")
                return
            text = compose_case_question(problem_v, involved_v, authority_v, time_v, personal_v, lang_value)
            tl = TEXTS[_lang(lang_value)]
            case = {tl["problem"]: problem_v.strip(), tl["involved"]: ", ".join(involved_v),
                    tl["authority"]: authority_v, tl["timeframe"]: time_v.strip(), tl["personal"]: personal_v}
            for out in respond(text, role_value, lang_value, answers):
                yield (*out, case, gr.Tabs(selected="chat"))

        case_send.click(
            respond_case,
            [problem, involved, authority, timeframe, personal, role, lang, answers_state],
            [*chat_outputs, case_state, tabs],
            api_visibility="private",
        )

        def new_conversation(lang_value: str) -> tuple[Any, ...]:
            return [], "", [], None, *side_panel(None, lang_value), None, ""

        chatbot.clear(new_conversation, [lang], [chatbot, question, answers_state, case_state, *side_outputs, files,
                                                 fb_status], api_visibility="private")
        new.click(new_conversation, [lang], [chatbot, question, answers_state, case_state, *side_outputs, files,
                                             fb_status], api_visibility="private")

        def select_citation(answers: list[Answer], lang_value: str, evt: gr.SelectData) -> str:
            if not answers:
                return tr(lang_value, "detail_hint")
            row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
            rows = citation_table(answers[-1], lang_value)
            if not isinstance(row, int) or row >= len(rows):
                return tr(lang_value, "detail_hint")
            return citation_detail(runtime.index, answers[-1], int(rows[row][0]), lang_value)

        select_citation.__annotations__["evt"] = gr.SelectData  # postponed annotations hide it from gradio
        table.select(select_citation, [answers_state, lang], [detail], api_visibility="private")

        def give_feedback(rating: str, comment_v: str, store: bool, answers: list[Answer], lang_value: str) -> tuple[str, str]:
            if not answers:
                return tr(lang_value, "no_answer"), comment_v
            runtime.feedback.record("up" if rating == "up" else "down", answers[-1], comment_v or "", bool(store))
            q = tr(lang_value, "with_q" if store else "without_q")
            return tr(lang_value, "thanks").format(q=q), ""

        up.click(lambda c, s, a, lv: give_feedback("up", c, s, a, lv), [comment, store_q, answers_state, lang],
                 [fb_status, comment], api_visibility="private")
        down.click(lambda c, s, a, lv: give_feedback("down", c, s, a, lv), [comment, store_q, answers_state, lang],
                   [fb_status, comment], api_visibility="private")

        note_btn.click(lambda a, c, lv: export_files(a, c, lv, "note"), [answers_state, case_state, lang], [files],
                       api_visibility="private")
        chat_btn.click(lambda a, c, lv: export_files(a, c, lv, "chat"), [answers_state, case_state, lang], [files],
                       api_visibility="private")

        def upload(paths: list[str] | None, lang_value: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
            nb = _lang(lang_value) == "nb"
            if not paths:
                return ("Velg minst én fil." if nb else "Choose at least one file."), about_markdown(runtime.index, settings, lang_value), None, *show_banner(lang_value)
            phases = {"save": "Lagrer filene" if nb else "Saving the files", "les": "Leser filene" if nb else "Reading the files"}
            result, report = add_uploads(settings, runtime, paths, lang_value,
                                         lambda f, phase: progress(f, desc=phases.get(phase, "Bygger indeksen" if nb else "Building the index")))
            if report is None:
                msg = ("**Ingen filer ble lagt til:**\n" if nb else "**No files were added:**\n")
                return msg + "\n".join(f"- {escape_text(r)}" for r in result.rejected), about_markdown(runtime.index, settings, lang_value), None, *show_banner(lang_value)
            return (build_report_markdown(report, result.saved, result.rejected, settings, lang_value),
                    about_markdown(runtime.index, settings, lang_value), None, *show_banner(lang_value))

        # Also callable as /upload (undocumented: the documented API stays /ask) for scripts and the load benchmark.
        upload_btn.click(upload, [uploads, lang], [upload_status, about, uploads, banner, banner_timer],
                         api_name="upload", api_visibility="undocumented", concurrency_limit=1,
                         concurrency_id="index-build")

        def switch_language(lang_value: str, answers: list[Answer]) -> tuple[Any, ...]:
            tl = TEXTS[_lang(lang_value)]
            yn = [tl["yes"], tl["no"], tl["unknown"]]
            roles = ROLE_LABEL[_lang(lang_value)]
            last = answers[-1] if answers else None
            return (
                f"# Samskap\n{tl['subtitle']}",
                gr.Tab(label=tl["tab_chat"]), gr.Tab(label=tl["tab_case"]), gr.Tab(label=tl["tab_upload"]),
                gr.Tab(label=tl["tab_about"]),
                gr.Chatbot(label=tl["chat"]),
                gr.Textbox(label=tl["question"], placeholder=tl["placeholder"]),
                gr.Button(tl["send"]), gr.Button(tl["new"]),
                gr.Radio(choices=[(roles["prosjektleder"], "prosjektleder"), (roles["jurist"], "jurist")], label=tl["role"]),
                gr.Accordion(label=tl["methods"]), gr.Accordion(label=tl["legal"]),
                gr.Dataframe(value=citation_table(last, lang_value), headers=CITATION_HEADERS[_lang(lang_value)],
                             label=tl["citations"]),
                gr.Accordion(label=tl["feedback"]), gr.Button(tl["up"]), gr.Button(tl["down"]),
                gr.Textbox(label=tl["comment"]), gr.Checkbox(label=tl["store_q"]),
                gr.Accordion(label=tl["export"]), gr.Button(tl["export_note"]), gr.Button(tl["export_chat"]),
                tl["case_intro"], gr.Textbox(label=tl["problem"]),
                gr.CheckboxGroup(choices=INVOLVED[_lang(lang_value)], value=[], label=tl["involved"]),
                gr.Radio(choices=yn, value=tl["unknown"], label=tl["authority"]),
                gr.Textbox(label=tl["timeframe"]),
                gr.Radio(choices=yn, value=tl["unknown"], label=tl["personal"]),
                gr.Button(tl["case_send"]),
                tl["upload_intro"].format(mb=settings.upload_max_mb, pages=settings.upload_max_pages),
                gr.Button(tl["upload_send"]),
                about_markdown(runtime.index, settings, lang_value),
                fit_badge(last, lang_value), method_cards(last, lang_value), legal_basis(last, lang_value),
            )

        lang.change(
            switch_language, [lang, answers_state],
            [header, tab_chat, tab_case, tab_upload, tab_about, chatbot, question, send, new, role, methods_box,
             legal_box, table, fb_box, up, down, comment, store_q, ex_box, note_btn, chat_btn, case_intro, problem,
             involved, authority, timeframe, personal, case_send, upload_intro, upload_btn, about, badge, methods,
             legal],
            api_visibility="private",
        )
        app.load(lambda lv: (about_markdown(runtime.index, settings, lv), *show_banner(lv)), [lang],
                 [about, banner, banner_timer], api_visibility="private")
        banner_timer.tick(show_banner, [lang], [banner, banner_timer], api_visibility="private")

        def ask(
            question: str, role: str = "prosjektleder", lang: str = "", history: list[dict[str, str]] | None = None
        ) -> dict[str, Any]:
            """One answer as JSON (CONTRACTS.md §3).

            `lang` empty: follow the question. `history`: the conversation so far, oldest first, as
            [{"role": "user", "content": question}, {"role": "assistant", "content": answer text}, …],
            so that a follow-up ("Hva med møtene?") keeps its context.
            """
            answer_lang: Lang | None = "en" if lang == "en" else ("nb" if lang == "nb" else None)
            return runtime.ask(question, role, turns_from_messages(history or []), lang=answer_lang).to_json()

        gr.api(ask, api_name="ask")
    return app


def _console_progress(phase: str, done: int, total: int) -> None:
    if total:
        print(f"\r  {phase}: {done}/{total}", end="", flush=True)


def launch(settings: Settings, **kwargs: Any) -> None:
    """Bring the index up to date without waiting for vectors, serve the app on settings.host:port (never
    shared), and embed what is missing in the background (the shipped corpus comes with its vectors)."""
    print("Oppdaterer indeksen …", flush=True)
    runtime = Runtime(settings)
    report = runtime.update_index(_console_progress)
    print(f"\rIndeksen er klar: {report.counts.get('total', 0)} tekstbiter.", flush=True)
    for problem in report.problems:
        print(f"  ! {problem.message or problem.path}", flush=True)
    app = create_app(settings, runtime=runtime)
    if runtime.embedding:
        print("Semantisk søk for nye tekstbiter bygges i bakgrunnen; appen svarer med nøkkelordsøk så lenge.",
              flush=True)
    app.queue(default_concurrency_limit=settings.concurrency, max_size=64)
    app.launch(
        server_name=settings.host,
        server_port=settings.port or None,  # 0: the first free port from 7860
        share=False,
        max_file_size=f"{settings.upload_max_mb:g}mb",
        css=CSS,
        **kwargs,
    )
