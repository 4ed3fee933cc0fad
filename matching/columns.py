"""Offerings encoded once into numpy columns (ids, bitmasks, padded category ids) and TF-IDF.

The structured columns and the text rows are kept apart: ranking computes bounds on the
columns of every candidate and touches text rows only for the few that can still make the top.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from matching.tables import OfferingTable
from matching.taxonomy import CategoryTree
from matching.vocab import (
    COST_CODES,
    COST_KINDS,
    DELIVERIES,
    POPULATIONS,
    SCHEDULES,
    LanguageCodes,
    encode_sets,
    memo_map,
)

NO_START = 0  # ordinal of an open start
NO_END = np.iinfo(np.int32).max  # ordinal of an open end


def record_dtype(width: int) -> np.dtype:
    """One record per offering; `width` = most categories any offering has."""
    return np.dtype(
        [
            ("ids", np.int64),
            ("organization_ids", np.int64),
            ("lat", np.float64),
            ("lon", np.float64),
            ("languages", np.uint64, (LanguageCodes.WORDS,)),
            ("categories", np.int32, (width,)),
            ("active_from", np.int32),
            ("active_until", np.int32),
            ("cost_amount", np.float32),
            ("schools_left", np.float32),
            ("students_left", np.float32),
            ("service_radius_km", np.float32),
            ("populations", np.uint16),
            ("grade_low", np.int8),
            ("grade_high", np.int8),
            ("schedule", np.uint8),
            ("delivery", np.uint8),
            ("cost", np.int8),
            ("verified", np.bool_),
            ("has_service_area", np.bool_),
            ("languages_listed", np.bool_),
        ],
        align=True,
    )


@dataclass(frozen=True)
class OfferingColumns:
    """Encoded offerings, one record each; the named fields are views of `records`.

    A single structured array makes gathering candidate rows one `take` (about 40x faster
    than gathering twenty separate columns), which is most of a query's cost at scale.
    """

    records: np.ndarray
    ids: np.ndarray = field(init=False, repr=False)  # int64
    organization_ids: np.ndarray = field(init=False, repr=False)  # int64
    lat: np.ndarray = field(init=False, repr=False)  # float64
    lon: np.ndarray = field(init=False, repr=False)  # float64
    languages: np.ndarray = field(init=False, repr=False)  # (n, WORDS) uint64 bitmask
    categories: np.ndarray = field(init=False, repr=False)  # (n, width) tree ids, -1 padding
    active_from: np.ndarray = field(init=False, repr=False)  # int32 ordinal, NO_START = open
    active_until: np.ndarray = field(init=False, repr=False)  # int32 ordinal, NO_END = open
    cost_amount: np.ndarray = field(init=False, repr=False)  # float32, NaN unknown
    schools_left: np.ndarray = field(init=False, repr=False)  # float32, NaN unknown
    students_left: np.ndarray = field(init=False, repr=False)  # float32, NaN unknown
    service_radius_km: np.ndarray = field(init=False, repr=False)  # float32, NaN none
    populations: np.ndarray = field(init=False, repr=False)  # uint16 bitmask over POPULATIONS
    grade_low: np.ndarray = field(init=False, repr=False)  # int8
    grade_high: np.ndarray = field(init=False, repr=False)  # int8
    schedule: np.ndarray = field(init=False, repr=False)  # uint8 bitmask over SCHEDULES
    delivery: np.ndarray = field(init=False, repr=False)  # uint8 bitmask over DELIVERIES
    cost: np.ndarray = field(init=False, repr=False)  # int8 COST_* code
    verified: np.ndarray = field(init=False, repr=False)  # bool
    has_service_area: np.ndarray = field(init=False, repr=False)  # bool: polygon area
    # bool: the offering lists its languages (an empty list is encoded as English in
    # `languages`, but a need asking for another language reads it as unknown, not a mismatch)
    languages_listed: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for name in self.records.dtype.names or ():
            object.__setattr__(self, name, self.records[name])

    @classmethod
    def from_arrays(cls, **columns: np.ndarray) -> OfferingColumns:
        """Pack one array per field (categories as (n, width)) into records."""
        categories = columns["categories"]
        records = np.empty(len(categories), dtype=record_dtype(categories.shape[1]))
        for name, values in columns.items():
            records[name] = values
        return cls(records)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def width(self) -> int:
        return int(self.categories.shape[1])

    def take(self, rows: np.ndarray) -> OfferingColumns:
        """The offerings at these (integer) row positions."""
        return OfferingColumns(self.records.take(rows))

    def widened(self, width: int) -> OfferingColumns:
        """The same offerings with room for `width` categories each."""
        if width == self.width:
            return self
        columns = {name: self.records[name] for name in self.records.dtype.names or ()}
        columns["categories"] = _pad(self.categories, width)
        return OfferingColumns.from_arrays(**columns)

    @staticmethod
    def concat(first: OfferingColumns, second: OfferingColumns) -> OfferingColumns:
        """Rows of first then second."""
        if len(second) == 0:
            return first
        if len(first) == 0:
            return second
        width = max(first.width, second.width)
        records = [first.widened(width).records, second.widened(width).records]
        # As raw bytes: numpy concatenates structured arrays field by field, ~10x slower.
        size = records[0].dtype.itemsize
        raw = [np.ascontiguousarray(r).view(np.uint8).reshape(len(r), size) for r in records]
        return OfferingColumns(np.concatenate(raw).view(records[0].dtype).reshape(-1))


@dataclass(frozen=True)
class TextRows:
    """TF-IDF rows of offerings and the raw texts they came from (to refit on rebuild)."""

    matrix: sp.csr_matrix  # (n, vocabulary) float32, rows L2-normalised
    raw: np.ndarray  # object array of str

    def __len__(self) -> int:
        return len(self.raw)

    def take(self, rows: np.ndarray) -> TextRows:
        return TextRows(self.matrix[rows], self.raw[rows])

    def similarity(self, rows: np.ndarray, query: QueryTerms) -> np.ndarray:
        """(len(rows), texts) float32 cosine of these rows and the query texts."""
        return similarity(self.matrix, rows, query)

    @staticmethod
    def concat(first: TextRows, second: TextRows) -> TextRows:
        if len(second) == 0:
            return first
        if len(first) == 0:
            return second
        return TextRows(
            sp.vstack([first.matrix, second.matrix], format="csr"),
            np.concatenate([first.raw, second.raw]),
        )


def _pad(categories: np.ndarray, width: int) -> np.ndarray:
    missing = width - categories.shape[1]
    if missing == 0:
        return categories
    return np.pad(categories, ((0, 0), (0, missing)), constant_values=-1)


def _vectorizer(max_features: int | None, stop_words: str | None) -> TfidfVectorizer:
    return TfidfVectorizer(
        dtype=np.float32,
        sublinear_tf=True,
        strip_accents="unicode",
        stop_words=stop_words,
        max_features=max_features,
    )


def fit_text(texts: np.ndarray, max_features: int) -> tuple[TfidfVectorizer, TextRows]:
    """Fit TF-IDF on the offering corpus; returns the vectorizer and the corpus rows."""
    vectorizer = _vectorizer(max_features, "english")
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # no usable word at all (empty corpus, only stop words)
        # Queries and later upserts still need a fitted vectorizer; this one matches nothing.
        vectorizer = _vectorizer(None, None).fit(["placeholder"])
        return vectorizer, transform_text(vectorizer, texts)
    return vectorizer, TextRows(sp.csr_matrix(matrix, dtype=np.float32), texts)


@dataclass(frozen=True)
class QueryText:
    """TF-IDF of short query texts with a fitted vectorizer, without scikit-learn's per-call
    validation overhead (~1 ms): same analyzer, sublinear tf, idf and L2 norm, same result."""

    analyzer: Callable[[str], list[str]]
    vocabulary: Mapping[str, int]
    idf: Sequence[float]
    n_features: int

    @classmethod
    def of(cls, vectorizer: TfidfVectorizer) -> QueryText:
        # Plain Python ints and floats: a query looks up a few terms, one at a time.
        vocabulary = {term: int(column) for term, column in vectorizer.vocabulary_.items()}
        idf = np.asarray(vectorizer.idf_, dtype=np.float64).tolist()
        return cls(vectorizer.build_analyzer(), vocabulary, idf, len(idf))

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """(len(texts), n_features) float32 TF-IDF rows."""
        rows = [self._weights(text) for text in texts]
        indptr = np.cumsum([0, *map(len, rows)])
        columns = [column for row in rows for column in row]
        values = np.array([value for row in rows for value in row.values()], dtype=np.float32)
        shape = (len(texts), self.n_features)
        return sp.csr_matrix((values, np.array(columns, dtype=np.int32), indptr), shape=shape)

    def terms(self, texts: Sequence[str]) -> QueryTerms:
        """The same TF-IDF values, by the vocabulary columns the texts use."""
        rows = [self._weights(text) for text in texts]
        used = sorted({column for row in rows for column in row})
        slot = {column: i for i, column in enumerate(used)}
        weights = np.zeros((len(used), len(texts)), dtype=np.float32)
        for j, row in enumerate(rows):
            for column, value in row.items():
                weights[slot[column], j] = value
        return QueryTerms(np.array(used, dtype=np.intp), weights)

    def _weights(self, text: str) -> dict[int, float]:
        """Vocabulary column -> TF-IDF weight of one text, columns ascending (float64; a few
        terms, so plain Python beats numpy here)."""
        counts = Counter(
            i for token in self.analyzer(text) if (i := self.vocabulary.get(token)) is not None
        )
        weights = {c: (1.0 + math.log(counts[c])) * self.idf[c] for c in sorted(counts)}
        squares = 0.0
        for value in weights.values():  # summed in column order, as numpy would
            squares += value * value
        norm = math.sqrt(squares)
        if norm == 0:
            return weights
        return {column: value / norm for column, value in weights.items()}


@dataclass(frozen=True)
class QueryTerms:
    """TF-IDF of a few query texts over only the vocabulary columns any of them uses."""

    columns: np.ndarray  # ascending vocabulary columns
    weights: np.ndarray  # (len(columns), texts) float32


def similarity(matrix: sp.csr_matrix, rows: np.ndarray, query: QueryTerms) -> np.ndarray:
    """(len(rows), texts) float32 dot products of these rows of a CSR matrix with the query
    texts: bitwise what `(matrix[rows] @ queries.T).toarray()` gives, without building either
    sparse matrix. Each product is summed in float32 in the row's stored order, as scipy does.
    """
    out = np.zeros((query.weights.shape[1], len(rows)), dtype=np.float32)
    if len(rows) == 0 or len(query.columns) == 0:
        return out.T
    starts, stops = matrix.indptr[rows], matrix.indptr[rows + 1]
    entries = row_ranges(starts, stops)
    # Slot of each vocabulary column in the query (0: not in any query text).
    slot = np.zeros(matrix.shape[1], dtype=np.min_scalar_type(len(query.columns)))
    slot[query.columns] = np.arange(1, len(query.columns) + 1)
    entry_slot = slot[matrix.indices[entries]]
    hit = np.flatnonzero(entry_slot)
    owner = np.repeat(np.arange(len(rows)), stops - starts)[hit]
    # take: much faster than [] for these gathers (numpy's fancy indexing path is general)
    products = matrix.data.take(entries[hit])[:, None] * query.weights.take(
        entry_slot[hit] - 1, axis=0
    )
    for j in range(out.shape[0]):  # a few query texts; np.add.at adds in entry order
        np.add.at(out[j], owner, products[:, j])
    return out.T


def row_ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Positions start..stop-1 of each range, ranges in order (a vectorized concat of aranges)."""
    lengths = stops - starts
    offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return (np.arange(int(lengths.sum())) + offsets).astype(np.intp, copy=False)


def transform_text(vectorizer: TfidfVectorizer, texts: Any) -> TextRows:
    """TF-IDF rows of new texts with an already fitted vectorizer."""
    raw = object_array(texts)
    if len(raw) == 0:
        return TextRows(sp.csr_matrix((0, len(vectorizer.idf_)), dtype=np.float32), raw)
    return TextRows(sp.csr_matrix(vectorizer.transform(raw), dtype=np.float32), raw)


def encode(table: OfferingTable, tree: CategoryTree, languages: LanguageCodes) -> OfferingColumns:
    """Encode a table whose categories the tree already holds (see CategoryTree.extended)."""
    n = len(table)
    return OfferingColumns.from_arrays(
        ids=np.asarray(table.ids, dtype=np.int64),
        organization_ids=np.asarray(table.organization_ids, dtype=np.int64),
        lat=np.asarray(table.lat, dtype=np.float64),
        lon=np.asarray(table.lon, dtype=np.float64),
        categories=_encode_categories(table.categories, tree),
        grade_low=np.clip(np.asarray(table.grade_low), -1, 12).astype(np.int8),
        grade_high=np.clip(np.asarray(table.grade_high), -1, 12).astype(np.int8),
        schedule=encode_sets(table.schedule, SCHEDULES, "schedule", np.uint8),
        delivery=encode_sets(table.delivery, DELIVERIES, "delivery", np.uint8),
        languages=languages.encode(table.languages),
        populations=encode_sets(table.populations, POPULATIONS, "populations", np.uint16),
        cost=np.asarray(memo_map(table.cost, _cost_code), dtype=np.int8).reshape(n),
        cost_amount=np.asarray(table.cost_amount, dtype=np.float32),
        schools_left=np.asarray(table.schools_left, dtype=np.float32),
        students_left=np.asarray(table.students_left, dtype=np.float32),
        active_from=_ordinals(table.active_from, NO_START),
        active_until=_ordinals(table.active_until, NO_END),
        verified=np.asarray(table.verified, dtype=bool),
        service_radius_km=np.asarray(table.service_radius_km, dtype=np.float32),
        has_service_area=np.asarray(table.has_service_area, dtype=bool),
        languages_listed=np.fromiter(map(bool, table.languages), dtype=bool, count=n),
    )


def object_array(values: Any) -> np.ndarray:
    """A 1-d object array of the values (strings stay Python objects, not fixed-width)."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _cost_code(cost: str | None) -> int:
    try:
        return COST_CODES[cost]
    except KeyError:
        raise ValueError(
            f"cost: unknown value {cost!r}; expected {', '.join(COST_KINDS)} or None"
        ) from None


def _ordinals(dates: Any, missing: int) -> np.ndarray:
    def ordinal(day: dt.date | None) -> int:
        return missing if day is None else day.toordinal()

    return np.asarray(memo_map(dates, ordinal), dtype=np.int32).reshape(len(dates))


def _encode_categories(categories: Any, tree: CategoryTree) -> np.ndarray:
    """(n, width) ids padded with -1; width = most categories any offering has (at least 1)."""
    per_row = memo_map(categories, lambda codes: tuple(tree.ids[c] for c in dict.fromkeys(codes)))
    lengths = np.fromiter(map(len, per_row), dtype=np.intp, count=len(per_row))
    width = max(1, int(lengths.max(initial=0)))
    out = np.full((len(per_row), width), -1, dtype=np.int32)
    flat = np.fromiter(itertools.chain.from_iterable(per_row), dtype=np.int32)
    rows = np.repeat(np.arange(len(per_row)), lengths)
    starts = np.cumsum(lengths) - lengths
    out[rows, np.arange(len(flat)) - np.repeat(starts, lengths)] = flat
    return out
