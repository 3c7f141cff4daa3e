"""Evidence-first, layered answers: the summary rests on the decisive passage; catalogue entries serve
the evidence; the municipality's own documents are quoted; the unfolded text stays short."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from assistant.advisor import EVIDENCE_DEPTH
from assistant.answer import Answer
from assistant.catalogue import load_catalogue
from assistant.compose import NEAR_LAWS
from assistant.config import Settings
from assistant.embed import Embedder
from assistant.index import Index, build_index, open_index
from assistant.service import Assistant

from .conftest import CORPUS, make_settings

KOML = "lov/2018-06-22-83"


@pytest.fixture(scope="module")
def assistant(shipped_settings: Settings, shipped_index: Index) -> Assistant:
    return Assistant(shipped_settings, index=shipped_index)


def check_layers(answer: Answer) -> None:
    """What every answer promises: a short summary resting on [1], a short text, the rest in details."""
    assert not answer.refused
    assert answer.text.startswith(("**Kort svar:** " + answer.summary, "**Short answer:** " + answer.summary))
    assert len(answer.summary) <= 450 and len(re.findall(r"[.!?»](?:\s|$)", answer.summary)) <= 4
    assert "[1]" in answer.summary and answer.citations[0].number == 1
    assert len(answer.text) <= 4000
    assert len({int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}) <= 8


@pytest.mark.parametrize(
    ("question", "decisive"),
    [
        # Situations first, the question last, in words the law does not use.
        ("Kommunestyret rekker ikke å møtes før fristen for å søke om statlige tilskudd går ut. "
         "Kan formannskapet treffe vedtaket som en hastesak?", f"{KOML}/§11-8"),
        ("Kommunestyret har satt ned et utvalg med politikere og innbyggere om friluftsliv. "
         "Kan utvalget selv få myndighet til å vedta hvordan tilskuddene skal fordeles?", f"{KOML}/§5-7"),
        ("Kan en kommunalsjef velges som medlem av et utvalg som kommunestyret oppretter for nærmiljøtiltak?",
         f"{KOML}/§7-3"),
    ],
)
def test_the_summary_rests_on_the_decisive_paragraph(assistant: Assistant, question: str, decisive: str) -> None:
    answer = assistant.ask(question, role="jurist")
    check_layers(answer)
    assert answer.citations[0].key == decisive, [c.key for c in answer.citations[:3]]
    assert answer.citations[0].version and answer.citations[0].url.endswith(decisive.split("/")[-1])


@pytest.mark.parametrize(
    ("question", "decisive"),
    [
        # Situation first, question last; the answer must open on law, not on the thesis or the fit criteria.
        ("Ordføreren vil at kommunestyret skal kunne møtes på Teams når det er dårlig vær. "
         "Kan kommunestyret vedta at møtene holdes som fjernmøter?", f"{KOML}/§11-7"),
        ("Innbyggerne i bydelen har samlet underskrifter for å få kommunestyret til å behandle en ny skatepark. "
         "Hvor mange må skrive under før kommunestyret må ta stilling til forslaget?", f"{KOML}/§12-1"),
    ],
)
def test_a_legal_answer_opens_on_its_two_best_paragraphs(assistant: Assistant, question: str, decisive: str) -> None:
    answer = assistant.ask(question)
    check_layers(answer)
    first, second = answer.citations[:2]
    assert first.key == decisive, [c.key for c in answer.citations[:3]]
    # the runner-up is a law paragraph of the evidence, shown as the first key point with its own words
    assert second.basis == "lov" and second.key in answer.retrieved[:6], [c.key for c in answer.citations[:3]]
    points = answer.text.split("### Det viktigste", 1)[1]
    assert points.lstrip().startswith("- **Lov**") and "[2]" in points.split("\n- ", 2)[1]


def test_a_paragraph_named_only_in_the_situation_does_not_decide_what_is_asked(assistant: Assistant) -> None:
    # The committee's legal basis is context; the question is about notice and announcement of meetings.
    situation = assistant.ask("Vi har et utvalg etter kommuneloven § 5-7. Hvilke regler gjelder for innkalling "
                              "til møter og kunngjøring av møtene?", role="jurist")
    check_layers(situation)
    assert [c.key for c in situation.citations[:2]] == [f"{KOML}/§11-3", f"{KOML}/§5-7"]
    # Named where the question asks, the paragraph itself is what is asked about.
    asked = assistant.ask("Hvilke regler gjelder for innkalling til møter i et utvalg etter kommuneloven § 5-7?",
                          role="jurist")
    assert asked.citations[0].key == f"{KOML}/§5-7"


def test_the_summary_says_what_was_asked(assistant: Assistant) -> None:
    answer = assistant.ask("Kan en kommunalsjef velges som medlem av et utvalg som kommunestyret oppretter?")
    # § 7-3: kommunalsjefer are excluded from election — the rule itself, first
    assert answer.summary.startswith("Blant annet kommunedirektøren og kommunalsjefer")
    assert answer.citations[0].key == f"{KOML}/§7-3"


def test_a_rule_is_not_turned_into_a_yes_to_another_question(assistant: Assistant) -> None:
    # The rule found is about advisory referendums; a «Ja.» before it would answer «binding?» wrongly.
    answer = assistant.ask("Kan kommunestyret bestemme at en folkeavstemning skal være bindende?", role="jurist")
    assert "rådgivende folkeavstemninger" in answer.summary
    assert not answer.summary.startswith(("Ja", "Nei"))


def test_a_summary_on_a_passage_that_barely_touches_the_question_says_so(assistant: Assistant) -> None:
    weak = assistant.ask("Hvor lenge må vi oppbevare lydopptak fra en workshop med innbyggere?", role="jurist")
    assert weak.summary.startswith("Kildene svarer ikke direkte på spørsmålet. Nærmest kommer ")
    assert weak.citations and weak.citations[0].title in weak.summary  # still names and cites the closest
    strong = assistant.ask("Hvilke regler gjelder for innkalling til møter i et utvalg etter kommuneloven § 5-7?",
                           role="jurist")
    assert not strong.summary.startswith("Kildene svarer ikke")


def test_a_legal_answer_from_a_law_far_from_the_question_says_so(assistant: Assistant, shipped_index: Index) -> None:
    # Situations in everyday words whose words also occur in paragraphs of unrelated laws («tilskudd» in
    # opplæringslova's grants to apprentice firms): such a paragraph may be the closest found, but the
    # answer must not present it as the answer, nor list other unrelated laws as key points.
    questions = [
        "Leder for frivilligsentralen sitter i arbeidsgruppen som skal fordele tilskuddene. Kan hun være med "
        "når søknaden fra frivilligsentralen behandles?",
        "Vi vil trekke tilbake et tilskudd fordi pengene ble brukt til noe annet. Må foreningen få si sin mening først?",
        "Kan en journalist kreve innsyn i dokumentene vi deler med frivillige organisasjoner i prosjektet?",
    ]
    off_topic_seen = 0
    answers = [assistant.ask(question, role="jurist") for question in questions]
    for question, answer in zip(questions, answers, strict=True):
        near = set(shipped_index.nearest_laws(question)[:NEAR_LAWS])
        laws = [shipped_index.by_key[c.key][0] for c in answer.citations]
        if laws[0].source_type == "law" and laws[0].law_id not in near:
            off_topic_seen += 1
            assert answer.summary.startswith("Kildene svarer ikke direkte på spørsmålet. Nærmest kommer "), question
        points = answer.text.split("### Det viktigste", 1)[-1].split("###", 1)[0]
        for chunk, citation in zip(laws, answer.citations, strict=True):
            if f"[{citation.number}]" in points and chunk.source_type == "law":
                assert chunk.law_id in near, (question, citation.key)
    assert off_topic_seen  # the first two rest on an unrelated law today; if retrieval finds better, change them
    innsyn = answers[2]
    assert innsyn.citations[0].key.startswith("lov/2006-05-19-16/") and not innsyn.summary.startswith("Kildene svarer ikke")


def test_the_laws_nearest_a_question_are_the_ones_about_its_subject(shipped_index: Index) -> None:
    assert shipped_index.nearest_laws("Hvordan skal skolen sikre elevene et trygt og godt skolemiljø?")[0] == (
        "lov/2023-06-09-30")  # opplæringslova
    assert "lov/2006-05-19-16" in shipped_index.nearest_laws("Kan en journalist kreve innsyn i dokumentene våre?")[:2]
    assert shipped_index.nearest_laws("Hvilken terskelverdi gjelder for kunngjøring av anskaffelser?")[0] == (
        "forskrift/2016-08-12-974")
    assert len(shipped_index.nearest_laws("hva som helst")) == len(shipped_index.law_centroids) == 9


def test_catalogue_entries_join_only_with_their_paragraph_in_the_evidence(assistant: Assistant) -> None:
    catalogue = load_catalogue()
    questions = [
        "Kan formannskapet treffe hastevedtak når kommunestyret ikke rekker å møtes?",
        "Har en folkevalgt krav på erstatning for tapt arbeidsinntekt når hun deltar i møter?",
        "Hvor lang tid har kommunen på å svare på et innsynskrav fra en journalist?",
        "Vi vil lage et oppgaveutvalg for friluftsliv. Hvordan går vi fram?",
    ]
    for question in questions:
        answer = assistant.ask(question, role="jurist")
        whole = answer.text + answer.details
        evidence = set(answer.retrieved[:EVIDENCE_DEPTH])
        for entry in catalogue.legal:
            shown = [s for s in entry.statements if s.text("nb") in whole]
            if shown:
                assert evidence & {s.cite for s in entry.statements}, (question, entry.id)


def test_every_layer_is_kept_short(assistant: Assistant) -> None:
    for question, role in [
        ("Vi vil at eldre skal bo lenger hjemme, sammen med frivillige og pårørende. Passer samskaping?", "prosjektleder"),
        ("Hvilken metode passer når vi vil utvikle en ny ungdomspolitikk sammen med ungdommene?", "prosjektleder"),
        ("Må møtene i et utvalg der innbyggere er med, være åpne for alle?", "jurist"),
    ]:
        answer = assistant.ask(question, role=role)
        check_layers(answer)
        assert answer.details  # the rest is one click away


GOAL = "Målet er at flere eldre kan bo trygt hjemme lenger, med hjelp fra frivillige og pårørende."
STRATEGY = f"""# Strategi for helse og omsorg 2026–2030

## 1. Innledning

Kommunestyret vedtok strategien i juni. Den gjelder hele helse- og omsorgssektoren.

## 2. Prosjektet Bylab Kolbotn

Bylab Kolbotn er et samarbeid mellom kommunen, frivilligsentralen og næringslivet i sentrum. {GOAL} \
Prosjektet varer i tre år og evalueres hvert år.

## 3. Økonomi

Prosjektet finansieres innenfor vedtatt budsjett.
"""


def test_a_question_about_the_municipalitys_own_document_is_answered_from_it(
    tmp_path: Path, embedder: Embedder
) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "strategies").mkdir(parents=True)
    (corpus / "strategies" / "helsestrategi.md").write_text(STRATEGY, encoding="utf-8")
    shutil.copytree(CORPUS / "thesis", corpus / "thesis")
    (corpus / "laws").mkdir()
    shutil.copy(CORPUS / "laws/lovdata-current/lov-2018-06-22-83.html", corpus / "laws")
    settings = make_settings(corpus, tmp_path / "index")
    build_index(settings, embedder=embedder)
    assistant = Assistant(settings, index=open_index(settings, embedder=embedder))

    answer = assistant.ask("Hva er målet med prosjektet Bylab Kolbotn i kommunen?")
    check_layers(answer)
    first = answer.citations[0]
    assert first.key.startswith("helsestrategi/") and first.basis == "strategi"
    assert GOAL in first.quote and GOAL in answer.summary
    assert "kommunal strategi" in answer.summary
