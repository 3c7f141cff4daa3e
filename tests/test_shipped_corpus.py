"""The shipped corpus, indexed once per session: versions, counts and the two search promises."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from assistant.config import Settings
from assistant.index import Index
from assistant.retrieve import Retriever

from .conftest import ROOT


def test_default_index_uses_current_law_texts(shipped_index: Index) -> None:
    files = shipped_index.manifest["files"]
    assert files["laws/lovdata-current/lov-2018-06-22-83.html"]["status"] == "indexed"
    assert files["laws/lovdata/nl-20180622-083.xml"]["status"] == "superseded"
    assert files["laws/lovdata/nl-20060519-016.xml"]["status"] == "superseded"
    assert "lov-2006-05-19-16.html" in files["laws/lovdata/nl-20060519-016.xml"]["message"]
    section = shipped_index.by_key["lov/2018-06-22-83/§5-7"][0]
    assert section.version_kind == "current" and section.version_label.startswith("gjeldende")
    assert "minst tre medlemmer" in section.text


def test_new_forvaltningslov_is_indexed_beside_the_current_one(shipped_index: Index) -> None:
    old = shipped_index.by_key["lov/1967-02-10/§6"][0]
    new_law = [c for c in shipped_index.chunks if c.law_id == "lov/2025-06-20-81"]
    assert old.version_kind == "current"
    assert new_law and all(c.version_kind == "not_in_force" for c in new_law)
    assert new_law[0].version_label.endswith("ikke i kraft")


def test_every_source_type_and_law_is_present(shipped_index: Index) -> None:
    counts = shipped_index.manifest["counts"]
    assert counts["thesis"] > 80 and counts["law"] > 1000
    laws = {c.law_id for c in shipped_index.chunks if c.law_id}
    assert laws == {
        "lov/2018-06-22-83",
        "lov/1967-02-10",
        "lov/2025-06-20-81",
        "lov/2006-05-19-16",
        "lov/2008-06-27-71",
        "lov/2018-06-15-38",
        "lov/2016-06-17-73",
        "lov/2023-06-09-30",
        "forskrift/2016-08-12-974",
    }
    ids = [c.chunk_id for c in shipped_index.chunks]
    assert len(ids) == len(set(ids))


def test_search_finds_the_committee_paragraph_and_living_lab(shipped_index: Index) -> None:
    retriever = Retriever(shipped_index)
    keys = [h.key for h in retriever.search("Kan kommunestyret opprette utvalg?", k=10)]
    assert "lov/2018-06-22-83/§5-7" in keys
    keys = [h.key for h in retriever.search("hva er en living lab", k=10)]
    assert "thesis/2.4.3" in keys
    assert len(keys) == len(set(keys)) == 10


def test_search_filters_by_source_type_and_law(shipped_index: Index) -> None:
    retriever = Retriever(shipped_index)
    hits = retriever.search("innsyn i dokument", k=5, source_types=["law"], law_ids=["lov/2006-05-19-16"])
    assert hits and all(h.key.startswith("lov/2006-05-19-16/§") for h in hits)
    hits = retriever.search("innsyn i dokument", k=5, source_types=["thesis"])
    assert hits and all(h.key.startswith("thesis/") for h in hits)


def test_cli_search_json(shipped_settings: Settings, shipped_index: Index) -> None:
    env = {
        **os.environ,
        "SAMSKAP_CORPUS_DIR": str(shipped_settings.corpus_dir),
        "SAMSKAP_INDEX_DIR": str(shipped_settings.index_dir),
    }
    out = subprocess.run(
        [sys.executable, "-m", "assistant", "search", "hva er en living lab", "--k", "3", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    hits = json.loads(out.stdout)
    assert [set(h) for h in hits] == [{"key", "title", "score", "text"}] * 3
    assert hits[0]["key"] == "thesis/2.4.3"
    assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]
