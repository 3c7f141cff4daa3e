"""The decision note (issue #15): sections that apply and only those, in Markdown, Word and PDF, from the
Python API and the CLI, plus the conversation export."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import pytest

from assistant.answer import Answer, Citation, Criterion, Fit, MethodAdvice
from assistant.config import Settings
from assistant.export import conversation_markdown, decision_note_markdown, export_files, write_decision_note
from assistant.index import Index
from assistant.note import build_note, law_texts_fetched, rests_on
from assistant.note_render import note_markdown, write_docx, write_pdf

from .conftest import CORPUS
from .test_ingest_cli import run_cli

FETCHED = [date(2026, 11, 30)]
S11_5 = Citation(
    "lov/2018-06-22-83/§11-5", "Kommuneloven § 11-5. Møteoffentlighet",
    "Alle har rett til å være til stede i møter i folkevalgte organer dersom ikke noe annet følger av denne "
    "paragrafen.", "https://lovdata.no/lov/2018-06-22-83/§11-5", "gjeldende, sist endret 20.06.2025", "lov", 1,
    kind="skal")
S11_5_CLOSE = Citation(
    "lov/2018-06-22-83/§11-5#2", "Kommuneloven § 11-5. Møteoffentlighet (lukking)",
    "Et folkevalgt organ skal vedta å lukke et møte når det behandler en sak som gjelder en arbeidstakers "
    "tjenstlige forhold.", "https://lovdata.no/lov/2018-06-22-83/§11-5", "gjeldende, sist endret 20.06.2025",
    "lov", 2, kind="skal")
FVL_13 = Citation(
    "lov/1967-02-10/§13", "Forvaltningsloven § 13. (taushetsplikt).",
    "Enhver som utfører tjeneste eller arbeid for et forvaltningsorgan, plikter å hindre at andre får adgang "
    "eller kjennskap til det han i forbindelse med tjenesten eller arbeidet får vite om",
    "https://lovdata.no/lov/1967-02-10/§13", "gjeldende, sist endret 01.01.2026", "lov", 3, kind="skal",
    warning="Oppheving er vedtatt: Loven oppheves ved lov 20 juni 2025 nr. 81.")
BACKGROUND_LAW = Citation(
    "lov/2008-06-27-71/§5-1", "Plan- og bygningsloven § 5-1. Medvirkning",
    "Enhver som fremmer planforslag, skal legge til rette for medvirkning.",
    "https://lovdata.no/lov/2008-06-27-71/§5-1", "gjeldende, sist endret 01.07.2026", "lov", 4)
THESIS = Citation("thesis/4.3.12", "4 Funn og drøfting › 4.3 Forskningsspørsmål 3 › 4.3.12 Lovverk og tolkning",
                  "Da kan det hende at en mer uformell setting er like bra vei å gå.", basis="forskning", number=5)
STRATEGY = Citation("strategi/helseplan/1", "Helse- og omsorgsplan › 1. Samskaping med frivillige",
                    "Kommunen vil samskape med frivillige og pårørende om tilbudet til eldre som bor hjemme.",
                    basis="strategi", number=6)
TASK_COMMITTEE = MethodAdvice(
    "task_committee", "Oppgaveutvalg", 0.8,
    why=["Folkevalgte og innbyggere utvikler forslag sammen før vedtak. [5]",
         "**Samskaps vurdering**: saken nevner «oppgaveutvalg»"],
    caveats=["Et formelt utvalg må ha åpne møter. [1]"],
    steps=["Avklar den juridiske formen tidlig med kommuneadvokaten. [5]", "Gi utvalget et tydelig mandat. [5]"],
)

LEGAL = Answer(
    question="Må møtene i et oppgaveutvalg være åpne for publikum?", role="jurist",
    summary="Ja. Møter i folkevalgte organer er åpne [1], med mindre § 11-5 gir grunnlag for å lukke dem [2].",
    text="**Kort svar:** Ja … [1] [2]\n\n### Rettslig grunnlag\n- Forvaltningsloven § 13 [3]",
    details="### Fra kildene\n- Plan- og bygningsloven § 5-1 [4]; oppgaven [5]",
    citations=[S11_5, S11_5_CLOSE, FVL_13, BACKGROUND_LAW, THESIS],
    open_questions=["Er oppgaveutvalget et folkevalgt organ etter kommuneloven § 5-1, eller en uformell gruppe?"],
)
METHOD = Answer(
    question="Hvilken metode passer for å utvikle politikk sammen med innbyggere?", kind="method",
    summary="Best egnet er **Oppgaveutvalg** [5].", methods=[TASK_COMMITTEE,
                                                         MethodAdvice("living_lab", "Living lab", 0.4)],
    citations=[THESIS],
)
CASE = {"Hva er utfordringen?": "Et nytt tilbud for eldre som bor hjemme", "Hvem er involvert?": "frivillige",
        "Skal kommunen treffe vedtak?": "Nei", "Tidsramme": ""}
CASE_ANSWER = Answer(
    question="Vår sak: Et nytt tilbud for eldre som bor hjemme. Involverte: frivillige.", kind="case",
    summary="Ja – saken egner seg for samskaping [6]. Start med **Oppgaveutvalg**.",
    fit=Fit("suited", ["Saken er en sammensatt samfunnsutfordring."], criteria=[
        Criterion("wicked", "Sammensatt samfunnsproblem", "met", "«eldre som bor hjemme»", ["strategi/helseplan/1"]),
        Criterion("authority", "Ingen myndighetsutøvelse", "met", "kommunen skal ikke treffe vedtak"),
        Criterion("partners", "Flere aktører utenfor kommunen", "unknown", "bare frivillige er nevnt"),
        Criterion("personal", "Lite personopplysninger", "not_met", "helseopplysninger om eldre", ["lov/1967-02-10/§13"]),
    ]),
    text="**Kort svar:** Ja – saken egner seg for samskaping [6].\n\n### Rettslig grunnlag\n- Kommuneloven § 11-5 [1]",
    methods=[TASK_COMMITTEE], citations=[S11_5, FVL_13, THESIS, STRATEGY],
)
ENGLISH = Answer(
    question="Must the meetings of a task committee be open to the public?", language="en", role="jurist",
    summary="Yes: meetings of elected bodies are open [1] unless § 11-5 allows closing them [2].",
    citations=[S11_5, S11_5_CLOSE], open_questions=["Is the task committee an elected body under § 5-1?"],
)
REFUSAL = Answer(question="Hva blir været i Bergen i morgen?", refused=True,
                 refusal_reason="off_topic",
                 text="Dette ligger utenfor det Samskap kan svare på.")

NB_SECTIONS = ["Spørsmål", "Saken", "Kort svar", "Vurdering", "Rettslig grunnlag", "Anbefalt framgangsmåte",
               "Åpne spørsmål til kommuneadvokaten", "Kilder"]


def titles(answer: Answer, case: dict[str, str] | None = None) -> list[str]:
    return [s.title for s in build_note(answer, case, laws_fetched=FETCHED).sections]


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(
    ("answer", "case", "expected"),
    [
        (LEGAL, None, ["Spørsmål", "Kort svar", "Rettslig grunnlag", "Åpne spørsmål til kommuneadvokaten", "Kilder"]),
        (METHOD, None, ["Spørsmål", "Kort svar", "Anbefalt framgangsmåte", "Kilder"]),
        (CASE_ANSWER, CASE, ["Spørsmål", "Saken", "Kort svar", "Vurdering", "Rettslig grunnlag",
                             "Anbefalt framgangsmåte", "Kilder"]),
        (ENGLISH, None, ["Question", "Short answer", "Legal basis", "Open questions for the municipal lawyer",
                         "Sources"]),
        (REFUSAL, None, ["Spørsmål", "Ikke besvart"]),
    ],
    ids=["legal", "method", "case", "english", "refusal"],
)
def test_five_notes_have_the_sections_that_apply_and_no_others(
    answer: Answer, case: dict[str, str] | None, expected: list[str]
) -> None:
    assert titles(answer, case) == expected
    md = decision_note_markdown(answer, case, laws_fetched=FETCHED)
    assert [line[3:] for line in md.splitlines() if line.startswith("## ")] == expected
    assert not re.search(r"^\*?(Ingen|No) ", md, re.M)  # no placeholder for a section that does not apply
    if answer.refused:
        assert "Dette ligger utenfor det Samskap kan svare på." in md
        assert "lovdata" not in md and "veiledning" not in md  # question and refusal only
        return
    assert flat(answer.summary.replace("**", "")) in flat(md.replace("**", ""))
    for citation in rests_on(answer):  # the paragraphs the answer rests on, quoted
        assert f"«{citation.quote}»" in md
    assert ("ikke juridisk rådgivning" in md) or ("not legal advice" in md)


def test_legal_note_quotes_the_paragraphs_with_kind_version_link_and_warning() -> None:
    md = decision_note_markdown(LEGAL, laws_fetched=FETCHED)
    legal = md.split("## Rettslig grunnlag")[1].split("\n## ")[0]
    # the two paragraphs the short answer cites come first, each with its kind, version and lovdata.no link
    assert legal.index("### [1] Kommuneloven § 11-5") < legal.index("### [2]") < legal.index("### [3]")
    assert "**Lov** · **Skal** · Versjon: gjeldende, sist endret 20.06.2025 · " \
           "[lovdata.no/lov/2018-06-22-83/§11-5](https://lovdata.no/lov/2018-06-22-83/§11-5)" in legal
    assert f"> «{S11_5.quote}»" in legal
    assert "⚠ Oppheving er vedtatt" in legal  # forvaltningsloven § 13, with its warning
    # a law passage quoted only as background (no kind, not in the short answer) is a source, not a basis
    assert "Plan- og bygningsloven" not in legal and "Plan- og bygningsloven § 5-1" in md.split("## Kilder")[1]
    assert "**Grunnlag:** [1] Lov · [2] Lov" in md  # the short answer's sources and their weight
    assert "- Er oppgaveutvalget et folkevalgt organ" in md
    assert "Lovtekstene i Samskap er hentet 30. november 2026" in md
    assert "- [5] **Forskning** · 4.3.12 Lovverk og tolkning · thesis/4.3.12" in md


def test_every_claim_keeps_its_weight_label() -> None:
    note = build_note(CASE_ANSWER, CASE, laws_fetched=FETCHED)
    method = note.section("Anbefalt framgangsmåte")
    assert method is not None
    items = [item for block in method.blocks if hasattr(block, "items") for item in block.items]  # type: ignore[attr-defined]
    assert items and all(item[0].bold and item[0].text.rstrip().endswith(":") for item in items)
    labels = [item[0].text for item in items]
    assert labels == ["Forskning: ", "Samskaps vurdering:", "Forskning: ", "Forskning: ", "Lov: "]
    md = note_markdown(note)
    assert "**Grunnlag:** [6] Kommunal strategi" in md
    assert "Egner saken seg for samskaping?** Samskaps vurdering: **Egner seg**" in md
    # criteria: met first, then not met, then unclear, each with the words that decided it and its source
    assessment = md.split("## Vurdering")[1].split("\n## ")[0]
    assert assessment.index("**Oppfylt:** Sammensatt samfunnsproblem – «eldre som bor hjemme» [6]") \
        < assessment.index("**Oppfylt:** Ingen myndighetsutøvelse") \
        < assessment.index("**Ikke oppfylt:** Lite personopplysninger – helseopplysninger om eldre [3]") \
        < assessment.index("**Uavklart:** Flere aktører utenfor kommunen")
    assert "Saken er en sammensatt" not in assessment  # the criteria replace the reasons
    assert "- **Hva er utfordringen?** Et nytt tilbud for eldre som bor hjemme" in md
    assert "Tidsramme" not in md  # an empty case field is left out
    assert "- [6] **Kommunal strategi** · Helse- og omsorgsplan › 1. Samskaping med frivillige · " \
           "strategi/helseplan/1" in md


def test_fit_without_criteria_falls_back_to_the_reasons() -> None:
    answer = Answer(question="Egner saken seg?", summary="Det kommer an på.", fit=Fit("depends", ["Grunn A.", "Grunn B."]))
    md = decision_note_markdown(answer)
    assert "## Vurdering" in md and "**Kommer an på**" in md and "- Grunn A.\n- Grunn B." in md
    assert "## Rettslig grunnlag" not in md and "## Kilder" not in md and "Lovtekstene" not in md


def test_docx_has_real_headings_lists_quotes_and_hyperlinks(tmp_path: Path) -> None:
    from docx import Document

    path = write_decision_note(CASE_ANSWER, tmp_path / "notat.docx", CASE, corpus_dir=CORPUS)
    doc = Document(str(path))
    by_style: dict[str, list[str]] = {}
    for p in doc.paragraphs:
        by_style.setdefault(p.style.name, []).append(p.text)
    assert by_style["Title"] == ["Beslutningsnotat"]
    assert by_style["Heading 1"] == [s for s in NB_SECTIONS if s != "Åpne spørsmål til kommuneadvokaten"]
    assert "[1] Kommuneloven § 11-5. Møteoffentlighet" in by_style["Heading 2"]
    assert f"«{S11_5.quote}»" in by_style["Quote"]
    assert by_style["List Number"] == ["Forskning: Avklar den juridiske formen tidlig med kommuneadvokaten. [5]",
                                       "Forskning: Gi utvalget et tydelig mandat. [5]"]
    assert any(t.startswith("Oppfylt: Sammensatt samfunnsproblem") for t in by_style["List Bullet"])
    links = [h for p in doc.paragraphs for h in p.hyperlinks]
    assert {unquote(h.address) for h in links} >= {S11_5.url, FVL_13.url}
    assert "lovdata.no/lov/2018-06-22-83/§11-5" in {h.text for h in links}
    assert all(h.address.isascii() for h in links)  # «§» percent-encoded in the relationship target
    assert doc.core_properties.language == "nb-NO"
    assert any("Lovtekstene i Samskap er hentet mellom" in t and "30. november 2026" in t for t in by_style["Normal"])


def test_pdf_has_headings_quotes_and_clickable_links(tmp_path: Path) -> None:
    from pypdf import PdfReader

    path = write_decision_note(LEGAL, tmp_path / "notat.pdf", corpus_dir=CORPUS)
    reader = PdfReader(str(path))
    text = flat(" ".join(page.extract_text() for page in reader.pages))
    for heading in ("Beslutningsnotat", "Kort svar", "Rettslig grunnlag", "Åpne spørsmål til kommuneadvokaten",
                    "Kilder", "[1] Kommuneloven § 11-5. Møteoffentlighet"):
        assert heading in text, heading
    assert f"«{S11_5.quote}»" in text and f"«{FVL_13.quote}»" in text
    assert "ikke juridisk rådgivning" in text
    outline = [item["/Title"] for item in _walk(reader.outline)]
    assert outline[:4] == ["Beslutningsnotat", "Spørsmål", "Kort svar", "Rettslig grunnlag"]
    assert "[1] Kommuneloven § 11-5. Møteoffentlighet" in outline
    uris = [annot.get_object()["/A"]["/URI"] for page in reader.pages for annot in page.get("/Annots", [])]
    assert {unquote(u) for u in uris} >= {S11_5.url, FVL_13.url, BACKGROUND_LAW.url}


def _walk(outline: list) -> list:  # type: ignore[type-arg]
    out = []
    for item in outline:
        out.extend(_walk(item) if isinstance(item, list) else [item])
    return out


def test_english_note_in_word_and_pdf(tmp_path: Path) -> None:
    from docx import Document
    from pypdf import PdfReader

    note = build_note(ENGLISH, laws_fetched=FETCHED)
    doc = Document(str(write_docx(note, tmp_path / "note.docx")))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["Question", "Short answer", "Legal basis", "Open questions for the municipal lawyer",
                        "Sources"]
    assert any(p.text.startswith("Law · Must · Version:") for p in doc.paragraphs)
    pdf = PdfReader(str(write_pdf(note, tmp_path / "note.pdf")))
    text = flat(" ".join(page.extract_text() for page in pdf.pages))
    assert "Decision note" in text and "Legal basis" in text and "fetched on 30 November 2026" in text


def test_law_texts_fetched_reads_the_provenance_of_each_law(tmp_path: Path) -> None:
    shipped = law_texts_fetched(CORPUS)  # one date per law file (ingest.provenance), oldest first
    assert shipped == sorted(shipped) and shipped[-1] == date(2026, 11, 30) and len(shipped) > 1
    laws = tmp_path / "laws" / "lovdata"
    laws.mkdir(parents=True)
    (laws / "PROVENANCE.md").write_text(
        "<!-- update-laws:start -->\n| File | … | Retrieved (UTC) |\n"
        "| nl-20180622-083.xml | kommuneloven | x | 2025-06-20 | api | sha | 2027-01-05T10:00:00Z |\n"
        "<!-- update-laws:end -->\n")
    assert law_texts_fetched(tmp_path) == [date(2027, 1, 5)]
    md = decision_note_markdown(LEGAL, laws_fetched=[date(2026, 11, 30), date(2027, 1, 5)])
    assert "hentet mellom 30. november 2026 og 5. januar 2027" in md
    assert law_texts_fetched(tmp_path / "nowhere") == []


def test_write_decision_note_refuses_another_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"Bruk en fil som slutter på \.docx \(Word\), \.pdf eller \.md"):
        write_decision_note(LEGAL, tmp_path / "notat.txt")
    md = write_decision_note(LEGAL, tmp_path / "NOTAT.MD", corpus_dir=CORPUS)
    assert md.read_text(encoding="utf-8").startswith("# Beslutningsnotat\n")


def test_markdown_text_from_users_cannot_inject_markup() -> None:
    answer = Answer(question="Hva med <script>alert(1)</script> og *stjerner*?", refused=True,
                    refusal_reason="off_topic", text="Utenfor.")
    md = decision_note_markdown(answer)
    assert "<script>" not in md and "\\<script\\>" in md and "\\*stjerner\\*" in md


def test_ui_export_offers_word_pdf_and_markdown_and_keeps_the_case_to_its_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    paths = [Path(p) for p in export_files([CASE_ANSWER], CASE, "nb", "note", CORPUS)]
    assert [p.suffix for p in paths] == [".docx", ".pdf", ".md"]
    assert all(p.name.startswith("beslutningsnotat-") for p in paths)
    assert "## Saken" in paths[2].read_text(encoding="utf-8")
    later = export_files([CASE_ANSWER, LEGAL], CASE, "nb", "note", CORPUS)  # a chat question after the case
    assert "## Saken" not in Path(later[2]).read_text(encoding="utf-8")


def test_conversation_export_puts_each_summary_first_then_the_details() -> None:
    first = Answer(question="Spørsmål én?", summary="Kort svar én [1].",
                   text="**Kort svar:** Kort svar én [1].\n\n### Juridisk ramme\nMer tekst.",
                   details="Detaljer én.", citations=[S11_5])
    chat = conversation_markdown([first, REFUSAL])
    one = chat.split("## 2.")[0]
    assert one.index("### Kort svar\n\nKort svar én [1].") < one.index("### Utdypning\n\n### Juridisk ramme")
    assert one.index("Mer tekst.") < one.index("Detaljer én.") < one.index("### Kilder")
    assert one.count("Kort svar én") == 1  # the summary is not repeated from the text
    assert "- [1] Lov · Kommuneloven § 11-5" in one
    assert chat.split("## 2.")[1].strip().endswith("Dette ligger utenfor det Samskap kan svare på.")


def test_cli_note_with_another_suffix_is_a_clear_error_before_asking(tmp_path: Path) -> None:
    result = run_cli("ask", "Kan kommunestyret opprette utvalg?", "--note", str(tmp_path / "notat.txt"),
                     corpus=tmp_path / "no-corpus", index=tmp_path / "no-index")
    assert result.returncode == 2
    assert "--note må være en fil som slutter på .docx, .pdf eller .md, ikke «notat.txt»" in result.stderr
    assert "indeks" not in result.stderr.lower()  # refused before any index is looked for


def test_note_from_the_real_assistant_quotes_real_law_paragraphs(
    shipped_index: Index, shipped_settings: Settings, tmp_path: Path
) -> None:
    from docx import Document
    from pypdf import PdfReader

    from assistant.service import Assistant

    assistant = Assistant(shipped_settings, index=shipped_index)
    answer = assistant.ask("Må møtene i et oppgaveutvalg være åpne for publikum?", role="jurist")
    laws = rests_on(answer)
    assert laws, "the answer cites no law"
    md = write_decision_note(answer, tmp_path / "notat.md", corpus_dir=CORPUS).read_text(encoding="utf-8")
    for citation in laws:
        passage = flat(" ".join(c.text for c in shipped_index.by_key[citation.key]))
        assert flat(citation.quote) in passage  # a real sentence of the paragraph …
        assert f"«{flat(citation.quote)}»" in md  # … quoted in the note
    assert flat(re.sub(r"\*\*", "", answer.summary)) in flat(md.replace("**", "").replace("\\", ""))
    doc = Document(str(write_decision_note(answer, tmp_path / "notat.docx", corpus_dir=CORPUS)))
    assert f"«{flat(laws[0].quote)}»" in [p.text for p in doc.paragraphs if p.style.name == "Quote"]
    pdf = PdfReader(str(write_decision_note(answer, tmp_path / "notat.pdf", corpus_dir=CORPUS)))
    assert laws[0].title in flat(" ".join(p.extract_text() for p in pdf.pages))
    refusal = assistant.ask("Hva blir været i Bergen i morgen?")
    note = decision_note_markdown(refusal)
    assert [line for line in note.splitlines() if line.startswith("## ")] == ["## Spørsmål", "## Ikke besvart"]


@pytest.mark.slow
def test_cli_writes_the_note_in_the_format_of_its_suffix(tiny_corpus: Path, tmp_path: Path) -> None:
    from docx import Document

    out = tmp_path / "notat.docx"
    result = run_cli("ask", "Kan kommunen gjøre unntak fra innsyn for organinterne dokument?", "--role", "jurist",
                     "--note", str(out), corpus=tiny_corpus, index=tmp_path / "index")
    assert result.returncode == 0, result.stderr
    assert f"Beslutningsnotatet er lagret i {out}." in result.stderr
    doc = Document(str(out))
    assert [p.text for p in doc.paragraphs if p.style.name == "Title"] == ["Beslutningsnotat"]
    assert "Rettslig grunnlag" in [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert any(h.address.startswith("https://lovdata.no/lov/2006-05-19-16/")
               for p in doc.paragraphs for h in p.hyperlinks)
