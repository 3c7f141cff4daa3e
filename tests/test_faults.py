"""Faults while the app runs: the index deleted or damaged under it is detected, reported and rebuilt."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.embed import Embedder
from assistant.index import build_index, current_generation_dir, open_index
from assistant.runtime import Runtime
from assistant.service import Assistant

from .conftest import make_settings

QUESTION = "Hvordan kan kommunen samskape med frivillige om eldre som bor hjemme?"


def running_app(corpus: Path, tmp_path: Path, embedder: Embedder) -> tuple[Settings, Runtime]:
    """Settings and the app's runtime over a freshly built index of the corpus."""
    settings = make_settings(corpus, tmp_path / "index")
    build_index(settings, embedder=embedder)
    return settings, Runtime(settings, lambda s: Assistant(s, embedder=embedder))


def delete_index(settings: Settings) -> None:
    shutil.rmtree(settings.index_dir)


def garble_vectors(settings: Settings) -> None:
    gen = current_generation_dir(settings)
    assert gen is not None
    (gen / "chroma" / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)


def drop_chunks(settings: Settings) -> None:
    gen = current_generation_dir(settings)
    assert gen is not None
    (gen / "chunks.jsonl").unlink()


def garble_manifest(settings: Settings) -> None:
    gen = current_generation_dir(settings)
    assert gen is not None
    (gen / "manifest.json").write_text("{ not json", encoding="utf-8")


@pytest.mark.parametrize("damage", [delete_index, garble_vectors, drop_chunks, garble_manifest])
def test_damaged_index_is_reported_and_rebuilt_while_the_app_runs(
    damage: Callable[[Settings], None], tiny_corpus: Path, tmp_path: Path, embedder: Embedder
) -> None:
    settings, runtime = running_app(tiny_corpus, tmp_path, embedder)
    before = runtime.ask(QUESTION, "prosjektleder", [])
    assert "helseplan/1" in before.retrieved

    damage(settings)
    reported = runtime.ask(QUESTION, "prosjektleder", [])
    assert reported.refused and "borte eller skadet" in reported.text
    assert "bygges nå på nytt fra korpuset" in reported.text
    assert runtime.wait_for_repair(120) and runtime.repair_error == ""
    repaired = runtime.ask(QUESTION, "prosjektleder", [])  # keyword search until lost vectors are made again
    assert not repaired.refused and "helseplan/1" in repaired.retrieved

    assert runtime.wait_for_vectors(120) and runtime.vector_error == ""
    after = runtime.ask(QUESTION, "prosjektleder", [])
    assert not after.refused and after.retrieved[:3] == before.retrieved[:3]
    assert open_index(settings).generation == runtime.assistant.index.generation  # the repair is current on disk


def test_english_question_gets_the_message_in_english(tiny_corpus: Path, tmp_path: Path, embedder: Embedder) -> None:
    settings, runtime = running_app(tiny_corpus, tmp_path, embedder)
    runtime.ask(QUESTION, "prosjektleder", [])
    delete_index(settings)
    reported = runtime.ask("How can the municipality co-create with volunteers for the elderly?", "jurist", [])
    assert reported.refused and reported.language == "en"
    assert "is being rebuilt from the corpus" in reported.text
    runtime.wait_for_repair(120)


def test_failed_repair_is_reported_and_retried(tiny_corpus: Path, tmp_path: Path, embedder: Embedder) -> None:
    settings, runtime = running_app(tiny_corpus, tmp_path, embedder)
    runtime.ask(QUESTION, "prosjektleder", [])
    delete_index(settings)
    hidden = tiny_corpus.with_name("moved-away")
    tiny_corpus.rename(hidden)  # the corpus is gone too: the repair cannot succeed
    runtime.ask(QUESTION, "prosjektleder", [])
    assert runtime.wait_for_repair(60) and "Fant ikke korpusmappen" in runtime.repair_error

    hidden.rename(tiny_corpus)
    retried = runtime.ask(QUESTION, "prosjektleder", [])
    assert retried.refused and "Forrige forsøk på å bygge indeksen på nytt mislyktes" in retried.text
    assert runtime.wait_for_repair(120) and runtime.repair_error == ""
    assert "helseplan/1" in runtime.ask(QUESTION, "prosjektleder", []).retrieved


def test_app_follows_an_index_rebuilt_by_another_process(tiny_corpus: Path, tmp_path: Path, embedder: Embedder) -> None:
    settings, runtime = running_app(tiny_corpus, tmp_path, embedder)
    assert "helseplan/1" in runtime.ask(QUESTION, "prosjektleder", []).retrieved
    opened = runtime.assistant.index.dir
    plan = tiny_corpus / "strategies" / "helseplan.md"
    for extra in ("ungdom", "klima"):  # two outside ingests: the generation the app has open is pruned
        plan.write_text(plan.read_text(encoding="utf-8") + f"\n## Om {extra}\n\nSamskaping om {extra}.\n", encoding="utf-8")
        build_index(settings, embedder=embedder)
    assert not opened.exists()
    answer = runtime.ask(QUESTION, "prosjektleder", [])
    assert not answer.refused and not runtime.repairing  # switched to the new generation, no rebuild
    assert runtime.assistant.index.generation == open_index(settings).generation
