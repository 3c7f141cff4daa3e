"""Vocabulary comes from the sources: every multi-word cue the advisor or the query matches occurs in the
corpus (thesis, law texts, shipped strategies), or is a reviewed entry of catalogue/synonyms.yaml whose
term does.

Phrases are compared as sequences of Snowball stems of all their words (stopwords kept), so «prøver ut»
finds «prøve ut» but «kan ikke løse alene» does not find «ikke kommunen kan løse alene». The corpus is read
with the ingest loaders (no index, no embedder) once per session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import pytest

from assistant.advisor import name_cues
from assistant.catalogue import Catalogue, load_catalogue
from assistant.ingest import collect
from assistant.query import ENGLISH_GLOSSARY, LAY_TO_LEGAL
from assistant.textproc import stem

from .conftest import CORPUS

_WORD = re.compile(r"\w+")


def stems(text: str) -> str:
    """The stems of every word of a text, space-separated and padded, for whole-word sequence search."""
    return " " + " ".join(stem(_WORD.findall(text.lower()))) + " "


def is_multi_word(phrase: str) -> bool:
    return len(_WORD.findall(phrase)) > 1


@dataclass(frozen=True)
class Corpus:
    passages: dict[str, str]  # cite key -> stems of title and text
    text: str  # every passage, separated so no phrase spans two

    def has(self, phrase: str) -> bool:
        return stems(phrase) in self.text


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    results = collect(CORPUS, max_chars=10**9, overlap_chars=0)
    passages = {c.cite_key: stems(f"{c.title}\n{c.text}") for r in results if r.status == "indexed" for c in r.chunks}
    return Corpus(passages, " |".join(passages.values()))


def cues(catalogue: Catalogue) -> list[tuple[str, str]]:
    """(where, phrase) for every phrase matched in questions: feature cues, method signals and name parts,
    legal triggers, fit criteria terms and the English glossary."""
    found = [(f"features.yaml {k}", c) for k, f in catalogue.features.items() for c in f.cues.all()]
    for method in catalogue.methods:
        found += [(f"methods.yaml {method.id}", c) for c in method.signals.all()]
        found += [(f"methods.yaml {method.id} (name)", c) for c in name_cues(method)]
    found += [(f"legal.yaml {e.id}", c) for e in catalogue.legal for c in e.triggers.all()]
    found += [(f"criteria.yaml {k}", c) for k, spec in catalogue.criteria.items() for c in spec.terms.all()]
    found += [("query.ENGLISH_GLOSSARY", c) for c in ENGLISH_GLOSSARY]
    return found


def unsourced(catalogue: Catalogue, corpus: Corpus) -> list[str]:
    """Multi-word cues that are neither in the corpus nor reviewed synonyms of a corpus term."""
    reviewed = catalogue.synonym_terms()
    return [
        f"{where}: «{phrase}»"
        for where, phrase in cues(catalogue)
        if is_multi_word(phrase) and not corpus.has(phrase) and phrase.lower() not in reviewed
    ]


def test_phrases_compare_on_stems_in_order_without_gaps(corpus: Corpus) -> None:
    assert corpus.has("samfunnsfloker")
    assert corpus.has("prøve ut") is False  # the thesis says «teste ut»; synonyms.yaml maps it
    assert corpus.has("tester ut") and corpus.has("teste ut")
    assert corpus.has("kan løse alene") and not corpus.has("kan ikke løse alene")


def test_every_multi_word_cue_occurs_in_the_corpus_or_is_a_reviewed_synonym(corpus: Corpus) -> None:
    catalogue = load_catalogue()
    assert len([c for _, c in cues(catalogue) if is_multi_word(c)]) > 400
    assert unsourced(catalogue, corpus) == []


def test_a_cue_copied_from_a_question_fails(corpus: Corpus) -> None:
    catalogue = load_catalogue()
    features = dict(catalogue.features)
    planning = features["planning"]
    planted = planning.cues.model_copy(update={"nb": [*planning.cues.nb, "ingen har hele bildet"]})
    features["planning"] = planning.model_copy(update={"cues": planted})
    planted_catalogue = replace(catalogue, features=features)
    assert unsourced(planted_catalogue, corpus) == ["features.yaml planning: «ingen har hele bildet»"]


def test_every_synonym_term_occurs_where_its_note_points(corpus: Corpus) -> None:
    synonyms = load_catalogue().synonyms
    assert len(synonyms) > 100
    for entry in synonyms:
        assert entry.note in corpus.passages, f"synonyms.yaml «{entry.term}»: unknown cite key {entry.note}"
        assert stems(entry.term) in corpus.passages[entry.note], f"«{entry.term}» is not used in {entry.note}"
        assert entry.cues, entry.term


def test_synonym_cues_are_needed(corpus: Corpus) -> None:
    """A reviewed cue that occurs in the corpus itself needs no entry (keeps the file to what needs review)."""
    in_corpus = [c for s in load_catalogue().synonyms for c in s.cues if corpus.has(c)]
    assert in_corpus == []


def test_expansion_words_are_corpus_words(corpus: Corpus) -> None:
    """The Norwegian words the query adds (English glossary, lay-to-legal terms) are words of the corpus."""
    words = {w for text in corpus.passages.values() for w in text.split()}
    targets = [*ENGLISH_GLOSSARY.values(), *(terms for _, terms in LAY_TO_LEGAL)]
    assert [w for t in targets for w in stems(t).split() if w not in words] == []
