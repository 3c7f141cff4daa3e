"""Tests for `update-laws`: real local HTTP server, real .tar.bz2 archives, a copy of the corpus."""

from __future__ import annotations

import hashlib
import io
import shutil
import socket
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant import update_laws as module
from assistant.config import Settings
from assistant.ingest import discover, loader_for
from assistant.ingest.provenance import Fetched, fetch_dates, parse_fetched
from assistant.update_laws import ATTRIBUTION, UpdateLawsError, update_laws

REAL_LOVDATA = Path(__file__).resolve().parents[1] / "corpus" / "laws" / "lovdata"
KOML = "nl-20180622-083.xml"
ANSKFORSKR = "sf-20160812-0974.xml"


def lovdata_doc(dokid: str, title: str, paragraphs: list[tuple[str, str]]) -> bytes:
    """A tiny document in Lovdata's XML-compatible HTML, with the real header and article structure."""
    key = dokid.split("/", 1)[1]
    legacy = ("LOV-" if key.startswith("lov/") else "FOR-") + key.split("/", 1)[1]
    articles = "".join(
        f'<article class="legalArticle" data-lovdata-URL="{dokid}/§{number}" data-name="§{number}"'
        f' id="kapittel-1-paragraf-{i}"><h3 class="legalArticleHeader"><span class="legalArticleValue">'
        f'§ {number}</span>. <span class="legalArticleTitle">{heading}</span></h3>'
        f'<article class="legalP" id="kapittel-1-paragraf-{i}-ledd-1">'
        f"Testtekst for § {number}.</article>"
        "</article>"
        for i, (number, heading) in enumerate(paragraphs, start=1)
    )
    return (
        f'<!DOCTYPE html><html lang="no"><head><title>{title}</title><base href="https://lovdata.no/" />'
        '</head><body><header class="documentHeader" id="hode"><dl class="data-document-key-info">'
        f'<dt class="legacyID">Datokode</dt><dd class="legacyID">{legacy}</dd>'
        f'<dt class="dokid">DokumentID</dt><dd class="dokid">{dokid}</dd>'
        '<dt class="lastChangeInForce">Ikrafttredelse av siste endring</dt>'
        '<dd class="lastChangeInForce">2025-07-01</dd>'
        f'<dt class="title">Tittel</dt><dd class="title">{title}</dd>'
        f'<dt class="refid">RefID</dt><dd class="refid">{key}</dd></dl></header>'
        f'<main class="documentBody" data-lovdata-URL="{dokid}" id="dokument"><h1>{title}</h1>'
        f'<section class="section" data-name="kap1" id="kapittel-1"><h2>Kapittel 1. Test</h2>{articles}'
        "</section></main></body></html>"
    ).encode()


KOML_DOC = lovdata_doc(
    "NL/lov/2018-06-22-83",
    "Lov om kommuner og fylkeskommuner (kommuneloven)",
    [("5-7", "Utvalg"), ("5-8", "Direkte valg til kommunedelsutvalg")],
)
AML_DOC = lovdata_doc(
    "NL/lov/2005-06-17-62", "Lov om arbeidsmiljø, arbeidstid og stillingsvern mv. (arbeidsmiljøloven)",
    [("1-1", "Lovens formål")],
)
FOA_DOC = lovdata_doc(
    "SF/forskrift/2016-08-12-974", "Forskrift om offentlige anskaffelser (anskaffelsesforskriften)",
    [("1-1", "Hvilke anskaffelser som er omfattet av forskriften")],
)


def tar_bz2(members: list[tuple[str, bytes | None, str]]) -> bytes:
    """A .tar.bz2 of (name, data, kind) members; kind is 'file', 'symlink' (data = target) or 'dir'."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:bz2") as tar:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            if kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, (data or b"").decode()
                tar.addfile(info)
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data or b"")
                tar.addfile(info, io.BytesIO(data or b""))
    return buffer.getvalue()


def law_archive(*extra: tuple[str, bytes | None, str]) -> bytes:
    """A gjeldende-lover-like archive: nl/ folder with kommuneloven and an unrelated law."""
    return tar_bz2([("nl", None, "dir"), (f"nl/{KOML}", KOML_DOC, "file"),
                    ("nl/nl-20050617-062.xml", AML_DOC, "file"), *extra])


def tree(root: Path) -> dict[str, str]:
    """sha256 of every file under root, by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def section(provenance: str) -> list[str]:
    """The lines of the update-laws section of PROVENANCE.md."""
    start = provenance.index("<!-- update-laws:start -->")
    return provenance[start : provenance.index("<!-- update-laws:end -->")].splitlines()


@dataclass
class Server:
    base: str
    routes: dict[str, bytes] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(base="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            time.sleep(state.delays.get(self.path, 0))
            body = state.routes.get(self.path)
            if body is None:
                self.send_error(404, "Not Found")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/x-bzip2")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    shutil.copytree(REAL_LOVDATA, root / "laws" / "lovdata")
    return root


def make_settings(corpus: Path, server: Server | None = None, **overrides: object) -> Settings:
    base = server.base if server else "http://127.0.0.1:9"
    values: dict[str, object] = {
        "corpus_dir": corpus,
        "laws": ["lov/2018-06-22-83"],
        "lovdata_laws_url": f"{base}/v1/publicData/get/gjeldende-lover.tar.bz2",
        "lovdata_regulations_url": f"{base}/v1/publicData/get/gjeldende-sentrale-forskrifter.tar.bz2",
        "download_timeout": 5.0,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_success_replaces_kommuneloven_only_and_records_provenance(corpus: Path, server: Server) -> None:
    server.routes["/lover.tar.bz2"] = law_archive()
    lovdata = corpus / "laws" / "lovdata"
    before = tree(lovdata)
    messages: list[str] = []
    settings = make_settings(corpus, server, laws=["lov/2018-06-22-83", "lov/2016-06-17-73"])

    report = update_laws(settings, source=f"{server.base}/lover.tar.bz2", progress=messages.append)

    assert (lovdata / KOML).read_bytes() == KOML_DOC
    after = tree(lovdata)
    assert {name for name in after if after[name] != before.get(name)} == {KOML, "PROVENANCE.md"}
    assert set(after) == set(before)  # nothing added: no temp files, no unrelated law
    [law] = report.updated
    assert law.law_id == "lov/2018-06-22-83" and law.file_name == KOML and law.changed
    assert law.old_sha256 == before[KOML]
    assert law.new_sha256 == hashlib.sha256(KOML_DOC).hexdigest() and law.bytes == len(KOML_DOC)
    assert report.not_found == ["lov/2016-06-17-73"] and report.changed
    assert report.sources == [f"{server.base}/lover.tar.bz2"]
    assert messages and any("lov/2016-06-17-73" in m for m in messages)
    provenance = (lovdata / "PROVENANCE.md").read_text(encoding="utf-8")
    original = (REAL_LOVDATA / "PROVENANCE.md").read_text(encoding="utf-8")
    assert provenance.startswith(original.rstrip("\n"))  # the curated text is kept as it was
    row = next(line for line in section(provenance) if line.startswith(f"| {KOML} |"))
    for value in (law.new_sha256, str(law.bytes), "NL/lov/2018-06-22-83", f"{server.base}/lover.tar.bz2",
                  "2025-07-01", "Lov om kommuner og fylkeskommuner (kommuneloven)"):
        assert value in row
    assert ATTRIBUTION in provenance
    assert (lovdata / KOML).stat().st_mode & 0o777 == 0o644
    # the fetch date shown in «Om tjenesten» is now the time of this run, not the curated one
    fetched = fetch_dates(corpus)[f"laws/lovdata/{KOML}"]
    assert fetched.date == time.strftime("%Y-%m-%d", time.gmtime()) and not fetched.earliest
    assert fetched.label("nb") == "hentet " + time.strftime("%d.%m.%Y", time.gmtime())


def test_second_run_changes_nothing_and_refresh_keeps_one_row(corpus: Path, server: Server) -> None:
    server.routes["/lover.tar.bz2"] = law_archive()
    settings = make_settings(corpus, server)
    lovdata = corpus / "laws" / "lovdata"
    update_laws(settings, source=f"{server.base}/lover.tar.bz2")
    first = tree(lovdata)

    report = update_laws(settings, source=f"{server.base}/lover.tar.bz2")

    assert not report.changed and report.updated[0].old_sha256 == report.updated[0].new_sha256
    assert tree(lovdata) == first
    # A changed text refreshes the same row instead of adding a second one.
    changed = KOML_DOC.replace(b"Testtekst", b"Endret tekst")
    server.routes["/lover.tar.bz2"] = tar_bz2([(f"nl/{KOML}", changed, "file")])
    assert update_laws(settings, source=f"{server.base}/lover.tar.bz2").changed
    provenance = (lovdata / "PROVENANCE.md").read_text(encoding="utf-8")
    assert sum(line.startswith(f"| {KOML} |") for line in section(provenance)) == 1
    assert provenance.count("update-laws:start") == 1


def test_default_urls_download_only_the_archives_needed(corpus: Path, server: Server) -> None:
    settings = make_settings(corpus, server)
    server.routes["/v1/publicData/get/gjeldende-lover.tar.bz2"] = law_archive()

    report = update_laws(settings)

    assert server.requests == ["/v1/publicData/get/gjeldende-lover.tar.bz2"]
    assert report.sources == [settings.lovdata_laws_url] and report.changed


def test_regulations_come_from_the_regulations_archive(corpus: Path, server: Server) -> None:
    server.routes["/v1/publicData/get/gjeldende-lover.tar.bz2"] = law_archive()
    server.routes["/v1/publicData/get/gjeldende-sentrale-forskrifter.tar.bz2"] = tar_bz2(
        [(f"sf/{ANSKFORSKR}", FOA_DOC, "file")])
    settings = make_settings(corpus, server, laws=["lov/2018-06-22-83", "forskrift/2016-08-12-974"])

    report = update_laws(settings)

    assert [(u.law_id, u.file_name, u.source) for u in report.updated] == [
        ("lov/2018-06-22-83", KOML, settings.lovdata_laws_url),
        ("forskrift/2016-08-12-974", ANSKFORSKR, settings.lovdata_regulations_url),
    ]
    assert (corpus / "laws" / "lovdata" / ANSKFORSKR).read_bytes() == FOA_DOC


def test_a_law_missing_from_the_corpus_is_added(corpus: Path, server: Server) -> None:
    loa = lovdata_doc("NL/lov/2016-06-17-73", "Lov om offentlige anskaffelser (anskaffelsesloven)",
                      [("1", "Formål")])
    server.routes["/lover.tar.bz2"] = law_archive(("nl/nl-20160617-073.xml", loa, "file"))

    report = update_laws(make_settings(corpus, server, laws=["lov/2016-06-17-73"]),
                         source=f"{server.base}/lover.tar.bz2")

    [law] = report.updated
    assert law.file_name == "nl-20160617-073.xml" and law.old_sha256 is None and law.changed
    assert (corpus / "laws" / "lovdata" / "nl-20160617-073.xml").read_bytes() == loa


def test_local_archive_file_works(corpus: Path, tmp_path: Path) -> None:
    archive = tmp_path / "gjeldende-lover.tar.bz2"
    archive.write_bytes(law_archive())

    report = update_laws(make_settings(corpus), source=str(archive))

    assert report.changed and report.sources == [str(archive)]
    assert (corpus / "laws" / "lovdata" / KOML).read_bytes() == KOML_DOC
    assert hashlib.sha256(archive.read_bytes()).hexdigest() in (
        corpus / "laws" / "lovdata" / "PROVENANCE.md").read_text(encoding="utf-8")


def test_hostile_unwanted_members_are_never_written(
    corpus: Path, server: Server, tmp_path: Path
) -> None:
    server.routes["/lover.tar.bz2"] = law_archive(
        ("../../escape.xml", AML_DOC, "file"),
        ("/tmp/samskap-absolute.xml", AML_DOC, "file"),
        ("nl/evil-link.xml", b"/etc/passwd", "symlink"),
        # offentleglova's file name, but offentleglova is not a wanted law here
        ("nl/nl-20060519-016.xml", b"../../../escape-offl.xml", "symlink"),
    )
    outside = {p for p in tmp_path.rglob("*") if "lovdata" not in p.parts}

    report = update_laws(make_settings(corpus, server), source=f"{server.base}/lover.tar.bz2")

    assert [u.file_name for u in report.updated] == [KOML]
    assert {p for p in tmp_path.rglob("*") if "lovdata" not in p.parts} == outside
    assert not Path("/tmp/samskap-absolute.xml").exists()
    lovdata = corpus / "laws" / "lovdata"
    assert not (lovdata / "nl-20060519-016.xml").is_symlink()
    assert tree(lovdata)["nl-20060519-016.xml"] == tree(REAL_LOVDATA)["nl-20060519-016.xml"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


INVALID_KOML = {
    "not_xml": b"<html><body><p>Ikke lukket",
    "no_articles": KOML_DOC.replace(b"legalArticle", b"somethingElse"),
    "as_enacted_dokid": KOML_DOC.replace(b">NL/lov/2018-06-22-83<", b">LTI/lov/2018-06-22-83<"),
    "other_law_dokid": KOML_DOC.replace(b">NL/lov/2018-06-22-83<", b">NL/lov/2005-06-17-62<"),
}


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("http_404", "404"),
        ("connection_refused", "Fikk ikke lastet ned"),
        ("timeout", "ingen svar"),
        ("garbage", "lesbart"),
        ("truncated", "lesbart"),
        ("missing_local_file", "Finner ikke"),
        ("no_wanted_member", "Fant ingen"),
        *((f"invalid:{name}", "gyldig Lovdata-fil") for name in INVALID_KOML),
        ("wanted_symlink", "lenke"),
        ("wanted_dotdot", "usikker sti"),
        ("duplicate", "flere ganger"),
        ("too_big", "urimelig stor"),
        ("unpacked_too_big", "urimelig stort"),
    ],
)
def test_failures_raise_and_leave_corpus_untouched(
    case: str,
    expected: str,
    corpus: Path,
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"{server.base}/lover.tar.bz2"
    settings = make_settings(corpus, server)
    if case == "connection_refused":
        url = f"http://127.0.0.1:{closed_port()}/lover.tar.bz2"
    elif case == "timeout":
        server.routes["/lover.tar.bz2"], server.delays["/lover.tar.bz2"] = law_archive(), 1.5
        settings = make_settings(corpus, server, download_timeout=0.3)
    elif case == "garbage":
        server.routes["/lover.tar.bz2"] = b"\x00garbage, not bzip2" * 100
    elif case == "truncated":
        server.routes["/lover.tar.bz2"] = law_archive()[:200]
    elif case == "missing_local_file":
        url = str(tmp_path / "finnes-ikke.tar.bz2")
    elif case == "no_wanted_member":
        server.routes["/lover.tar.bz2"] = tar_bz2([("nl/nl-20050617-062.xml", AML_DOC, "file")])
    elif case.startswith("invalid:"):
        server.routes["/lover.tar.bz2"] = tar_bz2([(f"nl/{KOML}", INVALID_KOML[case[8:]], "file")])
    elif case == "wanted_symlink":
        server.routes["/lover.tar.bz2"] = tar_bz2([(f"nl/{KOML}", b"/etc/passwd", "symlink")])
    elif case == "wanted_dotdot":
        server.routes["/lover.tar.bz2"] = tar_bz2([(f"../{KOML}", KOML_DOC, "file")])
    elif case == "duplicate":
        server.routes["/lover.tar.bz2"] = law_archive((f"nl/extra/{KOML}", KOML_DOC, "file"))
    elif case == "too_big":
        server.routes["/lover.tar.bz2"] = law_archive()
        monkeypatch.setattr(module, "MAX_MEMBER_BYTES", 100)
    elif case == "unpacked_too_big":
        server.routes["/lover.tar.bz2"] = law_archive()
        monkeypatch.setattr(module, "MAX_UNPACKED_BYTES", 100)
    elif case != "http_404":
        raise AssertionError(case)
    before = tree(tmp_path / "corpus")
    outside = {p for p in tmp_path.rglob("*") if "corpus" not in p.parts}

    with pytest.raises(UpdateLawsError) as caught:
        update_laws(settings, source=url)

    assert expected in str(caught.value) and "Ingen filer i korpuset er endret" in str(caught.value)
    assert tree(tmp_path / "corpus") == before
    assert {p for p in tmp_path.rglob("*") if "corpus" not in p.parts} == outside


def test_invalid_configured_law_id_is_a_clear_error(corpus: Path) -> None:
    with pytest.raises(UpdateLawsError, match="SAMSKAP_LAWS"):
        update_laws(make_settings(corpus, laws=["kommuneloven"]), source="unused.tar.bz2")


@pytest.mark.slow
def test_cli_update_laws_then_reindexes(tmp_path: Path) -> None:
    """`python -m assistant update-laws --source FILE` writes the law and re-ingests; a failure changes nothing."""
    import os
    import subprocess
    import sys

    corpus = tmp_path / "corpus"
    (corpus / "strategies").mkdir(parents=True)
    (corpus / "laws" / "lovdata").mkdir(parents=True)
    (corpus / "strategies" / "plan.md").write_text("# Plan\n\nSamskaping med frivillige.\n")
    archive = tmp_path / "gjeldende-lover.tar.bz2"
    archive.write_bytes(law_archive())
    env = {**os.environ, "SAMSKAP_CORPUS_DIR": str(corpus), "SAMSKAP_INDEX_DIR": str(tmp_path / "index")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "assistant", *args], env=env, capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parents[1])

    assert cli("ingest").returncode == 0
    before = tree(corpus)
    failed = cli("update-laws", "--source", str(tmp_path / "mangler.tar.bz2"))
    assert failed.returncode == 1
    assert "Korpuset er uendret" in failed.stderr
    assert tree(corpus) == before

    done = cli("update-laws", "--source", str(archive))
    assert done.returncode == 0, done.stderr
    assert "lov/2018-06-22-83: nl-20180622-083.xml oppdatert" in done.stdout
    assert "Indeksen er oppdatert" in done.stdout
    found = cli("search", "Testtekst utvalg", "--k", "3", "--json")
    assert "lov/2018-06-22-83/§5-7" in found.stdout


def test_every_shipped_law_file_has_a_recorded_fetch_date() -> None:
    corpus = REAL_LOVDATA.parents[1]
    files = [path.relative_to(corpus).as_posix() for path in discover(corpus / "laws")]
    laws = [rel for rel in files if (loader_for(rel) or "").startswith("lovdata")]
    fetched = fetch_dates(corpus)
    assert len(laws) == 11 and sorted(fetched) == sorted(laws)
    assert fetched["laws/lovdata/nl-19670210-000.xml"] == Fetched("2026-07-24")
    koml = fetched["laws/lovdata-current/lov-2018-06-22-83.html"]
    assert koml.label("nb") == "hentet mellom 20.06.2025 og 30.11.2026"
    assert koml.label("en") == "fetched between 20.06.2025 and 30.11.2026"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-07-24", Fetched("2026-07-24")),
        ("~2025-11-06", Fetched("2025-11-06", approximate=True)),
        ("2025-06-20/2026-11-30", Fetched("2026-11-30", earliest="2025-06-20")),
        ("2026-12-02T08:15:00Z", Fetched("2026-12-02")),  # update-laws' "Retrieved (UTC)"
        ("ukjent", None),
    ],
)
def test_fetch_dates_are_read_in_each_recorded_form(value: str, expected: Fetched | None) -> None:
    assert parse_fetched(value) == expected


def test_a_corpus_without_provenance_has_no_fetch_dates(tmp_path: Path) -> None:
    assert fetch_dates(tmp_path) == {}
