"""Retrieval: query analysis (compounds, nynorsk, English, named paragraphs), direct lookup on the
shipped corpus, the cross-encoder reranker and the LangChain retriever."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.index import Index
from assistant.lookup import find_references
from assistant.query import EXPANSIONS, analyze, detect_language, is_fit_question, keyword_terms, translate
from assistant.retrieve import CrossEncoderReranker, RerankerError, Retriever, Tuning, heading_only
from assistant.textproc import BM25Index, Decompounder, stem, tokenize

KOML = "lov/2018-06-22-83"
FVL = "lov/1967-02-10"
OFFL = "lov/2006-05-19-16"
PBL = "lov/2008-06-27-71"


# --- decompounding and keyword terms on small data -------------------------------------------


def test_decompounder_splits_into_known_words() -> None:
    known = ["oppgave", "utvalg", "barnehage", "plass", "samskaping", "arena", "kommune", "styre", "medlemmer"]
    split = Decompounder(known).split
    assert split("oppgaveutvalg") == ["oppgave", "utvalg"]
    assert split("barnehageplass") == ["barnehage", "plass"]
    assert split("samskapingsarena") == ["samskaping", "arena"]  # linking -s
    assert split("utvalg") == []  # a known word on its own is no compound
    assert split("plassering") == []  # "ering" is no known word
    assert split("kom") == []


def test_decompounder_prefers_balanced_splits_and_splits_long_parts_again() -> None:
    split = Decompounder(["kommune", "kommunestyre", "styre", "medlemmer", "styremedlemmer"]).split
    # kommunestyre|medlemmer (9 letters in the shorter part) beats kommune|styremedlemmer (7)
    assert split("kommunestyremedlemmer") == ["kommunestyre", "kommune", "styre", "medlemmer"]


def test_decompounder_learns_words_seen_in_two_documents() -> None:
    docs = [["oppgave", "utvalg"], ["oppgave", "utvalg", "sjelden"], ["og"]]
    learned = Decompounder.from_documents(docs)
    assert {"oppgave", "utvalg"} <= learned.known
    assert "sjelden" not in learned.known  # one document only
    assert "og" not in learned.known  # stopword


def test_tokenize_appends_compound_parts() -> None:
    compounds = Decompounder(["oppgave", "utvalg"])
    assert tokenize("oppgaveutvalg") == stem(["oppgaveutvalg"])
    assert tokenize("oppgaveutvalg", compounds) == stem(["oppgaveutvalg", "oppgave", "utvalg"])


def test_bm25_matches_compounds_both_ways() -> None:
    texts = [
        "Kommunestyret kan opprette utvalg for en oppgave.",
        "Et oppgaveutvalg er en midlertidig komité med innbyggere.",
        "Barnehagen har ledig plass for barn.",
        "Utvalg og oppgave i barnehagen.",
    ]
    index = BM25Index.build(texts)
    assert index.compounds is not None and index.compounds.split("oppgaveutvalg") == ["oppgave", "utvalg"]
    # the word finds the compound (parts indexed with the chunk) …
    assert 1 in [pos for pos, _ in index.top("utvalg", 4)]
    # … and the compound finds the word (parts added to the query)
    terms = keyword_terms("oppgaveutvalg", "nb", index.compounds)
    assert terms[stem(["utvalg"])[0]] == 0.5
    assert 0 in [pos for pos, _ in index.top(terms, 4)]
    assert index.doc_freq(stem(["utvalg"])[0]) == 3


def test_weighted_terms_scale_bm25_scores() -> None:
    index = BM25Index.build(["innsyn i dokument", "dokument om plan", "plan og bygg"])
    term = stem(["dokument"])[0]
    single, double = index.term_scores({term: 1.0}), index.term_scores({term: 2.0})
    assert double == pytest.approx(2 * single)
    assert index.scores("dokument") == pytest.approx(single)


def test_nynorsk_and_bokmal_forms_search_each_other() -> None:
    bokmal = keyword_terms("saksforberedelse i virksomheten", "nb")
    nynorsk = keyword_terms("saksførebuing i verksemda", "nb")
    for word in ("saksførebuing", "verksemd"):
        assert stem([word])[0] in bokmal
    for word in ("saksforberedelse", "virksomhet"):
        assert stem([word])[0] in nynorsk
    # offentleglova's headings: "Opplysningar som er underlagde teieplikt", "Unntak av omsyn til …"
    terms = keyword_terms("en søker, taushetsplikt og hensyn", "nb")
    assert {stem([w])[0] for w in ("teieplikt", "omsyn", "søkjar")} <= set(terms)


def test_english_glossary_expands_only_english_questions() -> None:
    assert detect_language("Can the municipal council set up a committee?") == "en"
    assert detect_language("Kan kommunestyret opprette et utvalg?") == "nb"
    assert translate("Can the municipal council set up a committee?") == "kommunestyret utvalg"
    terms = keyword_terms("Can the municipal council set up a committee?", "en")
    assert stem(["utvalg"])[0] in terms and stem(["kommunestyret"])[0] in terms
    plain = keyword_terms("Can the municipal council set up a committee?", "en", expansions=())
    assert stem(["utvalg"])[0] not in plain
    assert set(EXPANSIONS) == {"compounds", "nynorsk", "english", "lay_legal"}


def test_lay_words_add_the_statutory_term() -> None:
    terms = keyword_terms("Kan broren til saksbehandleren forberede saken?", "nb")
    assert stem(["ugild"])[0] in terms and stem(["inhabil"])[0] in terms


def test_analyze_finds_named_paragraphs_and_laws() -> None:
    keys = [f"{KOML}/§5-7", f"{KOML}/§11-5", f"{PBL}/§5-7", f"{FVL}/§6", f"{OFFL}/§14"]
    assert analyze("koml. 5-7", keys).keys == [f"{KOML}/§5-7"]
    assert analyze("Hva sier kommuneloven § 11-5?", keys).keys == [f"{KOML}/§11-5"]
    assert analyze("fvl. § 6", keys).keys == [f"{FVL}/§6"]
    bare = analyze("Hva sier § 5-7?", keys)
    assert bare.keys == [] and sorted(bare.bare_keys) == [f"{PBL}/§5-7", f"{KOML}/§5-7"]
    named = analyze("Hva sier offentleglova om innsyn?", keys)
    assert named.laws == [OFFL] and named.keys == [] and named.legal
    # a year after a law's name is no paragraph (lookup.py fix)
    assert find_references("Opplæringslova 2023 gjelder fra 2024.") == []
    assert [r.key() for r in find_references("oppll 10-5")] == ["lov/2023-06-09-30/§10-5"]
    # a law named after a paragraph binds to it on the same line only: the link of one law's paragraph
    # is not a paragraph of the law on the next line
    listed = "- Offentleglova § 18 · [lovdata.no](https://lovdata.no/lov/2006-05-19-16/§18)\n- Kommuneloven § 11-13"
    assert [r.law_id for r in find_references(listed)] == [OFFL, "", KOML]
    assert [r.key() for r in find_references("§ 5-7 i kommuneloven")] == [f"{KOML}/§5-7"]


def test_fit_questions_get_the_fit_facet() -> None:
    assert is_fit_question("Vi vil samarbeide med frivillige om eldreomsorg. Passer samskaping her?")
    assert is_fit_question("Kan vi behandle byggesøknaden som en samskapingsprosess med naboene?")
    assert is_fit_question("Is co-creation a good fit for cutting emissions?")
    assert not is_fit_question("Hvordan kan innkjøp brukes til å samskape med næringslivet?")
    assert not is_fit_question("Har frivillige i et samskapingsprosjekt taushetsplikt?")
    assert analyze("Passer samskaping her?", []).facets


# --- the shipped corpus --------------------------------------------------------------------------


def keys(retriever: Retriever, query: str, k: int = 5, **filters: Sequence[str]) -> list[str]:
    return [h.key for h in retriever.search(query, k=k, **filters)]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("§ 5-7 i kommuneloven", f"{KOML}/§5-7"),
        ("Hva sier kommuneloven § 11-5 om åpne møter?", f"{KOML}/§11-5"),
        ("koml. 5-7", f"{KOML}/§5-7"),
        ("fvl. § 6", f"{FVL}/§6"),
        ("Kan du sitere offentleglova § 14?", f"{OFFL}/§14"),
        ("offentlighetsloven § 14", f"{OFFL}/§14"),
        ("pbl § 5-1", f"{PBL}/§5-1"),
        ("fvl § 13 a", f"{FVL}/§13a"),
        ("What does section 5-7 of the Local Government Act say?", f"{KOML}/§5-7"),
    ],
)
def test_named_paragraph_comes_first(shipped_index: Index, query: str, expected: str) -> None:
    hits = Retriever(shipped_index).search(query, k=5)
    assert hits[0].key == expected and hits[0].direct
    assert not any(h.direct for h in hits[1:])


@pytest.mark.slow
def test_several_named_paragraphs_keep_their_order(shipped_index: Index) -> None:
    hits = Retriever(shipped_index).search("forvaltningsloven § 6 og kommuneloven §§ 11-3 og 11-4", k=6)
    assert [h.key for h in hits[:3]] == [f"{FVL}/§6", f"{KOML}/§11-3", f"{KOML}/§11-4"]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.slow
def test_bare_paragraph_resolves_to_every_law_that_has_it(shipped_index: Index) -> None:
    having = sorted(k for k in shipped_index.by_key if k.endswith("/§5-7"))
    assert len(having) > 1
    hits = Retriever(shipped_index).search("§ 5-7", k=10)
    assert sorted(h.key for h in hits[: len(having)]) == having
    assert all(h.direct for h in hits[: len(having)])
    # with words about committees, kommuneloven's § 5-7 ranks first among them
    assert keys(Retriever(shipped_index), "Hva sier § 5-7 om utvalg?")[0] == f"{KOML}/§5-7"


@pytest.mark.slow
def test_direct_lookup_respects_filters(shipped_index: Index) -> None:
    retriever = Retriever(shipped_index)
    assert all(k.startswith("thesis/") for k in keys(retriever, "kommuneloven § 5-7", source_types=["thesis"]))
    assert all(k.startswith(OFFL) for k in keys(retriever, "kommuneloven § 5-7 og innsyn", law_ids=[OFFL]))


@pytest.mark.slow
def test_named_law_restricts_the_law_hits(shipped_index: Index) -> None:
    hits = Retriever(shipped_index).search("Hva sier offentleglova om innsyn?", k=10)
    laws = [h.chunk.law_id for h in hits if h.chunk.source_type == "law"]
    assert laws and set(laws) == {OFFL}


@pytest.mark.slow
def test_compound_finds_its_head_word(shipped_index: Index) -> None:
    # "oppgaveutvalg" never occurs in the law; its part "utvalg" is § 5-7's heading.
    assert not any("oppgaveutvalg" in c.text.lower() for c in shipped_index.by_key[f"{KOML}/§5-7"])
    assert f"{KOML}/§5-7" in keys(Retriever(shipped_index), "oppgaveutvalg")


@pytest.mark.slow
def test_english_question_finds_the_committee_paragraph(shipped_index: Index) -> None:
    assert f"{KOML}/§5-7" in keys(Retriever(shipped_index), "Can the municipal council set up a committee?")


@pytest.mark.slow
def test_bokmal_and_nynorsk_questions_find_the_nynorsk_paragraph(shipped_index: Index) -> None:
    retriever = Retriever(shipped_index)
    nynorsk = "Kan kommunen gjere unntak frå innsyn for dokument som er utarbeidde for eiga saksførebuing?"
    bokmal = "Kan kommunen unnta dokumenter som er laget for egen saksforberedelse fra innsyn?"
    assert keys(retriever, nynorsk)[0] == f"{OFFL}/§14"
    assert keys(retriever, bokmal)[0] == f"{OFFL}/§14"
    no_pairs = replace(Tuning(), expansions=tuple(e for e in EXPANSIONS if e != "nynorsk"))
    assert f"{OFFL}/§14" not in keys(Retriever(shipped_index, no_pairs), bokmal)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "paragraph"),
    [
        ("Kan kommunen unnta opplysninger som er underlagt taushetsplikt fra innsyn?", "§13"),
        ("Vi skal ansette en ny rådgiver. Kan vi holde navnet på en søker utenfor den offentlige søkerlisten?",
         "§25"),
    ],
)
def test_a_bokmal_question_finds_the_nynorsk_paragraph_by_its_heading_term(
    shipped_index: Index, question: str, paragraph: str
) -> None:
    assert keys(Retriever(shipped_index), question)[0] == f"{OFFL}/{paragraph}"


@pytest.mark.slow
def test_fit_question_finds_the_thesis_on_when_co_creation_fits(shipped_index: Index) -> None:
    question = "En huseier har søkt byggetillatelse for en garasje. Kan vi behandle søknaden som en samskapingsprosess?"
    assert "thesis/5.1" in keys(Retriever(shipped_index), question)
    assert "thesis/5.1" not in keys(Retriever(shipped_index, replace(Tuning(), facet_weight=0.0)), question)


@pytest.mark.slow
def test_heading_only_chunks_are_never_hits(shipped_index: Index) -> None:
    empty = [c for c in shipped_index.chunks if heading_only(c)]
    assert any(c.cite_key == "thesis/4.2.2" for c in empty)
    assert not any(heading_only(c) for c in shipped_index.by_key["thesis/2.4.3"][1:])
    hits = Retriever(shipped_index).search("Funn fra intervjuer og observasjoner", k=20)
    assert hits and not any(heading_only(h.chunk) for h in hits)


# --- reranker ----------------------------------------------------------------------------------


class ReverseReranker:
    """Scores passages by negative text length: a deterministic stand-in for a model."""

    def scores(self, query: str, texts: Sequence[str]) -> list[float]:
        return [-float(len(t)) for t in texts]


@pytest.mark.slow
def test_reranker_reorders_the_fused_head_but_not_named_paragraphs(shipped_index: Index) -> None:
    query, tuning = "kommuneloven § 5-7 og åpne møter", replace(Tuning(), rerank_depth=8)
    plain = Retriever(shipped_index, tuning).search(query, k=20)
    reranked = Retriever(shipped_index, tuning, ReverseReranker()).search(query, k=8)
    assert reranked[0].key == plain[0].key == f"{KOML}/§5-7"
    assert {h.key for h in reranked} <= {h.key for h in plain}
    assert [h.key for h in reranked] != [h.key for h in plain[:8]]
    lengths = [len(h.chunk.text) for h in reranked[1:]]
    assert lengths == sorted(lengths)
    assert [h.score for h in reranked] == sorted((h.score for h in reranked), reverse=True)


def _tiny_cross_encoder(path: Path) -> Path:
    """A randomly initialised two-layer BERT cross-encoder, saved like a downloaded model."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"utvalg kommunestyret kan opprette living lab".split()]
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    transformers.BertTokenizer(str(path / "vocab.txt")).save_pretrained(str(path))
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(vocab), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=128, num_labels=1,
    )
    transformers.BertForSequenceClassification(config).save_pretrained(str(path))
    return path


@pytest.mark.slow
def test_cross_encoder_loads_a_local_model(tmp_path: Path) -> None:
    pytest.importorskip("sentence_transformers")
    reranker = CrossEncoderReranker(str(_tiny_cross_encoder(tmp_path)))
    texts = ["kommunestyret kan opprette utvalg", "living lab", "utvalg"]
    scores = reranker.scores("utvalg", texts)
    assert len(scores) == 3 and all(isinstance(s, float) for s in scores)
    assert scores == reranker.scores("utvalg", texts)  # deterministic
    assert reranker.scores("utvalg", []) == []


def test_configured_but_missing_reranker_fails_in_norwegian(tmp_path: Path) -> None:
    missing = str(tmp_path / "finnes-ikke")
    with pytest.raises(RerankerError, match=r"rerangeringsmodellen|sentence-transformers er ikke installert") as err:
        CrossEncoderReranker(missing)
    if importlib.util.find_spec("sentence_transformers"):
        assert missing in str(err.value) and "SAMSKAP_RERANKER" in str(err.value)


@pytest.mark.slow
def test_reranker_setting_is_used_by_the_retriever(shipped_index: Index, tmp_path: Path) -> None:
    settings: Settings = shipped_index.settings.model_copy(update={"reranker": str(tmp_path / "mangler")})
    index = Index(settings, shipped_index.dir, shipped_index.embedder)
    with pytest.raises(RerankerError):
        Retriever(index)


def test_real_cross_encoder_from_a_wheel() -> None:
    pytest.skip(
        "No cross-encoder model ships inside a PyPI wheel that our machines can install (checked: "
        "small-hybrid-reranker bundles a joblib model, not a sentence-transformers CrossEncoder); "
        "the reranker is tested with a tiny generated model instead."
    )


# --- LangChain -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_langchain_retriever_composes_with_runnables(shipped_index: Index) -> None:
    from langchain_core.runnables import RunnableLambda

    from assistant.lc import SamskapRetriever

    retriever = SamskapRetriever(retriever=Retriever(shipped_index), k=4)
    chain = retriever | RunnableLambda(lambda docs: [d.metadata["key"] for d in docs])
    found = chain.invoke("kommuneloven § 5-7")
    assert found[0] == f"{KOML}/§5-7" and len(found) == 4 == len(set(found))
    doc = retriever.invoke("kommuneloven § 5-7")[0]
    assert doc.page_content == shipped_index.by_key[f"{KOML}/§5-7"][0].text
    assert doc.metadata["title"] == "Kommuneloven § 5-7. Utvalg"
    assert doc.metadata["law_id"] == KOML and doc.metadata["direct"] is True
    assert isinstance(doc.metadata["score"], float)
    thesis_only = SamskapRetriever(retriever=Retriever(shipped_index), k=3, source_types=["thesis"])
    assert all(d.metadata["key"].startswith("thesis/") for d in thesis_only.invoke("living lab"))


@pytest.mark.slow
def test_every_passage_of_the_shipped_corpus_is_found_by_its_own_vector(shipped_index: Index) -> None:
    """The dense leg searches every stored vector: a passage is its own nearest neighbour, and two
    searches give the same passages in the same order (an approximate graph could lose a passage)."""
    import numpy as np

    positions, vectors = shipped_index._stored
    for position, vector in zip(positions[::7], vectors[::7], strict=True):
        best = shipped_index._exact(np.asarray(vector), 3, None)
        assert best[0][0] == position or best[0][1] == pytest.approx(best[1][1]), shipped_index.chunks[position].chunk_id
    query = "Kan kommunestyret opprette et utvalg med innbyggere?"
    assert shipped_index.dense(query, 50) == shipped_index.dense(query, 50)


def test_questions_from_legal_staff_search_law_first(shipped_index: Index) -> None:
    # Everyday words with no legal term in them: asked by a lawyer, it is about the scope for action.
    from assistant.question import parse_question

    analyze_ = Retriever(shipped_index).analyze
    text = "Innbyggerne har sendt oss forslag på e-post og skrevet på lapper under verkstedene. Hva gjør vi med dem?"
    lawyer = parse_question(text, "jurist", analyze=analyze_)
    leader = parse_question(text, "prosjektleder", analyze=analyze_)
    assert lawyer.query is not None and lawyer.query.legal
    assert leader.query is not None and not leader.query.legal
    retriever = Retriever(shipped_index)
    law_share = [sum(h.chunk.source_type == "law" for h in retriever.search(p.query, k=5)) for p in (lawyer, leader)]
    assert law_share[0] > law_share[1]
    # whether co-creation fits stays a question about co-creation, whoever asks it
    fit = parse_question("Passer samskaping for å planlegge en ny møteplass i sentrum?", "jurist", analyze=analyze_)
    assert fit.query is not None and not fit.query.legal
