"""Tests for the thesis, PDF and Markdown/plain-text loaders."""

from __future__ import annotations

import logging
import re
import zipfile
from pathlib import Path

import pytest

from assistant.ingest import pdf, text, thesis
from assistant.ingest.base import LoaderError

ROOT = Path(__file__).resolve().parents[1]
THESIS = ROOT / "corpus" / "thesis" / "tankskip-samskapende-innovasjon.txt"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

# The thesis has no table of contents in the extraction; these are its numbered headings in order
# (chapter 6, the reference list, is missing from the extraction).
THESIS_KEYS = [
    "sammendrag",
    "abstract",
    "1",
    "1.1",
    "1.2",
    "1.3",
    "2",
    "2.1",
    "2.2",
    "2.3",
    "2.4",
    "2.4.1",
    "2.4.2",
    "2.4.3",
    "2.4.4",
    "2.5",
    "2.5.1",
    "2.5.2",
    "2.5.3",
    "2.5.4",
    "2.5.5",
    "2.6",
    "2.6.1",
    "3",
    "3.1",
    "3.1.1",
    "3.1.2",
    "3.1.3",
    "3.2",
    "3.2.1",
    "3.2.2",
    "3.3",
    "3.4",
    "3.4.1",
    "3.4.2",
    "3.4.3",
    "3.4.4",
    "3.5",
    "4",
    "4.1",
    "4.1.1",
    "4.1.2",
    "4.1.3",
    "4.1.4",
    "4.1.5",
    "4.1.6",
    "4.1.7",
    "4.2",
    "4.2.1",
    "4.2.2",
    "4.2.3",
    "4.2.4",
    "4.2.5",
    "4.2.6",
    "4.2.7",
    "4.2.8",
    "4.2.9",
    "4.3",
    "4.3.1",
    "4.3.2",
    "4.3.3",
    "4.3.4",
    "4.3.5",
    "4.3.6",
    "4.3.7",
    "4.3.8",
    "4.3.9",
    "4.3.10",
    "4.3.11",
    "4.3.12",
    "4.3.13",
    "5",
    "5.1",
    "5.2",
    "5.3",
    "5.4",
    "5.5",
    "7",
    "7.1",
    "7.2",
    "7.3",
]


@pytest.fixture(scope="module")
def thesis_chunks() -> list:
    return thesis.load(THESIS)


def test_thesis_keys_match_headings(thesis_chunks: list) -> None:
    keys = [c.cite_key for c in thesis_chunks]
    assert keys == [f"thesis/{k}" for k in THESIS_KEYS]
    assert len(keys) == len(set(keys))
    assert all(c.source_type == "thesis" and c.title == c.section for c in thesis_chunks)


def test_thesis_titles_and_text(thesis_chunks: list) -> None:
    by_key = {c.cite_key: c for c in thesis_chunks}
    living = by_key["thesis/2.4.3"]
    assert "living lab" in living.text.lower()
    assert living.title == (
        "2 Teoretisk rammeverk › 2.4 Hvilke metoder/tilnærminger til innovasjonsprosesser kan bidra"
        " til økt samskapingspraksis? › 2.4.3 Living labs og urban living labs"
    )
    assert living.text.startswith("2.4.3. Living labs og urban living labs\n\n")
    assert by_key["thesis/5"].title == "5 Konklusjon"
    assert "tankskip" in by_key["thesis/sammendrag"].text
    assert by_key["thesis/abstract"].text.startswith("Abstract\n\nThis thesis deals with")
    assert "co-creation through innovation" in by_key["thesis/abstract"].text  # "co-" + "creation"
    for chunk in thesis_chunks:
        assert not re.search(r"(^|\n)\d{1,3}(\n|$)", chunk.text), chunk.cite_key
        assert "\n\n\n" not in chunk.text and "  " not in chunk.text
    # the numbered research questions in 1.2 are list items, not headings
    assert "\n\n1. Hva kjennetegner innovasjon" in by_key["thesis/1.2"].text
    # a repeated link annotation line is dropped; the footnote goes to the end of its section
    assert by_key["thesis/1.2"].text.count("https://snl.no/innovasjon") == 1
    assert by_key["thesis/3.1.2"].text.endswith(
        "2 https://www.nordrefollo.kommune.no/okonomiske-analyser-og-planer/"
    )


def test_thesis_toc_and_list_items_are_not_headings(tmp_path: Path) -> None:
    body = (
        "Dette er en lang linje med brødtekst som fyller hele bredden av siden slik den gjør.\n\n"
    )
    doc = (
        "Tittel på oppgaven\n\nSammendrag\n\nKort sammendrag her.\n\nInnholdsfortegnelse\n\n"
        "1. Innledning ........ 3\n\n1.1. Bakgrunn ........ 4\n\n2. Teori ........ 7\n\n"
        "2.1. Metoder 8\n\n3. Konklusjon 12\n\nAbstract\n\nShort abstract.\n\n"
        "1. Innledning\n\n"
        + body * 3
        + "1.1. Bakgrunn\n\n"
        + body
        + "1. Første punkt i en liste\n\n2. Andre punkt i en liste\n\n3. Tredje punkt\n\n"
        + "2. Teori\n\n"
        + body
        + "21\n\n"
        + "2.1. Metoder\n\n"
        + body * 2
        + "Figur 3 Modell\n\n3. Konklusjon\n\n"
        + body
    )
    path = tmp_path / "oppgave.txt"
    path.write_text(doc, encoding="utf-8")
    chunks = thesis.load(path)
    assert [c.cite_key for c in chunks] == [
        "thesis/sammendrag",
        "thesis/abstract",
        "thesis/1",
        "thesis/1.1",
        "thesis/2",
        "thesis/2.1",
        "thesis/3",
    ]
    by_key = {c.cite_key: c for c in chunks}
    assert "........" not in by_key["thesis/sammendrag"].text + by_key["thesis/abstract"].text
    assert "2. Andre punkt i en liste" in by_key["thesis/1.1"].text
    assert "\n21\n" not in by_key["thesis/2"].text


def test_paragraph_joining() -> None:
    lines = [
        "Dette er første linje i et avsnitt som går over flere linjer og fyller bredden helt ut,",
        "",
        "og her fortsetter det med liten bokstav før avsnittet slutter med et punktum her.",
        "",
        "Kort siste linje.",
        "",
        "Nytt avsnitt starter her med stor bokstav og fortsetter videre ut over linjen for helse-",
        "",
        "og omsorgstjenester i case-",
        "",
        "kommunen.",
    ]
    paras = text.paragraphs_from_lines(lines)
    assert len(paras) == 2
    assert paras[0].endswith("slutter med et punktum her. Kort siste linje.")
    assert "helse- og omsorgstjenester i case-kommunen." in paras[1]
    # a hyphen followed by a space in the source is not a line-break hyphen
    assert text.paragraphs_from_lines(["Begrensende- ", "", "fører ikke til"]) == [
        "Begrensende- fører ikke til"
    ]


# ---------------------------------------------------------------- PDF


def _pdf(path: Path, pages: list[str], title: str | None = None) -> Path:
    from fpdf import FPDF

    doc = FPDF()
    if FONT.exists():
        doc.add_font("DejaVu", "", str(FONT))
        doc.set_font("DejaVu", size=12)
    else:
        doc.set_font("Helvetica", size=12)
    if title:
        doc.set_title(title)
    for body in pages:
        doc.add_page()
        doc.multi_cell(0, 8, body)
    doc.output(str(path))
    return path


def test_pdf_pages(tmp_path: Path) -> None:
    pages = [
        "Kommuneplan for Ærlig Øya\n\nVi skal bygge bærekraftige løsninger på tvers av sektorer.",
        "Side to handler om blåbærsyltetøy og små øyer.",
        "Tredje side: Målet er å få til samskaping i Åsen.",
    ]
    path = _pdf(tmp_path / "Kommuneplan Øya 2024.pdf", pages)
    chunks = pdf.load(path)
    assert [c.cite_key for c in chunks] == [f"kommuneplan-oya-2024/p{i}" for i in (1, 2, 3)]
    assert [c.page for c in chunks] == [1, 2, 3]
    assert [c.section for c in chunks] == ["s. 1", "s. 2", "s. 3"]
    assert "bærekraftige" in chunks[0].text and "Ærlig Øya" in chunks[0].text
    assert "blåbærsyltetøy" in chunks[1].text and "øyer" in chunks[1].text
    assert "Åsen" in chunks[2].text
    assert chunks[0].title == "Kommuneplan for Ærlig Øya"
    assert all(c.source_type == "strategy" for c in chunks)


def test_pdf_metadata_title_and_blank_pages(tmp_path: Path) -> None:
    path = _pdf(
        tmp_path / "plan.pdf", ["Første side med tekst.", "", "Tredje side."], title="Plan for Æsj"
    )
    chunks = pdf.load(path)
    assert [c.cite_key for c in chunks] == ["plan/p1", "plan/p3"]
    assert chunks[0].title == "Plan for Æsj"
    with pytest.raises(LoaderError, match="grensen"):
        pdf.load(path, max_pages=2)


def test_pdf_encrypted(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    plain = _pdf(tmp_path / "plain.pdf", ["Hemmelig tekst om økonomi."])
    for name, user_pw, readable in (
        ("locked.pdf", "hemmelig", False),
        ("owner-only.pdf", "", True),
    ):
        writer = PdfWriter()
        for page in PdfReader(plain).pages:
            writer.add_page(page)
        writer.encrypt(user_password=user_pw, owner_password="eier", algorithm="AES-128")
        with (tmp_path / name).open("wb") as handle:
            writer.write(handle)
        if readable:  # opens with the empty user password
            assert "økonomi" in pdf.load(tmp_path / name)[0].text
        else:
            with pytest.raises(LoaderError, match="passord") as err:
                pdf.load(tmp_path / name)
            assert name in str(err.value)


def test_pdf_broken_files(tmp_path: Path) -> None:
    empty = tmp_path / "tom.pdf"
    empty.write_bytes(b"")
    zipped = tmp_path / "rapport.pdf"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("word/document.xml", "<xml/>")
    good = _pdf(
        tmp_path / "hel.pdf", ["Tekst på første side.", "Tekst på andre side."]
    ).read_bytes()
    truncated = tmp_path / "avkortet.pdf"
    truncated.write_bytes(good[: len(good) // 2])
    garbage = tmp_path / "rot.pdf"
    garbage.write_bytes(b"%PDF-1.7\n" + b"\x00\xff garbage " * 50 + b"\n%%EOF\n")
    cases = {empty: "0 byte", zipped: "ikke en PDF", truncated: "ufullstendig", garbage: "skadet"}
    for path, reason in cases.items():
        with pytest.raises(LoaderError) as err:
            pdf.load(path)
        assert path.name in str(err.value) and reason in str(err.value)


def test_pdf_image_only(tmp_path: Path) -> None:
    from fpdf import FPDF

    doc = FPDF()
    doc.add_page()
    doc.rect(20, 20, 100, 60, style="F")
    path = tmp_path / "skannet.pdf"
    doc.output(str(path))
    with pytest.raises(LoaderError, match=r"skannet\.pdf inneholder ingen tekst \(skannet\?\)"):
        pdf.load(path)


def test_pdf_recoverable_damage_is_quiet(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good = _pdf(tmp_path / "hel.pdf", ["Første side.", "Andre side."]).read_bytes()
    cut = good.index(b"2 0 obj")
    shifted = (
        tmp_path / "forskjovet.pdf"
    )  # wrong xref offsets: pypdf recovers, but would log warnings
    shifted.write_bytes(good[:cut] + b"% padding that shifts every offset\n" + good[cut:])
    pypdf_logger = logging.getLogger("pypdf")
    level = pypdf_logger.level
    with caplog.at_level(logging.DEBUG):
        chunks = pdf.load(shifted)
    assert [c.cite_key for c in chunks] == ["forskjovet/p1", "forskjovet/p2"]
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
    assert pypdf_logger.level == level


# ---------------------------------------------------------------- Markdown / plain text


def test_markdown_sections(tmp_path: Path) -> None:
    md = (
        "Litt tekst før tittelen.\n\n# Kommuneplan 2019–2030\n\nInnledende tekst om planen.\n\n"
        "## 1. Mål\n\nVi vil samskape.\n\n### 1.1 Delmål\n\nMer tekst.\n\n"
        "## Tiltak\n\nTiltakstekst.\n\n```\n# ikke en overskrift\n```\n\n"
        "## Tiltak\n\nFlere tiltak.\n\n## Tom seksjon\n\n## Økonomi og æøå\n\nPenger.\n"
    )
    path = tmp_path / "Kommuneplan.md"
    path.write_text(md, encoding="utf-8")
    chunks = text.load(path)
    assert [c.cite_key for c in chunks] == [
        "kommuneplan/innledning",
        "kommuneplan/1",
        "kommuneplan/1.1",
        "kommuneplan/tiltak",
        "kommuneplan/tiltak-2",
        "kommuneplan/okonomi-og-aeoa",
    ]
    by_key = {c.cite_key: c for c in chunks}
    assert by_key["kommuneplan/1.1"].title == "Kommuneplan 2019–2030 › 1.1 Delmål"
    assert by_key["kommuneplan/1.1"].section == "1. Mål › 1.1 Delmål"
    assert by_key["kommuneplan/1.1"].text == "1.1 Delmål\n\nMer tekst."
    assert "Innledende tekst om planen." in by_key["kommuneplan/innledning"].text
    assert "# ikke en overskrift" in by_key["kommuneplan/tiltak"].text
    assert all(c.source_type == "strategy" for c in chunks)


def test_plain_text_sections_and_encoding(tmp_path: Path) -> None:
    txt = (
        "Forord om planen.\n\n1. Innledning\n\nTekst om æøå.\n\n"
        "MÅL OG STRATEGIER\n\nVi skal løfte.\n\n2.3 Tiltak\n\nGjør ting.\n"
    )
    path = tmp_path / "strategi_2024.txt"
    path.write_bytes(txt.encode("cp1252"))
    chunks = text.load(path)
    assert [c.cite_key for c in chunks] == [
        "strategi-2024/innledning",
        "strategi-2024/1",
        "strategi-2024/mal-og-strategier",
        "strategi-2024/2.3",
    ]
    assert "Tekst om æøå." in chunks[1].text
    assert chunks[1].title == "strategi_2024 › 1. Innledning"
    flat = tmp_path / "flat.txt"
    flat.write_text("Bare litt tekst uten overskrifter.\n", encoding="utf-8")
    assert [c.cite_key for c in text.load(flat)] == ["flat/innledning"]


def test_text_empty(tmp_path: Path) -> None:
    for name, data in (("tom.md", b""), ("blank.txt", b"  \n\n")):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(LoaderError, match=re.escape(name)):
            text.load(path)
