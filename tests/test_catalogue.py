"""The typed catalogue: small YAML folders load into models, and a bad key names file, entry and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.catalogue import CatalogueError, Claim, Cues, load_catalogue

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


def folder(tmp_path: Path, methods: str = METHODS, legal: str = LEGAL, features: str = FEATURES) -> Path:
    for name, text in (("methods.yaml", methods), ("legal.yaml", legal), ("features.yaml", features)):
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
    ],
)
def test_each_problem_is_named_in_norwegian(tmp_path: Path, file: str, old: str, new: str, expected: str) -> None:
    texts = {"methods": METHODS, "legal": LEGAL, "features": FEATURES}
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
