"""The typed catalogue: small YAML folders load into models, a bad key names file, entry and field, and the
shipped catalogue agrees with the corpus it cites (quotes, headings, no names as cues)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from assistant.catalogue import CatalogueError, Claim, Cues, Statement, load_catalogue
from assistant.ingest import collect
from assistant.ingest.base import Chunk

from .conftest import CORPUS, ROOT

METHODS = """\
- id: living_lab
  name: {nb: "Living lab", en: "Living lab"}
  summary: {nb: "Et rom for utprøving.", en: "A space for trials.", cites: [thesis/2.4.3]}
  fits_when:
    - {nb: "Et sammensatt problem.", en: "A complex problem.", cites: [thesis/5.1]}
  signals: {nb: [bylab], en: [city lab]}
  evidence: [thesis/2.4.3]
"""
LEGAL = """\
- id: task_committee_as_utvalg
  topic: {nb: "Oppgaveutvalg", en: "Task committee"}
  methods: [living_lab]
  statements:
    - kind: kan
      nb: "Kommunestyret kan opprette utvalg."
      en: "The council may set up committees."
      cite: lov/2018-06-22-83/§5-7
      quote: "Kommunestyret og fylkestinget kan selv opprette utvalg"
"""
FEATURES = """\
authority:
  cues: {nb: [byggesak], en: [building permit]}
  reason: {nb: "Myndighetsutøvelse.", en: "Exercise of authority.", cites: [thesis/5.1]}
citizens:
  cues: {nb: [innbyggere], en: [residents]}
"""
CRITERIA = """\
authority:
  label: {nb: "Myndighet", en: "Authority"}
  met: {nb: "Ja.", en: "Yes.", cites: [thesis/5.1]}
  not_met: {nb: "Nei.", en: "No.", cites: [thesis/5.1]}
  unknown: {nb: "Ukjent.", en: "Unknown.", cites: [thesis/5.1]}
"""
SYNONYMS = """\
- term: bylab
  note: thesis/2.4.3
  cues: [city lab]
"""


def folder(
    tmp_path: Path, methods: str = METHODS, legal: str = LEGAL, features: str = FEATURES, synonyms: str = SYNONYMS,
    criteria: str = CRITERIA,
) -> Path:
    files = (("methods.yaml", methods), ("legal.yaml", legal), ("features.yaml", features), ("synonyms.yaml", synonyms),
             ("criteria.yaml", criteria))
    for name, text in files:
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def problems(directory: Path) -> list[str]:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(directory)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def test_a_small_folder_loads_with_empty_lists_where_keys_are_absent(tmp_path: Path) -> None:
    catalogue = load_catalogue(folder(tmp_path))
    method = catalogue.method("living_lab")
    assert method.fits_when == [Claim(nb="Et sammensatt problem.", en="A complex problem.", cites=["thesis/5.1"])]
    assert (method.not_when, method.steps, method.org_caveats, method.legal_caveats) == ([], [], [], [])
    assert method.name.text("en") == "Living lab" and method.signals.all() == ["bylab", "city lab"]
    entry = catalogue.legal_entry("task_committee_as_utvalg")
    assert entry.triggers == Cues() and entry.open_questions == [] and entry.thesis_vs_law is None
    assert entry.statements[0].kind == "kan" and entry.statements[0].amendment_note is None
    assert list(catalogue.features) == ["authority", "citizens"]
    assert catalogue.features["citizens"].reason is None
    assert catalogue.criteria["authority"].question is None and catalogue.criteria["authority"].terms == Cues()
    assert catalogue.synonym_terms() == {"city lab": "bylab"}
    assert catalogue.cite_keys() == {"thesis/2.4.3", "thesis/5.1", "lov/2018-06-22-83/§5-7"}


def test_a_misspelled_field_names_file_entry_and_field(tmp_path: Path) -> None:
    directory = folder(tmp_path, methods=METHODS.replace("fits_when:", "fits_whenn:"))
    assert problems(directory) == ["methods.yaml, oppføring «living_lab»: feltet «fits_whenn» er ukjent"]


def test_a_missing_required_field_names_file_entry_and_field(tmp_path: Path) -> None:
    directory = folder(tmp_path, legal=LEGAL.replace('  topic: {nb: "Oppgaveutvalg", en: "Task committee"}\n', ""))
    assert problems(directory) == ["legal.yaml, oppføring «task_committee_as_utvalg»: feltet «topic» mangler"]


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        # nested fields: positions in lists count from 1
        ("legal", '      quote: "Kommunestyret og fylkestinget kan selv opprette utvalg"\n', "",
         "legal.yaml, oppføring «task_committee_as_utvalg»: feltet «statements[1].quote» mangler"),
        ("methods", "cites: [thesis/5.1]}", "citess: [thesis/5.1]}",
         "methods.yaml, oppføring «living_lab»: feltet «fits_when[1].citess» er ukjent"),
        ("legal", "kind: kan", "kind: kanskje",
         "legal.yaml, oppføring «task_committee_as_utvalg»: feltet «statements[1].kind» må være en av "
         "'skal', 'kan', 'kan_ikke', 'krever_hjemmel' eller 'merk', ikke «kanskje»"),
        ("methods", "evidence: [thesis/2.4.3]", "evidence: thesis/2.4.3",
         "methods.yaml, oppføring «living_lab»: feltet «evidence» må være en liste"),
        # an entry without an id is named by its position
        ("methods", "- id: living_lab\n", "- ident: living_lab\n",
         "methods.yaml, oppføring nr. 1: feltet «id» mangler\n"
         "methods.yaml, oppføring nr. 1: feltet «ident» er ukjent"),
        ("features", "  cues: {nb: [innbyggere], en: [residents]}", "  cue: {nb: [innbyggere], en: [residents]}",
         "features.yaml, oppføring «citizens»: feltet «cues» mangler\n"
         "features.yaml, oppføring «citizens»: feltet «cue» er ukjent"),
        # a synonym entry is named by its term; a cue maps to one term only
        ("synonyms", "  note: thesis/2.4.3\n", "",
         "synonyms.yaml, oppføring «bylab»: feltet «note» mangler"),
        ("synonyms", "  cues: [city lab]\n", "  cues: [city lab]\n- {term: laben, note: thesis/2.4.3, cues: [city lab]}\n",
         "synonyms.yaml: «city lab» peker både på «bylab» og «laben»"),
    ],
)
def test_each_problem_is_named_in_norwegian(tmp_path: Path, file: str, old: str, new: str, expected: str) -> None:
    texts = {"methods": METHODS, "legal": LEGAL, "features": FEATURES, "synonyms": SYNONYMS}
    assert texts[file].count(old) == 1
    texts[file] = texts[file].replace(old, new)
    assert "\n".join(problems(folder(tmp_path, **texts))) == expected


def test_problems_in_several_files_are_reported_together(tmp_path: Path) -> None:
    directory = folder(
        tmp_path,
        methods=METHODS.replace("summary:", "sumary:"),
        legal="- id: x\n  topic: [unclosed\n",
        features="[authority, citizens]\n",
    )
    found = problems(directory)
    assert len(found) == 4 and found[2].startswith("legal.yaml: ugyldig YAML (linje 3)")
    assert [found[0], found[1], found[3]] == [
        "methods.yaml, oppføring «living_lab»: feltet «summary» mangler",
        "methods.yaml, oppføring «living_lab»: feltet «sumary» er ukjent",
        "features.yaml: filen må være en tabell med én oppføring per egenskap (navn: innhold)",
    ]


# --- The shipped catalogue against the shipped corpus --------------------------------------------------
# Loaders only (no embedder), so these run in the fast suite. Sections are read unsplit, so a quote may
# span what the index would store as two chunks.

NAMES = Path(__file__).with_name("proper_names.yaml")


def _norm(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def sections() -> dict[str, Chunk]:
    """Every indexed cite key of the shipped corpus -> its passage (law versions chosen as ingest does)."""
    results = collect(CORPUS, max_chars=10**9, overlap_chars=0)
    return {c.cite_key: c for r in results if r.status == "indexed" for c in r.chunks}


def _claims(node: object, path: str) -> Iterator[tuple[str, Claim]]:
    """Every Claim in a catalogue node with its path (for messages)."""
    if isinstance(node, Claim):
        yield path, node
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _claims(getattr(node, name), f"{path}.{name}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _claims(item, f"{path}[{i}]")


def _all_claims() -> list[tuple[str, Claim]]:
    catalogue = load_catalogue()
    found = [claim for m in catalogue.methods for claim in _claims(m, m.id)]
    found += [claim for e in catalogue.legal for claim in _claims(e, e.id)]
    found += [(f"features.{k}.reason", f.reason) for k, f in catalogue.features.items() if f.reason]
    return found


def _own_text(passage: str) -> str:
    """A thesis section without its heading line and without sentences that only ask a question."""
    body = passage.split("\n", 1)[1] if "\n" in passage else ""
    sentences = re.split(r"(?<=[.!?])\s+", _norm(body))
    return " ".join(s for s in sentences if s and not s.endswith("?"))


def heading_only(sections: dict[str, Chunk]) -> set[str]:
    """Thesis sections whose own text is only their heading (or the research question restated)."""
    return {k for k, c in sections.items() if k.startswith("thesis/") and len(_own_text(c.text)) < 20}


def test_legal_quotes_and_amendment_notes_occur_in_the_cited_paragraph(sections: dict[str, Chunk]) -> None:
    for entry in load_catalogue().legal:
        for statement in entry.statements:
            chunk = sections[statement.cite]
            assert _norm(statement.quote) in _norm(chunk.text), (entry.id, statement.cite)
            if statement.amendment_note:
                notes = [_norm(n) for n in chunk.amendments]
                assert any(_norm(statement.amendment_note) in n for n in notes), (entry.id, statement.cite)


def test_every_method_claim_step_and_caveat_has_a_quote(sections: dict[str, Chunk]) -> None:
    for method in load_catalogue().methods:
        for path, claim in _claims(method, method.id):
            assert claim.quote, f"{path} has no quote"


def test_every_claim_quote_occurs_in_a_cited_section(sections: dict[str, Chunk]) -> None:
    claims = _all_claims()
    assert len(claims) > 200
    for path, claim in claims:
        if claim.quote is None:
            continue
        texts = [_norm(sections[k].text) for k in claim.cites if k in sections]
        assert any(_norm(claim.quote) in t for t in texts), f"{path}: quote not in {claim.cites}"


def test_heading_only_sections_are_recognised(sections: dict[str, Chunk]) -> None:
    assert heading_only(sections) == {
        "thesis/2.5", "thesis/4.1", "thesis/4.1.5", "thesis/4.2", "thesis/4.2.2", "thesis/4.3", "thesis/7"
    }


def test_no_claim_reason_or_evidence_cites_a_heading_only_section(sections: dict[str, Chunk]) -> None:
    empty = heading_only(sections)
    for path, claim in _all_claims():
        assert not set(claim.cites) & empty, f"{path} cites {sorted(set(claim.cites) & empty)}"
    for method in load_catalogue().methods:
        assert not set(method.evidence) & empty, method.id
    # the advisor's own fit reasons (inline Reason objects) cite sections too
    advisor = (ROOT / "assistant" / "advisor.py").read_text(encoding="utf-8")
    inline = set(re.findall(r"[\"'](thesis/[\w.]+)[\"']", advisor))
    assert inline and not inline & empty, sorted(inline & empty)


def _looks_like_a_name(cue: str, thesis: str, lowered: str = "") -> bool:
    """True when the thesis mostly capitalises the cue inside sentences, as it does names."""
    if cue.lower() not in (lowered or thesis.lower()):
        return False
    pattern = re.compile(r"(?<![\wæøå])" + re.escape(cue) + r"(?![\wæøå])", re.IGNORECASE)
    capital = lower = 0
    for match in pattern.finditer(thesis):
        before = thesis[max(0, match.start() - 4) : match.start()]
        if re.search(r"(?:^|\n|[.!?:;»\"•–-])[ \t]*$", before):
            continue  # a sentence, line or list item starts here: capitals say nothing
        if match.group(0)[0].isupper():
            capital += 1
        else:
            lower += 1
    return capital > 0 and capital >= lower


def test_no_signal_trigger_or_cue_is_the_name_of_a_project_or_organisation(sections: dict[str, Chunk]) -> None:
    reviewed = yaml.safe_load(NAMES.read_text(encoding="utf-8"))
    thesis = "\n".join(c.text for k, c in sections.items() if k.startswith("thesis/"))
    names = [n["name"] for n in reviewed["names"]]
    missing = [n for n in names if n not in thesis]
    assert missing == [], "names in proper_names.yaml must be written as the thesis writes them"
    denied = [re.compile(r"(?<![\wæøå])" + re.escape(n.lower()) + r"(?![\wæøå])")
              for entry in reviewed["names"] for n in [entry["name"], *entry.get("variants", [])]]
    terms = {t["term"] for t in reviewed["terms"]}
    catalogue = load_catalogue()
    cues = [(f"legal {e.id}", c) for e in catalogue.legal for c in e.triggers.all()]
    cues += [(f"method {m.id}", c) for m in catalogue.methods for c in m.signals.all()]
    cues += [(f"feature {k}", c) for k, f in catalogue.features.items() for c in f.cues.all()]
    named = [(where, cue) for where, cue in cues if any(p.search(cue.lower()) for p in denied)]
    assert named == []
    lowered = thesis.lower()
    capitalised = [(where, cue) for where, cue in cues
                   if cue not in terms and _looks_like_a_name(cue, thesis, lowered)]
    assert capitalised == [], "list a term in proper_names.yaml (terms) only if it is not a name"


def test_the_name_check_catches_the_project_name_that_once_was_a_signal(sections: dict[str, Chunk]) -> None:
    thesis = "\n".join(c.text for k, c in sections.items() if k.startswith("thesis/"))
    assert _looks_like_a_name("den samskapende kommune", thesis)
    assert _looks_like_a_name("telemarkforskning", thesis)
    assert not _looks_like_a_name("samskapingsarena", thesis)


def test_an_inference_is_labelled_as_samskaps_assessment() -> None:
    statement = Statement(nb="x", en="x", kind="merk", cite="lov/2006-05-19-16/§6", quote="q")
    assert statement.basis == "lov"
    assert statement.model_copy(update={"source_note": "Samskaps vurdering: …"}).basis == "vurdering"
    assert Claim(nb="x", en="x", cites=["thesis/2.4.3"]).basis == "forskning"
    assert Claim(nb="x", en="x", cites=["lov/2018-06-22-83/§5-7"]).basis == "lov"
    assert Claim(nb="x", en="x", cites=["thesis/2.4.3"], source_note="…").basis == "vurdering"
    catalogue = load_catalogue()
    inferences = [s for e in catalogue.legal for s in e.statements if s.source_note]
    assert {s.cite for s in inferences} >= {"lov/2006-05-19-16/§6", "lov/2018-06-15-38/§8", "lov/1967-02-10/§2"}


def test_source_notes_only_where_the_answer_does_not_label_the_text_already() -> None:
    # Summaries are shown as research, legal caveats and thesis-vs-law notes always as Samskap's
    # assessment; a source_note there would give the text two labels.
    catalogue = load_catalogue()
    for method in catalogue.methods:
        assert method.summary.source_note is None, method.id
        assert all(c.source_note is None for c in method.legal_caveats), method.id
    for entry in catalogue.legal:
        assert entry.thesis_vs_law is None or entry.thesis_vs_law.source_note is None, entry.id
        # the first statement can be a legal answer's short answer, which carries no label
        assert not entry.statements or entry.statements[0].source_note is None, entry.id


def test_the_entries_a_municipal_lawyer_expects_exist_and_cite_their_paragraphs() -> None:
    catalogue = load_catalogue()
    expected = {
        "citizen_panel": {"§5-1", "§5-2", "§5-3", "§5-4", "§5-7", "§7-4", "§7-6", "§7-7", "§8-3", "§8-4"},
        "impartiality_citizens_partners": {"§6", "§8", "§10"},
        "personal_data_partners": {"gdpr/a6", "gdpr/a13", "gdpr/a26", "gdpr/a28", "gdpr/a35"},
        "records_and_access": {"§10", "§13", "§23"},
    }
    for entry_id, paragraphs in expected.items():
        cites = {s.cite.split("/", 2)[2] for s in catalogue.legal_entry(entry_id).statements}
        assert paragraphs <= cites, (entry_id, sorted(paragraphs - cites))
    # survey questions go to the personal-data entries, not to advisory referendums (§ 12-2)
    assert "spørreundersøkelse" in catalogue.legal_entry("personal_data_workshops").triggers.nb
    assert not any("undersøk" in t for t in catalogue.legal_entry("advisory_referendum").triggers.all())
