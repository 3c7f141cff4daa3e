"""When each law text in the corpus was fetched, read from the provenance files beside it.

`laws/PROVENANCE.md` holds a table between the markers FETCHED_START and FETCHED_END with one row per
law file (path relative to `laws/`) and the date its text was fetched: `2026-07-24` (known),
`~2025-11-06` (about that day) or `2025-06-20/2026-11-30` (not known; not before the first date and
not after the second). `update-laws` records each file it writes, with the UTC time it was retrieved,
between UPDATES_START and UPDATES_END in `laws/lovdata/PROVENANCE.md`; such a row wins, being newer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FETCHED_START, FETCHED_END = "<!-- fetched:start -->", "<!-- fetched:end -->"
UPDATES_START, UPDATES_END = "<!-- update-laws:start -->", "<!-- update-laws:end -->"

_DATE = r"\d{4}-\d{2}-\d{2}"
_WHEN = re.compile(rf"(?P<about>~)?(?P<first>{_DATE})(?:/(?P<last>{_DATE}))?")


@dataclass(frozen=True)
class Fetched:
    """The date a law text was fetched: exact, about (`approximate`), or a range (`earliest`..`date`)."""

    date: str  # ISO; the latest possible date when `earliest` is set
    earliest: str = ""
    approximate: bool = False

    def label(self, lang: str = "nb") -> str:
        """'hentet 24.07.2026', 'hentet ca. 06.11.2025', 'hentet mellom 20.06.2025 og 30.11.2026'."""
        en = lang == "en"
        if self.earliest:
            return (f"fetched between {_dmy(self.earliest)} and {_dmy(self.date)}" if en
                    else f"hentet mellom {_dmy(self.earliest)} og {_dmy(self.date)}")
        if self.approximate:
            return f"fetched about {_dmy(self.date)}" if en else f"hentet ca. {_dmy(self.date)}"
        return f"fetched {_dmy(self.date)}" if en else f"hentet {_dmy(self.date)}"


def _dmy(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{day}.{month}.{year}"


def parse_fetched(value: str) -> Fetched | None:
    """`2026-07-24`, `~2025-11-06`, `2025-06-20/2026-11-30` or a UTC time `2026-12-02T08:00:00Z`."""
    match = _WHEN.fullmatch(value.strip()) or _WHEN.match(value.strip())
    if not match:
        return None
    if match["last"]:
        return Fetched(match["last"], earliest=match["first"])
    return Fetched(match["first"], approximate=bool(match["about"]))


def fetch_dates(corpus_dir: Path) -> dict[str, Fetched]:
    """Corpus-relative law file path ('laws/lovdata/nl-19670210-000.xml') -> when its text was fetched."""
    laws = Path(corpus_dir) / "laws"
    found: dict[str, Fetched] = {}
    for cells in _rows(laws / "PROVENANCE.md", FETCHED_START, FETCHED_END):
        when = parse_fetched(cells[1]) if len(cells) > 1 else None
        if when:
            found[f"laws/{cells[0].strip('`')}"] = when
    # update-laws rows: File | Law | DokumentID | lastChangeInForce | Source | Archive sha256 | Retrieved (UTC) | …
    for cells in _rows(laws / "lovdata" / "PROVENANCE.md", UPDATES_START, UPDATES_END):
        when = parse_fetched(cells[6]) if len(cells) > 6 else None
        if when:
            found[f"laws/lovdata/{cells[0]}"] = when
    return found


def _rows(path: Path, start: str, end: str) -> list[list[str]]:
    """The data rows of the Markdown table between two markers (header and rule rows left out)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    section = re.search(re.escape(start) + r"(.*?)" + re.escape(end), text, re.DOTALL)
    rows = []
    for line in section.group(1).splitlines() if section else []:
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]  # "\|" is a literal |
        if cells[0].lower() in ("file", "") or set(cells[0]) <= set("-: "):
            continue
        rows.append(cells)
    return rows
