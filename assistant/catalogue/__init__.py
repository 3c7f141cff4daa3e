"""The curated catalogue (methods.yaml, legal.yaml, features.yaml, criteria.yaml, synonyms.yaml in this folder), typed and validated at load.

Every entry kind is a pydantic model that forbids unknown keys, so a misspelled key in a YAML file
fails when the catalogue is loaded, with a Norwegian message naming the file, the entry and the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from ..answer import Basis, Lang

CATALOGUE_DIR = Path(__file__).parent

StatementKind = Literal["skal", "kan", "kan_ikke", "krever_hjemmel", "merk"]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bilingual(_Entry):
    """A text in bokmål and English (names, topics, open questions)."""

    nb: str
    en: str

    def text(self, lang: Lang) -> str:
        return self.nb if lang == "nb" else self.en


class Claim(Bilingual):
    """A statement the advisor may show, with the thesis sections or law paragraphs it rests on.

    `quote` is an exact passage of one cited section that supports the claim; `source_note` marks the
    claim as Samskap's own inference from the sources (shown as «Samskaps vurdering») and says why.
    """

    cites: list[str] = []
    quote: str | None = None
    source_note: str | None = None

    @property
    def basis(self) -> Basis:
        """What the claim rests on: Samskap's inference, the law (only law cites) or the research."""
        if self.source_note:
            return "vurdering"
        if self.cites and all(c.startswith(("lov/", "forskrift/")) for c in self.cites):
            return "lov"
        return "forskning"


class LegalCaveat(Claim):
    """A legal point of a method, pointing at the legal.yaml entries that treat it."""

    legal: list[str] = []


class Cues(_Entry):
    """Lowercase phrases that point to an entry in a question (matching aids, not claims)."""

    nb: list[str] = []
    en: list[str] = []

    def all(self) -> list[str]:
        return [*self.nb, *self.en]


class Method(_Entry):
    """A co-creation method (methods.yaml); ids are those of CONTRACTS.md §2."""

    id: str
    name: Bilingual
    summary: Claim
    fits_when: list[Claim] = []
    not_when: list[Claim] = []
    steps: list[Claim] = []
    org_caveats: list[Claim] = []
    legal_caveats: list[LegalCaveat] = []
    signals: Cues = Cues()
    evidence: list[str] = []  # thesis sections whose retrieval supports the method


class Statement(Bilingual):
    """What one law paragraph says, with an exact quote of its text."""

    kind: StatementKind
    cite: str
    quote: str
    amendment_note: str | None = None
    source_note: str | None = None  # set when the statement is Samskap's inference, not the text's words

    @property
    def basis(self) -> Basis:
        """«Samskaps vurdering» for an inference, else the law."""
        return "vurdering" if self.source_note else "lov"


class LegalEntry(_Entry):
    """A legal topic (legal.yaml): the paragraphs that govern it and what the thesis says about it."""

    id: str
    topic: Bilingual
    methods: list[str] = []
    triggers: Cues = Cues()
    statements: list[Statement] = []
    thesis_vs_law: Claim | None = None
    open_questions: list[Bilingual] = []


class Facts(_Entry):
    """The sentences an answer to a clarifying question adds to the case (criteria.yaml)."""

    met: Bilingual
    not_met: Bilingual
    unknown: Bilingual


class FitCriterion(_Entry):
    """A criterion of the fit verdict (criteria.yaml): how it is recognised, asked about and explained."""

    label: Bilingual
    describe: Cues = Cues()  # descriptions compared with the case by meaning
    terms: Cues = Cues()  # corpus words that show it outright
    hints: Cues = Cues()  # words that show it only when the case as a whole reads like it
    design: Cues = Cues()  # words of designing what the decisions are made under (authority only)
    consult: Cues = Cues()  # words of asking others for input only (complex only: they hold no part then)
    question: Bilingual | None = None  # asked when it decides and is unknown
    options: Cues = Cues()
    facts: Facts | None = None
    met: Claim
    not_met: Claim
    unknown: Claim


class Feature(_Entry):
    """A case feature (features.yaml), with the reason the fit verdict gives when it decides."""

    cues: Cues
    reason: Claim | None = None


class Synonym(_Entry):
    """A reviewed mapping (synonyms.yaml): cue words that are not in the corpus, and the corpus term they mean.

    `note` is the cite key of a thesis section or law paragraph where the term is used.
    """

    term: str
    note: str
    cues: list[str]


@dataclass(frozen=True)
class Catalogue:
    methods: list[Method]
    legal: list[LegalEntry]
    features: dict[str, Feature]  # in file order
    criteria: dict[str, FitCriterion]  # in file order
    synonyms: list[Synonym] = field(default_factory=list)

    def method(self, method_id: str) -> Method:
        return next(m for m in self.methods if m.id == method_id)

    def legal_entry(self, entry_id: str) -> LegalEntry:
        return next(e for e in self.legal if e.id == entry_id)

    def cite_keys(self) -> set[str]:
        """Every cite key the catalogue points at (checked against the index by a test)."""
        return set(_cite_keys([self.methods, self.legal, list(self.features.values()), list(self.criteria.values()),
                               self.synonyms]))

    def synonym_terms(self) -> dict[str, str]:
        """Each reviewed cue (lower-cased) -> the corpus term it maps to."""
        return {cue.lower(): s.term for s in self.synonyms for cue in s.cues}


def _cite_keys(node: object) -> Iterator[str]:
    if isinstance(node, Claim):
        yield from node.cites
    elif isinstance(node, Statement):
        yield node.cite
    elif isinstance(node, Method):
        yield from node.evidence
    elif isinstance(node, Synonym):
        yield node.note
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _cite_keys(getattr(node, name))
    elif isinstance(node, list):
        for item in node:
            yield from _cite_keys(item)


class CatalogueError(ValueError):
    """The catalogue files do not match the models; `problems` has one line per error."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@lru_cache(maxsize=1)
def load_catalogue(directory: Path = CATALOGUE_DIR) -> Catalogue:
    """Read and validate methods.yaml, legal.yaml, features.yaml, criteria.yaml and synonyms.yaml in `directory`.

    CatalogueError lists every problem.
    """
    problems: list[str] = []
    methods = _entry_list(directory, "methods.yaml", Method, problems)
    legal = _entry_list(directory, "legal.yaml", LegalEntry, problems)
    features = _entry_map(directory, "features.yaml", Feature, problems)
    criteria = _entry_map(directory, "criteria.yaml", FitCriterion, problems)
    synonyms = _entry_list(directory, "synonyms.yaml", Synonym, problems)
    _check_synonyms(synonyms, problems)
    if problems:
        raise CatalogueError(problems)
    return Catalogue(methods, legal, features, criteria, synonyms)


def _check_synonyms(synonyms: list[Synonym], problems: list[str]) -> None:
    """A cue maps to one term only."""
    seen: dict[str, str] = {}
    for entry in synonyms:
        for cue in entry.cues:
            key = cue.lower()
            if key in seen and seen[key] != entry.term:
                problems.append(f"synonyms.yaml: «{cue}» peker både på «{seen[key]}» og «{entry.term}»")
            seen.setdefault(key, entry.term)


M = TypeVar("M", bound=BaseModel)


def _read(directory: Path, name: str, problems: list[str]) -> Any:
    try:
        return yaml.safe_load((directory / name).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (linje {mark.line + 1})" if mark is not None else ""
        problems.append(f"{name}: ugyldig YAML{where}: {getattr(exc, 'problem', None) or exc}")
        return None


def _entry_list(directory: Path, name: str, model: type[M], problems: list[str]) -> list[M]:
    before = len(problems)
    raw = _read(directory, name, problems)
    if not isinstance(raw, list):
        if len(problems) == before:  # not already reported as invalid YAML
            problems.append(f"{name}: filen må være en liste av oppføringer")
        return []
    entries: list[M] = []
    for position, item in enumerate(raw, start=1):
        named = (item.get("id") or item.get("term")) if isinstance(item, dict) else None
        label = f"«{named}»" if isinstance(named, str) and named else f"nr. {position}"
        entry = _validate(model, item, f"{name}, oppføring {label}", problems)
        if entry is not None:
            entries.append(entry)
    return entries


def _entry_map(directory: Path, name: str, model: type[M], problems: list[str]) -> dict[str, M]:
    before = len(problems)
    raw = _read(directory, name, problems)
    if not isinstance(raw, dict):
        if len(problems) == before:  # not already reported as invalid YAML
            problems.append(f"{name}: filen må være en tabell med én oppføring per egenskap (navn: innhold)")
        return {}
    entries: dict[str, M] = {}
    for key, item in raw.items():
        entry = _validate(model, item, f"{name}, oppføring «{key}»", problems)
        if entry is not None:
            entries[str(key)] = entry
    return entries


def _validate(model: type[M], raw: object, where: str, problems: list[str]) -> M | None:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems.extend(f"{where}: {_describe(error)}" for error in exc.errors())
        return None


_EXPECTED = {
    "string_type": "må være tekst",
    "list_type": "må være en liste",
    "model_type": "må være en tabell med felt (navn: verdi)",
    "model_attributes_type": "må være en tabell med felt (navn: verdi)",
    "dict_type": "må være en tabell med felt (navn: verdi)",
}


def _describe(error: ErrorDetails) -> str:
    """One pydantic error in Norwegian: the field (positions in lists count from 1) and what is wrong."""
    path = ""
    for part in error["loc"]:
        path += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    kind = error["type"]
    if not path:
        return "oppføringen " + _EXPECTED.get(kind, f"er ugyldig ({error['msg']})")
    if kind == "missing":
        return f"feltet «{path}» mangler"
    if kind == "extra_forbidden":
        return f"feltet «{path}» er ukjent"
    if kind == "literal_error":
        expected = str(error.get("ctx", {}).get("expected", "")).replace(" or ", " eller ")
        return f"feltet «{path}» må være en av {expected}, ikke «{error['input']}»"
    return f"feltet «{path}» " + _EXPECTED.get(kind, f"er ugyldig ({error['msg']})")
