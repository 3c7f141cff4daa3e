"""The app in a real browser (headless Chromium via Playwright) and through gradio_client."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings
from assistant.embed import Embedder
from assistant.index import Index, build_index

from .conftest import CORPUS, ROOT, STRATEGY_MD, GatedEmbedder, launch_in_thread, make_settings
from .test_llm import NORMAL, ServerState
from .test_llm import server as llm_server  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TIMEOUT = 60_000
BOT = "#chatbot [data-testid=bot]"
CELL = "#citations [role=gridcell]"


@pytest.fixture(scope="module")
def app_settings(tmp_path_factory: pytest.TempPathFactory, shipped_settings: Settings, shipped_index: Index,
                 embedder: Embedder) -> Settings:
    """A private copy of the corpus and index (uploads must not touch the shipped corpus)."""
    base = tmp_path_factory.mktemp("ui-app")
    shutil.copytree(CORPUS, base / "corpus")
    shutil.copytree(shipped_settings.index_dir, base / "index")  # the embedding cache makes the rebuild cheap
    settings = make_settings(base / "corpus", base / "index", feedback_db=base / "feedback.sqlite")
    build_index(settings, embedder=embedder)
    return settings


@pytest.fixture(scope="module")
def server(app_settings: Settings, embedder: Embedder) -> Iterator[tuple[str, object]]:
    from assistant.service import Assistant
    from assistant.ui import CSS, create_app

    app = create_app(app_settings, lambda s: Assistant(s, embedder=embedder))
    app.queue(default_concurrency_limit=2)
    url = launch_in_thread(app, css=CSS)
    try:
        yield url, app
    finally:
        app.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's), one per module."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing on CI: .ci/run installs it with apt-get")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        launched.close()


@contextmanager
def browser_page(browser: Any, url: str) -> Iterator[Any]:
    """A fresh browser context with the app at `url` loaded."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT)
    pg.goto(url, wait_until="load")
    pg.wait_for_selector("#question textarea")
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture(scope="module")
def page(browser: Any, server: tuple[str, object]) -> Iterator[Any]:
    with browser_page(browser, server[0]) as pg:
        yield pg


def _ask(pg: Any, question: str) -> None:
    """Send a question and wait until the answer and its citation table are shown."""
    before = pg.locator(BOT).count()
    pg.fill("#question textarea", question)
    pg.click("#send")
    pg.wait_for_function(
        f"n => document.querySelectorAll('{BOT}').length > n "
        "&& document.querySelectorAll('#citations [role=gridcell]').length > 0 "
        "&& !document.querySelector('#chatbot .pending')",
        arg=before,
    )
    pg.wait_for_timeout(800)


def test_ask_cite_role_case_upload_export_feedback(page: Any, server: tuple[str, object],
                                                   app_settings: Settings, tmp_path: Path) -> None:
    pg = page
    from assistant.feedback import FeedbackStore

    # 1. A Norwegian question → an answer with citations in the chat and the table.
    _ask(pg, "Vi vil prøve ut nye løsninger for eldre sammen med frivillige i én bygd. Hvilken metode passer?")
    bot = pg.locator(BOT).last
    assert "[1]" in bot.inner_text()
    assert pg.locator(CELL).count() >= 12
    pg.screenshot(path=str(ARTIFACTS / "01-answer.png"), full_page=True)

    # 2. Open a citation: the full passage with its key and version.
    pg.locator(CELL).nth(2).click()
    pg.wait_for_function("() => document.querySelector('#detail').innerText.includes('[1]')")
    detail = pg.locator("#detail").inner_text()
    assert "thesis/" in detail or "lov/" in detail
    pg.screenshot(path=str(ARTIFACTS / "02-citation.png"), full_page=True)

    # 3. Switch role to Jurist and ask a legal question: a law paragraph with lovdata link and version.
    pg.get_by_label("Jurist").check()
    _ask(pg, "Må møtene i et oppgaveutvalg være åpne for publikum?")
    legal = pg.locator("#legal").inner_text()
    assert "Kommuneloven" in legal and "versjon" in legal
    assert pg.locator("#legal a[href^='https://lovdata.no/']").count() >= 1
    pg.screenshot(path=str(ARTIFACTS / "03-jurist.png"), full_page=True)

    # 4. Feedback without the question, then with it.
    pg.click("#feedback button.label-wrap, #feedback > button")
    pg.fill("#fb-comment textarea", "Nyttig for saksbehandlingen")
    pg.click("#fb-up")
    pg.wait_for_function("() => document.querySelector('#fb-status').innerText.includes('Takk')")
    rows = FeedbackStore(app_settings.feedback_db).all()
    assert rows[-1]["rating"] == "up" and rows[-1]["question"] is None
    assert rows[-1]["comment"] == "Nyttig for saksbehandlingen"

    # 5. Export a decision note (Markdown + PDF).
    pg.click("#export button.label-wrap, #export > button")
    pg.click("#export-note")
    pg.wait_for_selector("#export-files a[href*='beslutningsnotat']")
    exported = pg.locator("#export-files").inner_text()
    assert ".md" in exported and ".pdf" in exported
    pg.screenshot(path=str(ARTIFACTS / "04-feedback-export.png"), full_page=True)

    # 6. The case form → one composed question → a verdict.
    pg.get_by_role("tab", name="Saksskjema").click()
    pg.fill("#case-problem textarea", "Vi vil utvikle et nytt aktivitetstilbud for ungdom i sentrum.")
    pg.locator("#case-involved").get_by_label("innbyggere").check()
    pg.locator("#case-involved").get_by_label("frivillige").check()
    pg.locator("#case-authority").get_by_label("Nei").check()
    pg.locator("#case-personal").get_by_label("Nei").check()
    pg.screenshot(path=str(ARTIFACTS / "05-case-form.png"), full_page=True)
    n_bots = pg.locator(BOT).count()
    pg.click("#case-send")
    pg.wait_for_function(
        f"n => document.querySelectorAll('{BOT}').length > n", arg=n_bots
    )
    pg.wait_for_function("() => /Egner seg|Kommer an på/.test(document.querySelector('#badge').innerText)")
    assert "Vår sak" in pg.locator("#chatbot").inner_text()
    pg.screenshot(path=str(ARTIFACTS / "06-case-answer.png"), full_page=True)

    # 7. Upload a small PDF; then an answer cites it.
    pdf = tmp_path / "Kulturplan Løvstad 2026.pdf"
    _make_pdf(pdf)
    pg.get_by_role("tab", name="Dokumenter").click()
    pg.locator("#upload-files input[type=file]").set_input_files(str(pdf))
    pg.click("#upload-send")
    pg.wait_for_function(
        "() => document.querySelector('#upload-status').innerText.includes('Lagt til')", timeout=180_000
    )
    assert (app_settings.corpus_dir / "strategies/uploads/Kulturplan-Løvstad-2026.pdf").exists()
    pg.screenshot(path=str(ARTIFACTS / "07-upload.png"), full_page=True)
    assert "Kulturplan-Løvstad-2026.pdf" in pg.locator("#upload-status").inner_text()
    pg.get_by_role("tab", name="Om tjenesten").click()
    assert "strategies/uploads/Kulturplan-Løvstad-2026.pdf" in pg.locator("#about").inner_text()
    # The reloaded assistant finds the new document and cites it as municipal strategy.
    from gradio_client import Client

    question = "Hva sier kulturplanen for Løvstad om fritidsklubben og samskaping med ungdomsrådet?"
    result = Client(server[0], verbose=False).predict(question, "prosjektleder", "", api_name="/ask")
    assert "kulturplan-lovstad-2026/p1" in result["retrieved"][:3]
    strategy = [c for c in result["citations"] if c["key"] == "kulturplan-lovstad-2026/p1"]
    assert strategy and strategy[0]["basis"] == "strategi"
    pg.get_by_role("tab", name="Samtale").click()
    pg.click("#new")
    pg.wait_for_function(f"() => document.querySelectorAll('{BOT}').length === 0")
    _ask(pg, question)
    pg.screenshot(path=str(ARTIFACTS / "08-answer-after-upload.png"), full_page=True)

    # 8. English interface.
    pg.locator("#lang").get_by_label("English").check()
    pg.wait_for_selector("#send:has-text('Send')")
    pg.get_by_role("tab", name="About").click()
    pg.wait_for_function("() => document.querySelector('#about').innerText.includes('NLOD 2.0')")
    pg.screenshot(path=str(ARTIFACTS / "09-about-en.png"), full_page=True)


LAPTOP = {"width": 1366, "height": 768}


@pytest.mark.parametrize(
    ("name", "role", "question", "points"),
    [
        ("12-legal-answer", "Jurist",
         "Kan en kommunalsjef velges som medlem av et utvalg som kommunestyret oppretter?", "Rettslig grunnlag"),
        ("13-method-answer", "Prosjektleder",
         "Vi vil utvikle tilbudet til eldre som bor hjemme sammen med frivillige og næringsliv, og prøve ut ting i "
         "liten skala. Hvilken metode passer?", "Metode og første steg"),
    ],
)
def test_an_answer_opens_at_its_summary_with_the_rest_folded(
    browser: Any, server: tuple[str, object], name: str, role: str, question: str, points: str
) -> None:
    """On a laptop screen the new answer is shown from its start: summary and key points visible, the
    details folded under «Mer» until clicked."""
    with browser_page(browser, server[0]) as pg:
        pg.set_viewport_size(LAPTOP)
        pg.get_by_label(role).check()
        _ask(pg, "Hva er samskaping?")  # an earlier answer above, so the new one must be scrolled to
        _ask(pg, question)
        bot = pg.locator(BOT).last
        heading = bot.locator(f"text={points}").first
        folded = bot.locator("details")
        assert folded.count() == 1 and folded.get_attribute("open") is None
        for part in (bot.locator("strong", has_text="Kort svar").first, heading):
            box = part.bounding_box()
            assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= LAPTOP["height"], part
        pg.screenshot(path=str(ARTIFACTS / f"{name}.png"))
        folded.locator("summary").click()
        assert folded.get_attribute("open") is not None
        assert bot.locator("details >> text=Kilder").count() + bot.locator("details >> text=kilder").count() >= 1


def test_a_case_without_the_deciding_fact_asks_back_and_a_click_decides(
    browser: Any, server: tuple[str, object]
) -> None:
    """The question back is shown with its answer options as buttons; a click answers it and the new answer
    gives a verdict; the case form can be opened pre-filled with the case instead."""
    case = "Vi vurderer å samskape med innbyggerne om det nye kulturhuset. Passer samskaping?"
    with browser_page(browser, server[0]) as pg:
        pg.set_viewport_size(LAPTOP)
        _ask(pg, case)
        box = pg.locator("#clarify")
        box.wait_for(state="visible")
        assert box.locator("#clarify-question").inner_text().strip().endswith("?")
        options = [pg.locator(f"#clarify-{i}") for i in range(3)]
        assert [o.inner_text().strip() for o in options] == ["Ja", "Nei", "Vet ikke"]
        assert "Det kommer an på" in pg.locator(BOT).last.inner_text()
        pg.screenshot(path=str(ARTIFACTS / "14-clarify-question.png"))

        before = pg.locator(BOT).count()
        options[0].click()
        pg.wait_for_function(
            f"n => document.querySelectorAll('{BOT}').length > n && !document.querySelector('#chatbot .pending')",
            arg=before,
        )
        pg.wait_for_timeout(800)
        decided = pg.locator(BOT).last.inner_text()
        assert "Det kommer an på" not in decided.split("\n\n")[0]
        assert "Kort svar: Ja" in decided or "Kort svar: Nei" in decided, decided[:200]
        assert "ditt svar" in decided
        pg.screenshot(path=str(ARTIFACTS / "15-clarify-answered.png"))

        # A new conversation asks back again; the case form opens with the case filled in.
        pg.click("#new")
        pg.wait_for_function(f"() => document.querySelectorAll('{BOT}').length == 0")
        _ask(pg, case)
        pg.locator("#clarify-form").click()
        problem = pg.locator("#case-problem textarea")
        problem.wait_for(state="visible")
        assert problem.input_value() == case
        pg.screenshot(path=str(ARTIFACTS / "16-clarify-case-form.png"))


def _make_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if font.exists():
        pdf.add_font("DejaVu", "", str(font))
        pdf.set_font("DejaVu", size=12)
    else:
        pdf.set_font("Helvetica", size=12)
    text = (
        "Kulturplan for Løvstad kommune 2026–2030\n\n"
        "Fritidsklubben i Løvstad skal utvikles i samskaping med ungdomsrådet. Kommunen vil prøve ut en "
        "åpen verkstedmodell der ungdom, frivillige lag og kulturskolen sammen planlegger aktivitetene. "
        "Ungdomsrådet får et eget budsjett til forsøk i fritidsklubben."
    )
    pdf.multi_cell(0, 7, text)
    pdf.output(str(path))


def test_gradio_client_ask(server: tuple[str, object]) -> None:
    from gradio_client import Client

    client = Client(server[0], verbose=False)
    result = client.predict("Må møtene i et oppgaveutvalg være åpne?", "jurist", "", api_name="/ask")
    assert result["role"] == "jurist" and result["language"] == "nb"
    assert any(c["key"].startswith("lov/2018-06-22-83/") for c in result["citations"])
    assert set(result) >= {"question", "text", "fit", "methods", "citations", "retrieved", "timings_ms"}


def test_banner_while_vectors_are_built_and_model_tokens_stream_into_the_chat(
    tmp_path: Path, shipped_settings: Settings, shipped_index: Index, embedder: Embedder, browser: Any,
    llm_server: tuple[ServerState, int],  # noqa: F811
) -> None:
    """A first start with a new strategy document and a (slow) language model configured."""
    from assistant.isolated import build_here
    from assistant.runtime import Runtime
    from assistant.service import Assistant
    from assistant.ui import CSS, create_app

    state, llm_port = llm_server
    state.behaviour = "stream_slow"
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "strategies" / "helseplan.md").write_text(STRATEGY_MD, encoding="utf-8")
    shutil.copytree(shipped_settings.index_dir / "cache", tmp_path / "index" / "cache")
    settings = make_settings(corpus, tmp_path / "index", llm_base_url=f"http://127.0.0.1:{llm_port}/v1",
                             llm_model="test", llm_timeout=20.0)
    gated = GatedEmbedder(embedder, open_gate=False)
    assert build_index(settings, embedder=gated, embed_missing=False).vectors_missing == 2
    runtime = Runtime(settings, lambda s: Assistant(s, embedder=gated),
                      lambda s, mode, progress: build_here(s, mode, progress, embedder=gated))
    app = create_app(settings, runtime=runtime)
    assert runtime.start_vectors()
    app.queue(default_concurrency_limit=2)
    url = launch_in_thread(app, css=CSS)
    try:
        with browser_page(browser, url) as pg:
            pg.wait_for_function("() => document.querySelector('#banner')?.innerText"
                                 ".includes('Semantisk søk bygges: 0 av 2 tekstbiter')")
            pg.screenshot(path=str(ARTIFACTS / "10-banner.png"))

            pg.fill("#question textarea", "Kan kommunestyret opprette utvalg med innbyggere?")
            pg.click("#send")
            pg.wait_for_function(f"() => [...document.querySelectorAll('{BOT}')].some("
                                 "b => b.innerText.includes('Utkast fra språkmodellen'))")
            draft = pg.locator(BOT).last.inner_text()
            assert not draft.rstrip().endswith(NORMAL.split("\n")[-1])  # shown before the model finished
            pg.screenshot(path=str(ARTIFACTS / "11-streaming-draft.png"))
            pg.wait_for_function(f"() => {{ const b = [...document.querySelectorAll('{BOT}')].pop(); "
                                 "return b && !b.innerText.includes('Utkast') "
                                 "&& b.innerText.includes('Kommunestyret kan opprette utvalg etter kommuneloven'); }")
            assert runtime.embedding  # still keyword-only for the new document while all this happened

            gated.gate.set()
            pg.wait_for_function("() => !document.querySelector('#banner')?.innerText.includes('bygges')")
            assert runtime.wait_for_vectors(60) and runtime.index is not None
            assert runtime.index.vector_count == len(runtime.index.chunks)
    finally:
        gated.gate.set()
        app.close()
