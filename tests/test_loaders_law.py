"""The two Lovdata loaders on the shipped law files: keys, text, notes and versions."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from assistant.ingest import lovdata_html, lovdata_xml
from assistant.ingest.base import Chunk, LoaderError

LAWS = Path(__file__).parent.parent / "corpus" / "laws"
XML = LAWS / "lovdata"
HTML = LAWS / "lovdata-current"

XML_COUNTS = {
    "nl-19670210-000.xml": 71,  # forvaltningsloven 1967, current
    "nl-20060519-016.xml": 34,  # offentleglova, as enacted
    "nl-20080627-071.xml": 262,  # plan- og bygningsloven, current
    "nl-20180615-038.xml": 134,  # personopplysningsloven: 35 § + 99 GDPR articles
    "nl-20180622-083.xml": 185,  # kommuneloven, as enacted
    "nl-20250620-081.xml": 100,  # forvaltningsloven 2025, not in force
    "sf-20160812-0974.xml": 185,  # anskaffelsesforskriften, current
}
HTML_COUNTS = {
    "lov-2006-05-19-16.html": 34,
    "lov-2016-06-17-73.html": 20,
    "lov-2018-06-22-83.html": 188,
    "lov-2023-06-09-30.html": 202,
}


@cache
def _load(name: str) -> tuple[Chunk, ...]:
    if name.endswith(".xml"):
        return tuple(lovdata_xml.load(XML / name))
    return tuple(lovdata_html.load(HTML / name))


def chunks(name: str) -> dict[str, Chunk]:
    return {c.cite_key: c for c in _load(name)}


@pytest.mark.parametrize("name,count", [*XML_COUNTS.items(), *HTML_COUNTS.items()])
def test_one_chunk_per_paragraph_with_unique_keys(name: str, count: int) -> None:
    loaded = _load(name)
    assert len(loaded) == count
    assert len({c.cite_key for c in loaded}) == count
    law = loaded[0].law_id
    for chunk in loaded:
        assert chunk.cite_key.startswith(law + "/")
        assert chunk.url == "https://lovdata.no/" + chunk.cite_key
        assert chunk.text.startswith(chunk.paragraph)
        assert chunk.source_type == "law" and chunk.section == chunk.paragraph
        assert "\n\n\n" not in chunk.text


def test_kommuneloven_xml_paragraph_5_7() -> None:
    loaded = chunks("nl-20180622-083.xml")
    chunk = loaded["lov/2018-06-22-83/§5-7"]
    assert chunk.text.startswith("§ 5-7. Utvalg\n\nKommunestyret og fylkestinget kan selv opprette")
    assert "Utvalg etter denne paragrafen skal ha minst tre medlemmer." in chunk.text
    assert chunk.text.count("\n\n") == 5  # heading + five ledd
    assert chunk.title == "Kommuneloven § 5-7. Utvalg"
    assert (chunk.paragraph, chunk.heading) == ("§ 5-7", "Utvalg")
    assert chunk.chapter == "Kapittel 5. Kommunal organisering. Folkevalgte organer"
    assert chunk.law_title == "Lov om kommuner og fylkeskommuner (kommuneloven)"
    assert (chunk.version_kind, chunk.version_date) == ("as_enacted", "2018-06-22")
    assert chunk.version_label == "som vedtatt 22.06.2018"
    assert chunk.url == "https://lovdata.no/lov/2018-06-22-83/§5-7"
    assert list(loaded)[:3] == ["lov/2018-06-22-83/§1-1", "lov/2018-06-22-83/§1-2", "lov/2018-06-22-83/§2-1"]


def test_kommuneloven_html_matches_xml_keys_plus_later_paragraphs() -> None:
    xml_keys = set(chunks("nl-20180622-083.xml"))
    html = chunks("lov-2018-06-22-83.html")
    added = {"lov/2018-06-22-83/§5-15", "lov/2018-06-22-83/§7-12", "lov/2018-06-22-83/§7-2a"}
    assert set(html) == xml_keys | added
    chunk = html["lov/2018-06-22-83/§5-7"]
    assert "skal ha minst tre medlemmer" in chunk.text
    assert chunk.title == "Kommuneloven § 5-7. Utvalg"
    assert chunk.chapter == "Kapittel 5. Kommunal organisering. Folkevalgte organer"
    assert (chunk.version_kind, chunk.version_date) == ("current", "2025-06-20")
    assert chunk.version_label == "gjeldende, sist endret 20.06.2025"


def test_html_lists_get_letters_and_notes_leave_the_text() -> None:
    chunk = chunks("lov-2018-06-22-83.html")["lov/2018-06-22-83/§5-2"]
    assert chunk.text == (
        "§ 5-2. Andre kommunale organer\n\n"
        "Andre kommunale organer skal opprettes etter bestemmelsene i denne loven.\n\n"
        "Andre kommunale organer etter denne loven er\n"
        "a) partssammensatte utvalg\n"
        "b) styret for en institusjon\n"
        "c) underordnete styringsorganer for et kommunalt oppgavefellesskap\n"
        "d) styret for et kommunalt eller fylkeskommunalt foretak\n"
        "e) eldreråd, råd for personer med funksjonsnedsettelse og ungdomsråd eller annet "
        "medvirkningsorgan for ungdom, og arbeidsutvalg for disse.\n\n"
        "For øvrig gjelder de samme bestemmelsene som for folkevalgte organer etter § 5-1 ."
    )
    assert chunk.amendments == [
        "Endret ved lov 2 juni 2023 nr. 21 (i kraft 1 juli 2023 iflg. res. 2 juni 2023 nr. 767 )."
    ]
    assert "Endret ved" not in chunk.text
    assert not chunk.repealed and not chunk.pending_repeal


def test_xml_lists_keep_their_letters() -> None:
    chunk = chunks("nl-20180622-083.xml")["lov/2018-06-22-83/§5-2"]
    assert "\nAndre kommunale organer etter denne loven er\na) partssammensatte utvalg\n" in chunk.text
    assert "\nb) styret for en institusjon\n" in chunk.text
    # consolidated files mark letters "a." in data-name; they read "a)" like everywhere else
    fvl = chunks("nl-19670210-000.xml")["lov/1967-02-10/§2"]
    assert "I denne lov menes med:\na) vedtak, en avgjørelse som treffes" in fvl.text
    assert "\nh) nedtegning, nedskriving og protokollering:" in fvl.text


def test_offentleglova_double_nested_list_is_one_lettered_list() -> None:
    chunk = chunks("lov-2006-05-19-16.html")["lov/2006-05-19-16/§2"]
    items = [line for line in chunk.text.split("\n") if line[:2] in {"a)", "b)", "c)", "d)", "e)"}]
    assert [item[:2] for item in items] == ["a)", "b)", "c)", "d)"]
    assert items[0] == "a) staten, fylkeskommunane og kommunane,"
    # the rendering quirk (text moved before the list) is kept, not repaired
    assert "Lova gjeld for Bokstavane c og d gjeld ikkje" in chunk.text
    assert chunk.amendments[0].startswith("Endra med lover28 apr 2017 nr. 22")


def test_opplaeringslova_keeps_its_own_list_letters_and_drops_history_links() -> None:
    chunk = chunks("lov-2023-06-09-30.html")["lov/2023-06-09-30/§4-5"]
    assert chunk.heading == "Skolefritidsordning"
    assert "\na. eigarforhold\nb. kven som er opptaksmyndigheit\n" in chunk.text
    assert "a) a." not in chunk.text and "historikk" not in chunk.text
    assert chunk.amendments == [
        "Endra ved lov 13 feb 2026 nr. 6 (i kraft 1 aug 2026 iflg. res. 13 feb 2026 nr. 197 )."
    ]
    assert (chunk.version_date, chunk.law_short) == ("2026-06-19", "Opplæringslova")
    last = _load("lov-2023-06-09-30.html")[-1]
    assert last.cite_key == "lov/2023-06-09-30/§30-3"
    assert "Vedlegg" not in last.text and "nordsamisk" not in last.text


def test_forvaltningsloven_1967_is_current_and_pending_repeal() -> None:
    loaded = chunks("nl-19670210-000.xml")
    chunk = loaded["lov/1967-02-10/§6"]
    assert chunk.text.startswith("§ 6. (habilitetskrav).\n\nEn offentlig tjenestemann er ugild")
    assert (chunk.version_kind, chunk.version_date) == ("current", "2026-01-01")
    assert chunk.version_label == "gjeldende, sist endret 01.01.2026"
    assert chunk.law_short == "Forvaltningsloven"
    assert chunk.chapter == "Kapittel II. Om ugildhet."
    note = "Loven oppheves ved lov 20 juni 2025 nr. 81 (i kraft fra den tiden Kongen bestemmer)."
    assert all(c.pending_repeal == note for c in loaded.values())
    assert "lov/1967-02-10/§11a" in loaded  # letter without space


def test_xml_amendments_and_footnotes_go_to_metadata() -> None:
    chunk = chunks("nl-19670210-000.xml")["lov/1967-02-10/§52"]
    assert chunk.text == (
        "§ 52. (ikrafttredelse).\n\nTidspunktet for lovens ikrafttredelse fastsettes ved særskilt lov.[1]"
    )
    assert chunk.amendments[0].startswith("Endret ved lov 27 mai 2016 nr. 15")
    assert chunk.amendments[1].startswith("[1] Fra 1 jan 1970 iflg. lov 19 juni 1969 nr. 54 del I")
    assert chunk.to_dict()["amendments"] == chunk.amendments


def test_repealed_paragraphs_are_flagged_but_kept() -> None:
    fvl = chunks("nl-19670210-000.xml")
    assert sorted(k for k, c in fvl.items() if c.repealed) == [
        "lov/1967-02-10/§11e", "lov/1967-02-10/§22", "lov/1967-02-10/§26",
    ]
    assert fvl["lov/1967-02-10/§22"].text == "§ 22. (Opphevet)"
    assert fvl["lov/1967-02-10/§22"].amendments == ["Opphevet ved lov 12 jan 1995 nr. 4."]
    koml = chunks("lov-2018-06-22-83.html")
    assert [k for k, c in koml.items() if c.repealed] == ["lov/2018-06-22-83/§7-2a"]
    assert koml["lov/2018-06-22-83/§7-2a"].title == "Kommuneloven § 7-2 a. (Opphevet)"


def test_pending_repeal_from_amendment_notes() -> None:
    loa = chunks("lov-2016-06-17-73.html")
    pending = {k: c.pending_repeal for k, c in loa.items() if c.pending_repeal}
    assert sorted(pending) == [f"lov/2016-06-17-73/§{n}" for n in (4, 5, 6, 7)]
    assert pending["lov/2016-06-17-73/§4"] == (
        "Opphevesved lov6 mars 2026 nr. 8(i kraft fra den tid Kongen bestemmer)."
    )
    # an announced amendment ("Endres ved …") is not a repeal
    assert loa["lov/2016-06-17-73/§1"].amendments[0].startswith("Endresved lov6 mars 2026")
    assert not loa["lov/2016-06-17-73/§1"].pending_repeal
    pbl = chunks("nl-20080627-071.xml")
    assert sorted(k for k, c in pbl.items() if c.pending_repeal) == [
        "lov/2008-06-27-71/§20-10", "lov/2008-06-27-71/§20-9",
    ]
    assert pbl["lov/2008-06-27-71/§20-9"].pending_repeal == (
        "Oppheves ved lov 12 juni 2026 nr. 22 (i kraft 1 juli 2028)."
    )



def test_a_repeal_whose_date_has_passed_is_reported_as_repealed() -> None:
    """anskaffelsesloven § 5 'oppheves … (i kraft 1 juli 2026)': after that date the text is history."""
    from datetime import date

    from assistant.evidence import law_warning
    from assistant.ingest.lawmeta import in_force_date

    loa = chunks("lov-2016-06-17-73.html")
    section5, section4 = loa["lov/2016-06-17-73/§5"], loa["lov/2016-06-17-73/§4"]
    assert in_force_date(section5.pending_repeal) == date(2026, 7, 1)
    assert in_force_date(section4.pending_repeal) is None  # "fra den tid Kongen bestemmer"
    before = law_warning(section5, "nb", today=date(2026, 6, 30))
    assert before.startswith("Oppheving er vedtatt: Opphevesved lov6 mars 2026")
    after = law_warning(section5, "nb", today=date(2026, 7, 1))
    assert after.startswith("Opphevet fra 1. juli 2026 ifølge endringsnotatet; teksten i korpuset er eldre")
    assert law_warning(section5, "en", today=date(2026, 11, 30)).startswith("Repealed from 1 July 2026")
    assert law_warning(section4, "nb", today=date(2030, 1, 1)).startswith("Oppheving er vedtatt")


def test_version_kinds_of_as_enacted_texts() -> None:
    new_fvl = _load("nl-20250620-081.xml")
    assert {c.version_kind for c in new_fvl} == {"not_in_force"}
    assert new_fvl[0].version_label == "vedtatt 20.06.2025, ikke i kraft"
    assert new_fvl[0].law_short == "Forvaltningsloven (2025)"
    # kommuneloven's Lovtidend header also says "Kongen bestemmer", but the law is in force
    assert {c.version_kind for c in _load("nl-20180622-083.xml")} == {"as_enacted"}
    assert {c.version_kind for c in _load("nl-20060519-016.xml")} == {"as_enacted"}


def test_offentleglova_nynorsk_heading_in_both_formats() -> None:
    heading = "Dokument utarbeidde for eiga saksførebuing (organinterne dokument)"
    for name in ("nl-20060519-016.xml", "lov-2006-05-19-16.html"):
        chunk = chunks(name)["lov/2006-05-19-16/§14"]
        assert chunk.heading == heading
        assert chunk.title == f"Offentleglova § 14. {heading}"
        assert chunk.text.startswith(f"§ 14. {heading}\n\nEit organ kan gjere unntak frå innsyn")


def test_anskaffelsesforskriften_keys() -> None:
    loaded = chunks("sf-20160812-0974.xml")
    chunk = loaded["forskrift/2016-08-12-974/§8-3"]
    assert chunk.title == "Anskaffelsesforskriften § 8-3. Tillatte anskaffelsesprosedyrer"
    assert (chunk.law_id, chunk.version_kind, chunk.version_date) == (
        "forskrift/2016-08-12-974", "current", "2024-03-21",
    )
    # a sub-heading inside a chapter does not replace the chapter
    assert loaded["forskrift/2016-08-12-974/§16-10"].chapter.startswith("Kapittel 16. Kvalifikasjonskrav")


def test_gdpr_articles_keep_their_lovdata_path() -> None:
    loaded = chunks("nl-20180615-038.xml")
    gdpr = [k for k in loaded if k.startswith("lov/2018-06-15-38/gdpr/")]
    assert len(gdpr) == 99 and len(loaded) - len(gdpr) == 35
    chunk = loaded["lov/2018-06-15-38/gdpr/a6"]
    assert chunk.url == "https://lovdata.no/lov/2018-06-15-38/gdpr/a6"
    assert (chunk.paragraph, chunk.heading) == ("Artikkel 6", "Behandlingens lovlighet")
    assert chunk.title == (
        "Personopplysningsloven, personvernforordningen (GDPR) artikkel 6. Behandlingens lovlighet"
    )
    assert chunk.chapter == "KAPITTEL II Prinsipper"
    assert "\na) den registrerte har samtykket til behandling" in chunk.text
    assert loaded["lov/2018-06-15-38/§1"].title.startswith("Personopplysningsloven § 1.")


def test_a_repeated_paragraph_address_gets_a_suffix(tmp_path: Path) -> None:
    article = (
        '<article class="legalArticle" data-lovdata-URL="NL/lov/2020-01-01-1/§1" data-name="§1">'
        '<h3 class="legalArticleHeader"><span class="legalArticleValue">§ 1</span>. '
        '<span class="legalArticleTitle">{}</span></h3><article class="legalP">Tekst {}.</article>'
        "</article>"
    )
    path = tmp_path / "nl-20200101-001.xml"
    path.write_text(
        '<html><head><title>Lov om prøve (prøveloven)</title></head><body><header><dl>'
        '<dd class="dokid">NL/lov/2020-01-01-1</dd><dd class="lastChangeInForce">2021-02-03</dd>'
        f'</dl></header><main>{article.format("Første", "A")}{article.format("Andre", "B")}'
        "</main></body></html>",
        encoding="utf-8",
    )
    loaded = lovdata_xml.load(path)
    assert [c.cite_key for c in loaded] == ["lov/2020-01-01-1/§1", "lov/2020-01-01-1/§1_2"]
    assert [c.url for c in loaded] == ["https://lovdata.no/lov/2020-01-01-1/§1"] * 2
    assert loaded[1].text == "§ 1. Andre\n\nTekst B."
    assert (loaded[0].law_short, loaded[0].version_date) == ("Prøveloven", "2021-02-03")


@pytest.mark.parametrize(
    "loader,name,content,reason",
    [
        (lovdata_xml, "ødelagt.xml", "<html><body><article>", "ikke gyldig XML"),
        (lovdata_xml, "notat.xml", "<html><body><p>Hei</p></body></html>", "fant ingen paragrafer"),
        (lovdata_xml, "tom.xml", "", "ikke gyldig XML"),
        (lovdata_html, "lov-2018-06-22-83.html", "<html><body><h1>Hei</h1><p>Tekst</p></body></html>",
         "fant ingen paragrafer"),
        (lovdata_html, "side.html", "<html><body><h5>§ 1. Noe</h5><p>Tekst</p></body></html>",
         "fant ingen lov-ID"),
        (lovdata_html, "tom.html", "", "filen er tom"),
    ],
)
def test_files_that_are_not_lovdata_documents_raise(
    tmp_path: Path, loader: object, name: str, content: str, reason: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LoaderError) as excinfo:
        loader.load(path)  # type: ignore[attr-defined]
    message = str(excinfo.value)
    assert name in message and reason in message
    assert "er ikke" in message  # Norwegian, for users


def test_missing_file_raises_loader_error(tmp_path: Path) -> None:
    for loader in (lovdata_xml, lovdata_html):
        with pytest.raises(LoaderError, match="Kan ikke lese mangler"):
            loader.load(tmp_path / "mangler.xml")
