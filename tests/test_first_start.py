"""Fast first start: the shipped vectors, and keyword search at once while new documents are embedded."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.embed import (
    Embedder,
    ShippedVectors,
    content_hash,
    shipped_vectors,
    shipped_vectors_path,
)
from assistant.index import Index, IndexUnavailable, build_index, open_index
from assistant.ingest import collect

from .conftest import CORPUS, STRATEGY_MD, GatedEmbedder, make_settings


def test_the_shipped_file_holds_every_passage_of_the_shipped_corpus(embedder: Embedder) -> None:
    """A chunker or corpus change without `python -m assistant ship-vectors` would make first starts slow."""
    shipped = shipped_vectors(embedder.id)
    assert shipped is not None, f"missing {shipped_vectors_path(embedder.id)}: run `python -m assistant ship-vectors`"
    texts = [c.text for f in collect(CORPUS, 1200, 150) if f.status == "indexed" for c in f.chunks]
    missing = [t[:60] for t in texts if content_hash(t) not in shipped.row]
    assert len(texts) > 1500 and not missing, f"{len(missing)} passages lack a shipped vector, e.g. {missing[:3]}"


def test_shipped_vectors_equal_a_fresh_embedding(embedder: Embedder) -> None:
    shipped = shipped_vectors(embedder.id)
    assert shipped is not None
    texts = [c.text for f in collect(CORPUS, 1200, 150) if f.status == "indexed" for c in f.chunks]
    sample = texts[:: len(texts) // 12][:12]  # spread over thesis and laws
    fresh = embedder.embed(sample, "passage")
    stored = shipped.get_many([content_hash(t) for t in sample])
    for text, vector in zip(sample, fresh, strict=True):
        kept = stored[content_hash(text)]
        assert kept.dtype == np.float32 and abs(float(np.linalg.norm(kept)) - 1.0) < 1e-5
        assert float(kept @ vector) > 0.999 and float(np.abs(kept - vector).max()) < 0.01


def test_first_ingest_takes_shipped_vectors_and_embeds_only_changed_text(tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "laws").mkdir(parents=True)
    law = corpus / "laws" / "lov-2006-05-19-16.html"  # offentleglova, shipped: its vectors are in the file
    shutil.copy(CORPUS / "laws/lovdata-current/lov-2006-05-19-16.html", law)
    settings = make_settings(corpus, tmp_path / "index")
    counting = GatedEmbedder(embedder)

    first = build_index(settings, embedder=counting)
    assert first.counts["total"] > 30 and first.embedded == 0 and counting.passages == []
    assert open_index(settings, counting).vector_count == first.counts["total"]

    # One paragraph edited: its new text is embedded, nothing else (it is not in the shipped file).
    text = law.read_text(encoding="utf-8")
    assert text.count("Alle kan krevje innsyn i saksdokument") == 1
    law.write_text(text.replace("Alle kan krevje innsyn i saksdokument", "Kven som helst kan krevje innsyn i "
                                "saksdokument"), encoding="utf-8")
    second = build_index(settings, embedder=counting)
    assert second.embedded == len(counting.passages) == 1
    assert "Kven som helst kan krevje innsyn" in counting.passages[0]


def test_the_file_is_ignored_by_another_embedder_and_when_damaged(tmp_path: Path, embedder: Embedder) -> None:
    assert shipped_vectors("sentence-transformers:all-MiniLM-L6-v2") is None
    vectors = {content_hash("a"): np.array([3.0, 4.0]), content_hash("b"): np.array([0.0, 1.0])}
    path = shipped_vectors_path("test:model", tmp_path)
    ShippedVectors.write(path, "test:model", vectors)
    loaded = ShippedVectors(path)
    assert loaded.embedder_id == "test:model" and loaded.vectors.dtype == np.float16
    got = loaded.get_many([content_hash("a"), content_hash("c")])
    assert list(got) == [content_hash("a")] and np.allclose(got[content_hash("a")], [0.6, 0.8], atol=1e-3)
    path.write_bytes(b"not a zip file")
    with pytest.raises((OSError, ValueError)):
        ShippedVectors(path)


def test_new_documents_are_searchable_at_once_and_by_meaning_when_their_vectors_are_in(
    tmp_path: Path, embedder: Embedder
) -> None:
    """The app's start: keyword search over everything in seconds, vectors in the background, then a switch."""
    from assistant.isolated import build_here
    from assistant.retrieve import Retriever
    from assistant.runtime import Runtime
    from assistant.service import Assistant

    corpus = tmp_path / "corpus"
    (corpus / "strategies").mkdir(parents=True)
    (corpus / "laws").mkdir()
    shutil.copy(CORPUS / "laws/lovdata-current/lov-2006-05-19-16.html", corpus / "laws")
    (corpus / "strategies" / "helseplan.md").write_text(STRATEGY_MD, encoding="utf-8")
    settings = make_settings(corpus, tmp_path / "index")
    gated = GatedEmbedder(embedder, open_gate=False)

    report = build_index(settings, embedder=gated, embed_missing=False)
    assert report.vectors_missing == 2 and gated.passages == []  # the two plan sections are new text
    runtime = Runtime(settings, lambda s: Assistant(s, embedder=gated),
                      lambda s, mode, progress: build_here(s, mode, progress, embedder=gated))
    index: Index = runtime.assistant.index
    assert index.vector_count == len(index.chunks) - 2
    top = Retriever(index).search("samskape med frivillige og pårørende om eldre som bor hjemme", k=3)
    assert top[0].key == "helseplan/1"  # found by its words before it has a vector

    assert runtime.start_vectors()
    assert runtime.banner("nb") == (
        "**Semantisk søk bygges:** 0 av 2 tekstbiter. Til da finner Samskap nye dokumenter bare på ordene i dem; "
        "appen bytter selv når vektorene er klare."
    )
    assert runtime.banner("en").startswith("**Building semantic search:** 0 of 2 passages.")
    answer = runtime.ask("Hva sier helseplanen om frivillige?", "prosjektleder", [])
    assert not answer.refused and "helseplan/1" in answer.retrieved

    # The embedding holds no lock: a further document is indexed (by keyword) meanwhile.
    (corpus / "strategies" / "klima.md").write_text("# Klimaplan\n\nKommunen skal kutte utslipp sammen med "
                                                    "næringslivet.\n", encoding="utf-8")
    assert build_index(settings, embedder=gated, embed_missing=False).vectors_missing == 3
    gated.gate.set()
    assert runtime.wait_for_vectors(120) and runtime.vector_error == ""
    fresh = runtime.assistant.index
    assert fresh is not index and fresh.vector_count == len(fresh.chunks) == len(index.chunks) + 1
    assert runtime.banner("nb") == "" and not runtime.start_vectors()  # nothing left to embed
    assert sorted(gated.passages) == sorted(c.text for c in fresh.chunks if c.source_type == "strategy")
    dense = [fresh.chunks[pos].source_type for pos, _ in fresh.dense("frivillige og pårørende til eldre", 3)]
    assert "strategy" in dense


@pytest.mark.slow
def test_the_app_builds_in_a_fresh_process_with_progress_and_readable_errors(tiny_corpus: Path, tmp_path: Path) -> None:
    """Builds the app starts run in a spawned process (Chroma stores uninitialised memory in its files)."""
    from assistant.isolated import build_isolated

    settings = make_settings(tiny_corpus, tmp_path / "index", llm_api_key="sk-not-for-the-child")
    seen: list[tuple[str, int, int]] = []
    update = build_isolated(settings, "update", lambda phase, done, total: seen.append((phase, done, total)))
    assert update.changed and update.vectors_missing == 2 and update.embedded == 0
    assert open_index(settings).vector_count == update.counts["total"] - 2
    filled = build_isolated(settings, "fill", lambda phase, done, total: seen.append((phase, done, total)))
    assert filled.vectors_missing == 0 and ("embed", 2, 2) in seen
    index = open_index(settings)
    assert index.vector_count == len(index.chunks) == update.counts["total"]

    gone = make_settings(tmp_path / "no-such-corpus", tmp_path / "index")
    with pytest.raises(IndexUnavailable, match="Fant ikke korpusmappen"):
        build_isolated(gone, "update")
    assert open_index(settings).generation == index.generation  # the index in use is untouched


@pytest.mark.slow
def test_answering_questions_writes_nothing_into_the_vector_files(tiny_corpus: Path, tmp_path: Path) -> None:
    """Chroma writes HNSW files from uncleared buffers: only the (fresh) build process may write them,
    never the app that holds the questions. Here: a build in a fresh process, then questions in this one."""
    import hashlib

    from assistant.isolated import build_isolated
    from assistant.service import Assistant

    settings = make_settings(tiny_corpus, tmp_path / "index")
    build_isolated(settings, "update")
    build_isolated(settings, "fill")
    chroma = open_index(settings).dir / "chroma"

    def vector_files() -> dict[str, str]:
        return {p.relative_to(chroma).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in chroma.rglob("*") if p.is_file() and p.name != "chroma.sqlite3"}

    before = vector_files()
    assert any(name.endswith("data_level0.bin") for name in before)
    assistant = Assistant(settings)
    for question in ("Hvordan kan kommunen samskape med frivillige?", "Kan kommunen nekte innsyn i organinterne dokumenter?"):
        assert not assistant.ask(question).refused
    del assistant
    assert vector_files() == before
