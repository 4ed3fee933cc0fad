"""Taxonomy credit and the text similarity the fit is refined by."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from matching.columns import (
    _HASHER,
    TEXT_FEATURES,
    DocumentFrequency,
    QueryTerms,
    QueryText,
    TextRows,
    _column,
    _words,
    similarity,
    text_rows,
)
from matching.taxonomy import CategoryTree
from tests.matching.factories import NAMES, TAXONOMY

TREE = CategoryTree.from_parents(TAXONOMY, NAMES)


def credit(need_code: str, offering_code: str) -> float:
    table = TREE.credit(TREE.lookup([need_code]), sibling=0.5, branch=0.6)
    return float(table[0, TREE.ids[offering_code]])


@pytest.mark.parametrize(
    ("need_code", "offering_code", "expected"),
    [
        ("mental_health_sel.counseling", "mental_health_sel.counseling", 1.0),
        ("mental_health_sel.counseling", "mental_health_sel.sel_curriculum", 0.5),
        ("mental_health_sel.counseling", "mental_health_sel", 0.6),
        ("mental_health_sel", "mental_health_sel.counseling", 0.6),
        ("mental_health_sel", "mental_health_sel", 1.0),
        ("mental_health_sel.counseling", "literacy.reading_tutoring", 0.0),
        ("literacy", "stem", 0.0),
    ],
)
def test_credit_is_full_in_category_partial_in_its_branch_and_zero_elsewhere(
    need_code, offering_code, expected
):
    assert credit(need_code, offering_code) == pytest.approx(expected)


def test_padding_id_earns_no_credit():
    table = TREE.credit(TREE.lookup(["literacy"]), sibling=0.5, branch=0.6)
    assert table[0, -1] == 0.0 and table.shape[1] == len(TREE) + 1


def test_unknown_codes_hang_off_their_dotted_prefix_and_keep_existing_ids():
    grown = TREE.extended(["literacy.poetry", "health.dental"])
    assert grown.parent_code("literacy.poetry") == "literacy"
    assert grown.parent_code("health.dental") == "health"
    assert all(grown.ids[code] == TREE.ids[code] for code in TREE.codes)
    assert grown.name("health.dental") == "dental"


def test_within_selects_a_category_and_its_children():
    mask = TREE.within(["literacy"])
    chosen = {code for code in TREE.codes if mask[TREE.ids[code]]}
    assert chosen == {"literacy", "literacy.reading_tutoring", "literacy.library_programs"}
    assert not mask[-1]


def test_a_cycle_in_the_taxonomy_is_refused():
    with pytest.raises(ValueError, match="cycle"):
        CategoryTree.from_parents({"a": "b", "b": "a"})


def test_text_rows_read_as_scikit_learn_tfidf_of_the_live_corpus():
    corpus = np.array(
        [
            "Free counseling for middle school students in Spanish",
            "Robotics club after school",
            "counseling counseling groups",
            "Café résumé workshops",
        ],
        dtype=object,
    )
    rows = text_rows(corpus)
    frequency = DocumentFrequency.of(rows)
    queries = ["counseling for students", "robotics robotics club", "", "unseen", "cafe resume"]
    reference = TfidfVectorizer(sublinear_tf=True, strip_accents="unicode", stop_words="english")
    offerings = reference.fit_transform(corpus)
    expected = (offerings @ reference.transform(queries).T).toarray()
    weighted = rows.weighted(np.arange(4), frequency)
    query = QueryText(frequency)
    assert (weighted @ query.transform(queries).T).toarray() == pytest.approx(expected)
    fast = rows.similarity(np.arange(4), query.terms(queries))
    assert fast == pytest.approx(expected)


@pytest.mark.parametrize(
    ("columns", "shift"),
    [
        ([3, 70, 9000], 0),
        ([1, 4097, 9000], 1),  # the low 12 bits of two columns agree
        ([0, 4, 5, 2**19], None),  # some two columns agree in every window of 12 bits
    ],
)
def test_similarity_finds_the_query_columns_however_they_are_told_apart(columns, shift):
    rng = np.random.default_rng(5)
    used = [*columns, 11, 2**19 + 4, 123456]  # and words no query text uses
    present = rng.random((6, len(used))) < 0.6
    rows, at = present.nonzero()
    values = (1 + rng.random(len(rows))).astype(np.float32)
    matrix = sp.csr_matrix(
        (values, (rows, np.array(used)[at])), shape=(6, TEXT_FEATURES), dtype=np.float32
    )
    frequency = DocumentFrequency.of(TextRows(matrix))
    weights = rng.random((len(columns), 2))
    at = np.array(columns, dtype=np.int32)
    query = QueryTerms(at, weights, frequency, frequency.idf(at))
    assert query.shift == shift
    texts = sp.csr_matrix(
        (weights.T.ravel(), (np.repeat([0, 1], len(columns)), columns * 2)),
        shape=(2, TEXT_FEATURES),
    )
    expected = (TextRows(matrix).weighted(np.arange(6), frequency) @ texts.T).toarray()
    assert similarity(matrix, np.arange(6), query) == pytest.approx(expected)
    assert expected.min() < expected.max()  # some rows match, some less or not at all


def test_query_words_hash_to_the_columns_scikit_learn_gives_them():
    words = ["counseling", "robotics", "cafe", "tutoring", "bereavement"]
    hashed = _HASHER.transform([" ".join(words)])
    assert sorted(_column(w) for w in words) == sorted(hashed.indices.tolist())


def test_a_corpus_of_stop_words_gives_rows_that_match_nothing():
    rows = text_rows(np.array(["the and of", ""], dtype=object))
    assert rows.matrix.nnz == 0
    assert QueryText(DocumentFrequency.of(rows)).transform(["anything"]).nnz == 0


def test_query_words_are_the_analyzers_words():
    texts = ["Café naïve résumé", "THE and of", "", "ab_cd 12 x", "Ünïcödé—dash\u2019s words\u2019"]
    assert [_words(t) for t in texts] == [_HASHER.build_analyzer()(t) for t in texts]


def test_kept_idf_of_query_words_gives_the_terms_a_fresh_frequency_gives():
    rows = text_rows(
        np.array(["reading tutoring for teens", "robotics club", "music lessons"], dtype=object)
    )
    frequency = DocumentFrequency.of(rows)
    batches = [["reading robotics", "unknown words"], ["music reading", "tutoring"]]
    for texts in batches * 2:  # the second time, every word's idf is kept
        kept = QueryText(frequency).terms(texts)
        fresh = QueryText(DocumentFrequency(frequency.counts, frequency.documents)).terms(texts)
        assert kept.columns.tolist() == fresh.columns.tolist()
        assert kept.weights.tolist() == fresh.weights.tolist()
    assert frequency.idf_read  # words read, none held by no text kept as an idf
    assert all(v is None for c, v in frequency.idf_read.items() if frequency.counts[c] == 0)
    assert frequency.changed(rows, -1).idf_read == {}  # other counts: nothing kept
