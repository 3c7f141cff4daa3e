"""The Gradio shell: the event handlers, `create_app()` that lays out and wires the Blocks, and `launch()`.

gradio is imported inside the functions that need it, so importing the UI never loads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..answer import Answer, Lang
from ..catalogue import load_catalogue
from ..config import Settings, set_offline_defaults
from ..criteria import fact_for, stated_facts
from ..export import EXPORT_MAX_AGE_S, export_files
from ..question import parse_question
from ..runtime import AssistantFactory, Runtime, turns_from_messages
from ..texts.ui import CITATION_HEADERS, INVOLVED, TEXTS, UPLOAD, role_choices, tr, ui_lang, yes_no
from ..uploads import UPLOAD_TYPES, add_uploads
from .render import (
    about_markdown,
    build_report_markdown,
    chat_messages,
    citation_detail,
    citation_table,
    compose_case_question,
    escape_text,
    fit_badge,
    legal_basis,
    method_cards,
    side_panel,
    stream_answer,
)

if TYPE_CHECKING:
    import gradio as gr

CLARIFY_OPTIONS = 3  # answer buttons under a question back (Ja / Nei / Vet ikke)

CSS = """
.samskap-side .prose h3 { margin-top: 0.2em; }
footer { display: none !important; }
#citations [role=gridcell] { font-family: var(--font); cursor: pointer; }
"""

# ---------------------------------------------------------------- handlers ------------------------------------


def banner_outputs(runtime: Runtime, lang: str) -> tuple[Any, Any]:
    """The status line above the chat, and its timer, which polls only while vectors are being made."""
    import gradio as gr

    text = runtime.banner(lang)
    return gr.Markdown(text, visible=bool(text)), gr.Timer(active=runtime.embedding)


def chat_turn(runtime: Runtime, message: str, role: str, lang: str, answers: list[Answer],
              history: list[Answer] | None = None) -> Iterator[Any]:
    """Chat outputs while one question is answered: the question at once, a model's draft as it streams,
    then the answer and its side panel. A failure is shown as a refused answer. `history` is the
    conversation the question is read with (default: every answer shown)."""
    message = (message or "").strip()
    if not message:
        yield chat_messages(answers), "", answers, *side_panel(answers[-1] if answers else None, lang)
        return
    yield chat_messages(answers, message), "", answers, *side_panel(None, lang)
    answer: Answer | None = None
    try:
        context = answers if history is None else history
        for draft, answer in stream_answer(lambda on_token: runtime.ask(message, role, context, on_token), lang):
            if answer is None:
                yield chat_messages(answers, message, draft), "", answers, *side_panel(None, lang)
    except Exception as exc:
        answer = Answer(question=message, refused=True, text=f"⚠ {exc}", refusal_reason="error")
    assert answer is not None
    answers = [*answers, answer]
    yield chat_messages(answers), "", answers, *side_panel(answer, lang)


def case_turn(runtime: Runtime, problem: str, involved: list[str], authority: str, timeframe: str, personal: str,
              role: str, lang: str, answers: list[Answer]) -> Iterator[Any]:
    """The case form asked as one question: the chat outputs, the case for the decision note, the chat tab."""
    import gradio as gr

    if not (problem or "").strip():
        gr.Warning(tr(lang, "case_first"))
        return
    text = compose_case_question(problem, involved, authority, timeframe, personal, lang)
    t = TEXTS[ui_lang(lang)]
    case = {t["problem"]: problem.strip(), t["involved"]: ", ".join(involved),
            t["authority"]: authority, t["timeframe"]: timeframe.strip(), t["personal"]: personal}
    for out in chat_turn(runtime, text, role, lang, answers):
        yield (*out, case, gr.Tabs(selected="chat"))


def clarify_outputs(answers: list[Answer]) -> tuple[Any, ...]:
    """The question back of the last answer, with one button per answer option (hidden when there is none)."""
    import gradio as gr

    clarify = answers[-1].clarify if answers else None
    options = clarify.options[:CLARIFY_OPTIONS] if clarify else []
    buttons = [gr.Button(value=options[i] if i < len(options) else "", visible=i < len(options))
               for i in range(CLARIFY_OPTIONS)]
    return gr.Row(visible=clarify is not None), f"**{clarify.question}**" if clarify else "", *buttons


def clarified_question(answers: list[Answer], option: int) -> tuple[str, str | None]:
    """The last question with the chosen answer added as a fact: (the new question, the criterion answered)."""
    last = answers[-1]
    assert last.clarify is not None
    found = fact_for(load_catalogue(), last.clarify.question, option, last.language)
    if found is None:
        return f"{last.question}\n{last.clarify.question} {last.clarify.options[option]}", None
    criterion, fact = found
    return f"{last.question}\n{fact}", criterion


def clarify_turn(runtime: Runtime, option: int, role: str, lang: str, answers: list[Answer]) -> Iterator[Any]:
    """An answer option clicked: the case asked again with that fact, read without the answer it replaces."""
    if not answers or answers[-1].clarify is None or option >= len(answers[-1].clarify.options):
        return
    message, _ = clarified_question(answers, option)
    yield from chat_turn(runtime, message, role, lang, answers, history=answers[:-1])


def case_form_from_chat(answers: list[Answer], lang: str) -> tuple[Any, ...]:
    """The case form pre-filled from the last case in the chat (its text, and its answer on authority)."""
    import gradio as gr

    if not answers:
        return gr.Textbox(), gr.Radio(), gr.Tabs(selected="case")
    facts, text = stated_facts(parse_question(answers[-1].question), load_catalogue())
    t = TEXTS[ui_lang(lang)]
    choice = {"met": t["yes"], "not_met": t["no"]}.get(facts.get("authority", ("unknown", ""))[0], t["unknown"])
    return gr.Textbox(value=text.strip()), gr.Radio(value=choice), gr.Tabs(selected="case")


def new_conversation(lang_value: str) -> tuple[Any, ...]:
    return [], "", [], None, *side_panel(None, lang_value), None, ""


def selected_citation(runtime: Runtime, answers: list[Answer], cell: Any, lang: str) -> str:
    """The source text behind the citation table's selected cell (`cell`: [row, column] or a row)."""
    if not answers:
        return tr(lang, "detail_hint")
    row = cell[0] if isinstance(cell, list | tuple) else cell
    rows = citation_table(answers[-1], lang)
    if not isinstance(row, int) or row >= len(rows):
        return tr(lang, "detail_hint")
    return citation_detail(runtime.index, answers[-1], int(rows[row][0]), lang)


def give_feedback(runtime: Runtime, rating: str, comment: str, store: bool, answers: list[Answer],
                  lang: str) -> tuple[str, str]:
    """Store a rating of the last answer; the status line and the emptied comment box."""
    if not answers:
        return tr(lang, "no_answer"), comment
    runtime.feedback.record("up" if rating == "up" else "down", answers[-1], comment or "", bool(store))
    q = tr(lang, "with_q" if store else "without_q")
    return tr(lang, "thanks").format(q=q), ""


def upload_outputs(runtime: Runtime, settings: Settings, paths: list[str] | None, lang: str,
                   progress: Callable[..., Any]) -> tuple[Any, ...]:
    """Add the uploaded files to the index: the status, the 'about' panel, the emptied file box, the banner."""
    t = UPLOAD[ui_lang(lang)]

    def outputs(status: str) -> tuple[Any, ...]:
        return status, about_markdown(runtime.index, settings, lang), None, *banner_outputs(runtime, lang)

    if not paths:
        return outputs(t["none_chosen"])

    def on_progress(fraction: float, phase: str) -> None:
        progress(fraction, desc=t["saving"] if phase == "save" else t["reading"] if phase == "les" else t["indexing"])

    result, report = add_uploads(settings, runtime, paths, lang, on_progress)
    if report is None:
        return outputs(t["none_added"] + "\n" + "\n".join(f"- {escape_text(r)}" for r in result.rejected))
    return outputs(build_report_markdown(report, result.saved, result.rejected, settings, lang))


def language_outputs(runtime: Runtime, settings: Settings, lang: str, answers: list[Answer]) -> tuple[Any, ...]:
    """Every label in the chosen language, and the side panel of the last answer again."""
    import gradio as gr

    t = TEXTS[ui_lang(lang)]
    last = answers[-1] if answers else None
    return (
        f"# Samskap\n{t['subtitle']}",
        gr.Tab(label=t["tab_chat"]), gr.Tab(label=t["tab_case"]), gr.Tab(label=t["tab_upload"]),
        gr.Tab(label=t["tab_about"]),
        gr.Chatbot(label=t["chat"]),
        gr.Textbox(label=t["question"], placeholder=t["placeholder"]),
        gr.Button(t["send"]), gr.Button(t["new"]),
        gr.Radio(choices=role_choices(lang), label=t["role"]),
        gr.Accordion(label=t["methods"]), gr.Accordion(label=t["legal"]),
        gr.Dataframe(value=citation_table(last, lang), headers=CITATION_HEADERS[ui_lang(lang)],
                     label=t["citations"]),
        gr.Accordion(label=t["feedback"]), gr.Button(t["up"]), gr.Button(t["down"]),
        gr.Textbox(label=t["comment"]), gr.Checkbox(label=t["store_q"]),
        gr.Accordion(label=t["export"]), gr.Button(t["export_note"]), gr.Button(t["export_chat"]),
        t["case_intro"], gr.Textbox(label=t["problem"]),
        gr.CheckboxGroup(choices=INVOLVED[ui_lang(lang)], value=[], label=t["involved"]),
        gr.Radio(choices=yes_no(lang), value=t["unknown"], label=t["authority"]),
        gr.Textbox(label=t["timeframe"]),
        gr.Radio(choices=yes_no(lang), value=t["unknown"], label=t["personal"]),
        gr.Button(t["case_send"]),
        t["upload_intro"].format(mb=settings.upload_max_mb, pages=settings.upload_max_pages),
        gr.Button(t["upload_send"]),
        about_markdown(runtime.index, settings, lang),
        fit_badge(last, lang), method_cards(last, lang), legal_basis(last, lang),
    )


def ask_endpoint(runtime: Runtime) -> Callable[..., dict[str, Any]]:
    """The function behind the documented API endpoint /ask."""

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

    return ask


# ---------------------------------------------------------------- Blocks --------------------------------------


def _sources_row(t: dict[str, str]) -> tuple[gr.Dataframe, gr.Markdown]:
    """Below the chat: the citation table and, beside it, the full text of the selected source."""
    import gradio as gr

    with gr.Row():
        with gr.Column(scale=3):
            table = gr.Dataframe(headers=CITATION_HEADERS["nb"], value=[], interactive=False, label=t["citations"],
                                 wrap=True, elem_id="citations", column_widths=["6%", "34%", "42%", "18%"],
                                 datatype="str", max_height=420)
        with gr.Column(scale=2):
            detail = gr.Markdown(t["detail_hint"], elem_id="detail", max_height=420, container=True, padding=True)
    return table, detail


def _case_form(
    t: dict[str, str],
) -> tuple[gr.Markdown, gr.Textbox, gr.CheckboxGroup, gr.Radio, gr.Textbox, gr.Radio, gr.Button]:
    """The case tab: intro, problem, involved, authority, timeframe, personal data, send button."""
    import gradio as gr

    choices = yes_no("nb")
    return (
        gr.Markdown(t["case_intro"]),
        gr.Textbox(label=t["problem"], lines=3, elem_id="case-problem"),
        gr.CheckboxGroup(INVOLVED["nb"], label=t["involved"], elem_id="case-involved"),
        gr.Radio(choices, value=t["unknown"], label=t["authority"], elem_id="case-authority"),
        gr.Textbox(label=t["timeframe"], placeholder=t["timeframe_hint"], elem_id="case-time"),
        gr.Radio(choices, value=t["unknown"], label=t["personal"], elem_id="case-personal"),
        gr.Button(t["case_send"], variant="primary", elem_id="case-send"),
    )


def _upload_form(t: dict[str, str], settings: Settings) -> tuple[gr.Markdown, gr.File, gr.Button, gr.Markdown]:
    """The documents tab: intro with the limits, file picker, send button, status."""
    import gradio as gr

    return (
        gr.Markdown(t["upload_intro"].format(mb=settings.upload_max_mb, pages=settings.upload_max_pages)),
        gr.File(label=t["upload_files"], file_count="multiple", file_types=list(UPLOAD_TYPES), elem_id="upload-files"),
        gr.Button(t["upload_send"], variant="primary", elem_id="upload-send"),
        gr.Markdown(elem_id="upload-status"),
    )


# A new answer is read from its start (its summary), not from its end: scroll its first line into view.
SHOW_ANSWER_START = (
    "() => { const bots = document.querySelectorAll('#chatbot [data-testid=bot]');"
    " if (!bots.length) return; const last = bots[bots.length - 1]; last.scrollIntoView({block: 'start'});"
    " const wrap = last.closest('.bubble-wrap'); if (wrap) wrap.scrollTop = Math.max(0, wrap.scrollTop - 36); }"
)


def create_app(
    settings: Settings, assistant_factory: AssistantFactory | None = None, runtime: Runtime | None = None
) -> gr.Blocks:
    """Build the Gradio Blocks app (does not launch it)."""
    set_offline_defaults(settings.allow_model_downloads)
    import gradio as gr

    runtime = runtime or Runtime(settings, assistant_factory)
    t = TEXTS["nb"]

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
                                             autoscroll=False,
                                             buttons=["copy", "copy_all"])
                        with gr.Column(visible=False, elem_id="clarify") as clarify_box:
                            clarify_q = gr.Markdown(elem_id="clarify-question")
                            with gr.Row():
                                options = [gr.Button(visible=False, elem_id=f"clarify-{i}", size="sm")
                                           for i in range(CLARIFY_OPTIONS)]
                                to_form = gr.Button(t["clarify_form"], elem_id="clarify-form", size="sm")
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
                        role = gr.Radio(role_choices("nb"), value="prosjektleder", label=t["role"], elem_id="role")
                        badge = gr.Markdown(t["no_verdict"], label=t["verdict"], elem_id="badge")
                        with gr.Accordion(t["legal"], open=True) as legal_box:
                            legal = gr.Markdown(t["no_legal"], elem_id="legal", max_height=380)
                        with gr.Accordion(t["methods"], open=True) as methods_box:
                            methods = gr.Markdown(t["no_methods"], elem_id="methods", max_height=420)
                table, detail = _sources_row(t)
            with gr.Tab(t["tab_case"], id="case") as tab_case:
                case_intro, problem, involved, authority, timeframe, personal, case_send = _case_form(t)
            with gr.Tab(t["tab_upload"], id="upload") as tab_upload:
                upload_intro, uploads, upload_btn, upload_status = _upload_form(t, settings)
            with gr.Tab(t["tab_about"], id="about") as tab_about:
                about = gr.Markdown(elem_id="about")

        # Closures bind the runtime to the handlers above (and name the events); the wiring follows.
        def show_banner(lang_value: str) -> tuple[Any, Any]:
            return banner_outputs(runtime, lang_value)

        def respond(message: str, role_value: str, lang_value: str, answers: list[Answer]) -> Iterator[Any]:
            yield from chat_turn(runtime, message, role_value, lang_value, answers)

        def respond_case(problem_v: str, involved_v: list[str], authority_v: str, time_v: str, personal_v: str,
                         role_value: str, lang_value: str, answers: list[Answer]) -> Iterator[Any]:
            yield from case_turn(runtime, problem_v, involved_v, authority_v, time_v, personal_v, role_value,
                                 lang_value, answers)

        def select_citation(answers: list[Answer], lang_value: str, evt: gr.SelectData) -> str:
            return selected_citation(runtime, answers, evt.index, lang_value)

        select_citation.__annotations__["evt"] = gr.SelectData  # postponed annotations hide it from gradio

        def upload(paths: list[str] | None, lang_value: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
            return upload_outputs(runtime, settings, paths, lang_value, progress)

        def switch_language(lang_value: str, answers: list[Answer]) -> tuple[Any, ...]:
            return language_outputs(runtime, settings, lang_value, answers)

        side_outputs = [badge, methods, legal, table, detail]
        chat_outputs = [chatbot, question, answers_state, *side_outputs]
        events = [
            send.click(respond, [question, role, lang, answers_state], chat_outputs, api_visibility="private"),
            question.submit(respond, [question, role, lang, answers_state], chat_outputs, api_visibility="private"),
            case_send.click(respond_case, [problem, involved, authority, timeframe, personal, role, lang,
                                           answers_state], [*chat_outputs, case_state, tabs], api_visibility="private"),
        ]
        for number, button in enumerate(options):
            def choose(role_value: str, lang_value: str, answers: list[Answer], option: int = number) -> Iterator[Any]:
                yield from clarify_turn(runtime, option, role_value, lang_value, answers)

            events.append(button.click(choose, [role, lang, answers_state], chat_outputs, api_visibility="private"))
        for event in events:
            event.then(clarify_outputs, [answers_state], [clarify_box, clarify_q, *options], api_visibility="private")
            event.then(None, js=SHOW_ANSWER_START)
        to_form.click(case_form_from_chat, [answers_state, lang],
                      [problem, authority, tabs], api_visibility="private")
        cleared = [chatbot, question, answers_state, case_state, *side_outputs, files, fb_status]
        chatbot.clear(new_conversation, [lang], cleared, api_visibility="private")
        new.click(new_conversation, [lang], cleared, api_visibility="private").then(
            clarify_outputs, [answers_state], [clarify_box, clarify_q, *options], api_visibility="private")
        table.select(select_citation, [answers_state, lang], [detail], api_visibility="private")
        feedback_inputs, feedback_outputs = [comment, store_q, answers_state, lang], [fb_status, comment]
        up.click(lambda c, s, a, lv: give_feedback(runtime, "up", c, s, a, lv), feedback_inputs, feedback_outputs,
                 api_visibility="private")
        down.click(lambda c, s, a, lv: give_feedback(runtime, "down", c, s, a, lv), feedback_inputs, feedback_outputs,
                   api_visibility="private")
        note_btn.click(lambda a, c, lv: export_files(a, c, lv, "note", settings.corpus_dir),
                       [answers_state, case_state, lang], [files],
                       api_visibility="private")
        chat_btn.click(lambda a, c, lv: export_files(a, c, lv, "chat"), [answers_state, case_state, lang], [files],
                       api_visibility="private")
        # Also callable as /upload (undocumented: the documented API stays /ask) for scripts and the load benchmark.
        upload_btn.click(upload, [uploads, lang], [upload_status, about, uploads, banner, banner_timer],
                         api_name="upload", api_visibility="undocumented", concurrency_limit=1,
                         concurrency_id="index-build")
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
        gr.api(ask_endpoint(runtime), api_name="ask")
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
