"""`update-laws`: refresh the Lovdata law files in the corpus from Lovdata's public bulk archives.

Archive members (`nl/nl-20180622-083.xml`, `sf/sf-20160812-0974.xml`) are matched on their file name
and read into memory, never extracted by path. Everything is validated before anything is written.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from lxml import etree

from assistant.config import Settings
from assistant.ingest.lawmeta import law_id
from assistant.ingest.provenance import UPDATES_END, UPDATES_START

ATTRIBUTION = "Inneholder data under NLOD 2.0, tilgjengeliggjort av Lovdata"
MAX_DOWNLOAD_BYTES = 1024**3  # the real archives are a few tens of MB
MAX_MEMBER_BYTES = 64 * 1024**2  # the largest Lovdata documents are a few MB
MAX_MEMBERS = 100_000  # gjeldende-lover has ~760 members, the regulations ~3,500
MAX_UNPACKED_BYTES = 4 * 1024**3  # gjeldende-lover unpacks to ~51 MB; stops decompression bombs
# Lovdata's document file names. Language variants (nl-18140517-000-nn.xml) deliberately do not match.
_FILE_NAME = re.compile(r"(nl|sf)-\d{8}-\d+\.xml")
_START, _END = UPDATES_START, UPDATES_END  # the section assistant.ingest.provenance reads back
_UNTOUCHED = "Ingen filer i korpuset er endret."
_CLASS = "contains(concat(' ', normalize-space(@class), ' '), ' {} ')"  # XPath: class has this token


class UpdateLawsError(Exception):
    """The update failed and the corpus was left as it was; the message is Norwegian, for users."""


@dataclass(frozen=True)
class UpdatedLaw:
    """One wanted law found in an archive, compared with the corpus copy."""

    law_id: str
    file_name: str
    old_sha256: str | None
    new_sha256: str
    changed: bool
    bytes: int
    source: str


@dataclass
class UpdateReport:
    """Result of `update_laws`: laws found (changed or not), laws missing from the archives, sources."""

    updated: list[UpdatedLaw] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when at least one law file was written, so the caller should re-ingest."""
        return any(law.changed for law in self.updated)


@dataclass(frozen=True)
class _Doc:
    law_id: str
    file_name: str
    data: bytes
    dokid: str
    title: str
    last_change: str
    source: str
    archive_sha256: str


def update_laws(
    settings: Settings, source: str | None = None, progress: Callable[[str], None] | None = None
) -> UpdateReport:
    """Replace or add the configured laws in `<corpus_dir>/laws/lovdata/`, all or nothing."""
    say = progress or (lambda _message: None)
    wanted = _wanted_ids(settings.laws)
    defaults = ((settings.lovdata_laws_url, "lov/"), (settings.lovdata_regulations_url, "forskrift/"))
    plan = [(source, wanted)] if source is not None else [
        (url, ids) for url, kind in defaults if (ids := [i for i in wanted if i.startswith(kind)])
    ]
    retrieved = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    docs: dict[str, _Doc] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="samskap-lovdata-") as tmp:
            for number, (label, ids) in enumerate(plan):
                archive, archive_sha = _fetch(label, Path(tmp) / f"{number}.tar.bz2", settings, say)
                say(f"Leser {label} …")
                found = _read_archive(archive, set(ids), label)
                say(f"Fant {len(found)} av {len(ids)} lover i {label}.")
                for lid, (name, data) in found.items():
                    docs[lid] = _validate(lid, name, data, label, archive_sha)
        if not docs:
            labels = ", ".join(label for label, _ in plan)
            raise UpdateLawsError(f"Fant ingen av lovene ({', '.join(wanted)}) i {labels}.")
    except UpdateLawsError as exc:
        raise UpdateLawsError(f"{exc} {_UNTOUCHED}") from exc

    folder = Path(settings.corpus_dir) / "laws" / "lovdata"
    report = UpdateReport(sources=[label for label, _ in plan])
    # Missing laws are warnings, not errors, once one wanted law was found: a law can be repealed, not
    # yet in force (so absent from the "gjeldende" sets) or absent from a narrower archive given as source.
    report.not_found = [lid for lid in wanted if lid not in docs]
    for lid in report.not_found:
        say(f"Advarsel: {lid} finnes ikke i arkivet og ble ikke oppdatert.")
    for lid in (i for i in wanted if i in docs):
        doc = docs[lid]
        target = folder / doc.file_name
        old = hashlib.sha256(target.read_bytes()).hexdigest() if target.is_file() else None
        new = hashlib.sha256(doc.data).hexdigest()
        law = UpdatedLaw(lid, doc.file_name, old, new, new != old, len(doc.data), doc.source)
        report.updated.append(law)
        say(f"{'Oppdaterer' if new != old else 'Uendret:'} {doc.file_name} ({lid})")
    changed = [docs[law.law_id] for law in report.updated if law.changed]
    if changed:
        files = {folder / doc.file_name: doc.data for doc in changed}
        provenance = folder / "PROVENANCE.md"
        files[provenance] = _provenance(provenance, changed, retrieved).encode("utf-8")
        _write_all(folder, files)
        say(f"Skrev {len(changed)} lovfil(er) og oppdaterte {provenance.name}.")
    return report


def _wanted_ids(laws: list[str]) -> list[str]:
    """Normalised, de-duplicated law ids from the settings, in their configured order."""
    wanted: list[str] = []
    for ref in laws:
        lid = _law_id_or_none(ref)
        if lid is None:
            raise UpdateLawsError(f"Ugyldig lov-ID i innstillingen SAMSKAP_LAWS: {ref!r}.")
        if lid not in wanted:
            wanted.append(lid)
    if not wanted:
        raise UpdateLawsError("Ingen lover er valgt i innstillingen SAMSKAP_LAWS.")
    return wanted


def _fetch(label: str, dest: Path, settings: Settings, say: Callable[[str], None]) -> tuple[Path, str]:
    """The archive for a URL (downloaded to dest) or a local path, with its sha256."""
    if not re.match(r"https?://", label, re.IGNORECASE):
        path = Path(label).expanduser()
        if not path.is_file():
            raise UpdateLawsError(f"Finner ikke arkivfilen {label}.")
        with path.open("rb") as handle:
            return path, hashlib.file_digest(handle, "sha256").hexdigest()
    say(f"Laster ned {label} …")
    timeout = settings.download_timeout
    digest, size = hashlib.sha256(), 0
    request = urllib.request.Request(label, headers={"User-Agent": "samskap-update-laws"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, dest.open("wb") as out:
            while chunk := response.read(1 << 16):
                size += len(chunk)
                if size > MAX_DOWNLOAD_BYTES:
                    raise UpdateLawsError(f"{label} er urimelig stor (over {MAX_DOWNLOAD_BYTES} byte).")
                digest.update(chunk)
                out.write(chunk)
    except urllib.error.HTTPError as exc:
        exc.close()  # the error holds the open response
        message = f"Nedlastingen av {label} feilet: serveren svarte {exc.code} {exc.reason}."
        raise UpdateLawsError(message) from exc
    except (OSError, http.client.HTTPException) as exc:  # URLError and TimeoutError are OSErrors
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, TimeoutError):
            message = f"Nedlastingen av {label} ga opp: ingen svar på {timeout:g} sekunder."
            raise UpdateLawsError(message) from exc
        raise UpdateLawsError(f"Fikk ikke lastet ned {label}: {reason}.") from exc
    say(f"Lastet ned {size / 1e6:.1f} MB.")
    return dest, digest.hexdigest()


def _read_archive(path: Path, wanted: set[str], label: str) -> dict[str, tuple[str, bytes]]:
    """Read the wanted members into memory: law id -> (Lovdata file name, bytes)."""
    found: dict[str, tuple[str, bytes]] = {}
    unpacked = 0
    try:
        with tarfile.open(path, mode="r:*") as tar:
            for count, member in enumerate(tar, start=1):
                unpacked += member.size
                if count > MAX_MEMBERS or unpacked > MAX_UNPACKED_BYTES:
                    raise UpdateLawsError(f"{label} er urimelig stort ({count} filer, {unpacked} byte).")
                name = PurePosixPath(member.name).name
                if not _FILE_NAME.fullmatch(name) or (lid := law_id(name)) not in wanted:
                    continue
                where = f"{member.name} i {label}"
                if not member.isreg():
                    raise UpdateLawsError(f"{where} er en lenke eller spesialfil, ikke en vanlig fil.")
                if member.name.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", member.name):
                    raise UpdateLawsError(f"{where} har en usikker sti.")
                if member.size > MAX_MEMBER_BYTES:
                    raise UpdateLawsError(f"{where} er urimelig stor ({member.size} byte).")
                if lid in found:
                    raise UpdateLawsError(f"{label} inneholder {lid} flere ganger.")
                handle = tar.extractfile(member)
                data = handle.read(MAX_MEMBER_BYTES + 1) if handle else b""
                if len(data) != member.size:
                    raise UpdateLawsError(f"{where} er ufullstendig.")
                found[lid] = (name, data)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise UpdateLawsError(f"{label} er ikke et lesbart .tar.bz2-arkiv ({exc}).") from exc
    return found


def _validate(lid: str, name: str, data: bytes, label: str, archive_sha: str) -> _Doc:
    """Check that a member is a current Lovdata document of the expected law; return it with metadata."""
    problem = f"{name} i {label} er ikke en gyldig Lovdata-fil:"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise UpdateLawsError(f"{problem} ikke velformet XML ({exc}).") from None

    def field_text(css_class: str) -> str:
        cells = root.xpath(f"//*[local-name()='dd'][{_CLASS.format(css_class)}]")
        return " ".join("".join(cells[0].itertext()).split()) if cells else ""

    if not root.xpath(f"boolean(//*[{_CLASS.format('legalArticle')}])"):
        raise UpdateLawsError(f"{problem} den har ingen paragrafer (legalArticle).")
    dokid = field_text("dokid")
    expected = "NL/" if name.startswith("nl-") else "SF/"
    if not dokid.startswith(expected):
        raise UpdateLawsError(f"{problem} DokumentID «{dokid}» er ikke gjeldende tekst ({expected}).")
    if _law_id_or_none(dokid) != lid:
        raise UpdateLawsError(f"{problem} DokumentID «{dokid}» hører ikke til {lid}.")
    title, last_change = field_text("title"), field_text("lastChangeInForce")
    return _Doc(lid, name, data, dokid, title, last_change, label, archive_sha)


def _law_id_or_none(ref: str) -> str | None:
    """law_id(ref), or None when ref is not a Lovdata reference."""
    try:
        return law_id(ref)
    except ValueError:
        return None


def _provenance(path: Path, docs: list[_Doc], retrieved: str) -> str:
    """PROVENANCE.md with its update-laws section refreshed: one row per file, latest update wins."""
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Lovdata legislation texts\n"
    section = re.search(re.escape(_START) + r".*?" + re.escape(_END), text, re.DOTALL)
    rows: dict[str, str] = {}
    for line in section.group(0).splitlines() if section else []:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] not in ("File", "") and not cells[0].startswith("---"):
            rows[cells[0]] = line
    for doc in docs:
        cells = [doc.file_name, doc.title, doc.dokid, doc.last_change, doc.source, doc.archive_sha256,
                 retrieved, str(len(doc.data)), hashlib.sha256(doc.data).hexdigest()]
        rows[doc.file_name] = "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
    block = "\n".join([
        _START,
        "## Updates by `samskap update-laws`",
        "",
        "These files were replaced or added by `samskap update-laws` from Lovdata's public bulk data"
        " (current consolidated texts, `dokid` NL/ or SF/), byte for byte. For these files this table"
        " supersedes any row above. Licence: NLOD 2.0. Attribution: \"" + ATTRIBUTION + "\".",
        "",
        "| File | Law (dd.title) | DokumentID | lastChangeInForce | Source | Archive sha256"
        " | Retrieved (UTC) | Bytes | sha256 |",
        "|---|---|---|---|---|---|---|---|---|",
        *(rows[name] for name in sorted(rows)),
        _END,
    ])
    if section:
        return text[: section.start()] + block + text[section.end():]
    return text.rstrip("\n") + "\n\n" + block + "\n"


def _write_all(folder: Path, files: dict[Path, bytes]) -> None:
    """Stage every file as a temp file in `folder`, then move them all into place with os.replace."""
    staged: list[tuple[str, Path]] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for target, data in files.items():
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
            staged.append((tmp, target))
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, target.stat().st_mode & 0o777 if target.exists() else 0o644)
    except OSError as exc:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise UpdateLawsError(f"Kunne ikke skrive lovfilene til {folder} ({exc}). {_UNTOUCHED}") from exc
    for tmp, target in staged:
        os.replace(tmp, target)
