"""Offerings encoded once into numpy columns (ids, bitmasks, padded category ids) and hashed
term rows read as TF-IDF.

The structured columns and the text rows are kept apart: ranking computes bounds on the
columns of every candidate and touches text rows only for the few that can still make the top.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize
from sklearn.utils import murmurhash3_32

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
            ("location_estimated", np.bool_),
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
    # The named fields: views of `records`, each made when first read (a ranking gathers
    # records several times and reads a few of the fields of each gather) by a _FieldView
    # set on the class below, and kept in the instance, so later reads are plain lookups.
    if TYPE_CHECKING:
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
        location_estimated: np.ndarray = field(init=False, repr=False)  # bool: lat/lon estimated

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

    def with_category_slots(self, slots: np.ndarray) -> OfferingColumns:
        """These offerings, their `categories` read from `slots` ((width, n): these rows'
        category ids slot by slot, each slot contiguous) rather than as a view striding over
        whole records: ranking looks categories up one slot at a time, several times."""
        self.__dict__["categories"] = slots.T
        return self

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


class _FieldView:
    """A named field of OfferingColumns: its view of `records`, made on the first read and
    stored in the instance's __dict__, which a non-data descriptor leaves later reads to
    (cheaper than __getattr__, which Python calls only after a failed lookup)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, columns: OfferingColumns | None, owner: type | None = None) -> Any:
        if columns is None:
            return self
        view = columns.__dict__[self.name] = columns.records[self.name]
        return view


for _name in record_dtype(1).names or ():
    setattr(OfferingColumns, _name, _FieldView(_name))


@dataclass(frozen=True)
class TextRows:
    """Hashed term rows of offering texts: sublinear term frequency (1 + log count) per hashed
    word, no idf and no norm. A row depends on its own text only, so rows written at any time
    share one feature space; idf and the norm are applied when they are read (`weighted`)."""

    matrix: sp.csr_matrix  # (n, TEXT_FEATURES) float32

    def __len__(self) -> int:
        return int(self.matrix.shape[0])

    def take(self, rows: np.ndarray) -> TextRows:
        return TextRows(self.matrix[rows])

    def similarity(
        self, rows: np.ndarray, query: QueryTerms, norms: np.ndarray | None = None
    ) -> np.ndarray:
        """(len(rows), texts) cosine of these rows and the query texts; norms: the rows'
        `text_norms` under the query's frequencies, when the caller has them."""
        return similarity(self.matrix, rows, query, norms)

    def weighted(self, rows: np.ndarray, frequency: DocumentFrequency) -> sp.csr_matrix:
        """TF-IDF rows (L2-normalised) of these rows under these document frequencies."""
        matrix = sp.csr_matrix(self.matrix[rows], dtype=np.float64)
        if matrix.shape[0] == 0:
            return matrix
        matrix.data *= frequency.idf(matrix.indices)
        return normalize(matrix)

    @staticmethod
    def concat(first: TextRows, second: TextRows) -> TextRows:
        if len(second) == 0:
            return first
        if len(first) == 0:
            return second
        return TextRows(sp.vstack([first.matrix, second.matrix], format="csr"))


def _pad(categories: np.ndarray, width: int) -> np.ndarray:
    missing = width - categories.shape[1]
    if missing == 0:
        return categories
    return np.pad(categories, ((0, 0), (0, missing)), constant_values=-1)


# Words hash into this many columns (scikit-learn's HashingVectorizer): no vocabulary to fit,
# so an offering written at any time is encoded like those of the last build. 2**20 columns
# keep collisions rare for a corpus of a million offerings (~10^5 distinct words).
TEXT_FEATURES = 2**20
_HASHER = HashingVectorizer(
    n_features=TEXT_FEATURES,
    alternate_sign=False,
    norm=None,
    strip_accents="unicode",
    stop_words="english",
    dtype=np.float32,
)
_ANALYZER = _HASHER.build_analyzer()
# The analyzer's steps (a word analyzer without n-grams: preprocess, tokenize, drop stop
# words), called directly: the same words without its layers of Python calls.
_PREPROCESS = _HASHER.build_preprocessor()
_TOKENIZE = _HASHER.build_tokenizer()
_STOP_WORDS = _HASHER.get_stop_words() or frozenset()


def _words(text: str) -> list[str]:
    """The words _ANALYZER gives for this text."""
    return [word for word in _TOKENIZE(_PREPROCESS(text)) if word not in _STOP_WORDS]


def text_rows(texts: Any) -> TextRows:
    """Hashed sublinear term-frequency rows of offering texts (see TextRows)."""
    raw = object_array(texts)
    if len(raw) == 0:
        return TextRows(sp.csr_matrix((0, TEXT_FEATURES), dtype=np.float32))
    matrix = sp.csr_matrix(_HASHER.transform(raw), dtype=np.float32)
    matrix.data = (1.0 + np.log(matrix.data)).astype(np.float32)
    return TextRows(matrix)


@dataclass(frozen=True)
class DocumentFrequency:
    """How many live offering texts hold each hashed word, and how many texts there are:
    the idf of TF-IDF (smooth, as scikit-learn's: ln((1 + n) / (1 + df)) + 1), kept exact
    as offerings are added and removed, so a live index scores text as a rebuilt one does."""

    counts: np.ndarray  # (TEXT_FEATURES,) int32
    documents: int
    # column -> its idf, None where no text holds it: the words of query texts read so far
    # (needs' notes share most of their words), filled by `idf_of`
    idf_read: dict[int, float | None] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, rows: TextRows) -> DocumentFrequency:
        counts = np.zeros(TEXT_FEATURES, dtype=np.int32)
        return cls(counts, 0).changed(rows, +1)

    def changed(self, rows: TextRows, sign: int) -> DocumentFrequency:
        """With these texts added (sign +1) or removed (-1). Each row holds a word once."""
        if len(rows) == 0:
            return self
        counts = self.counts.copy()
        np.add.at(counts, rows.matrix.indices, sign)
        return DocumentFrequency(counts, self.documents + sign * len(rows))

    def idf(self, columns: np.ndarray) -> np.ndarray:
        """float64 idf of these hashed columns."""
        df = self.counts[columns].astype(np.float64)
        return np.log((1.0 + self.documents) / (1.0 + df)) + 1.0

    def idf_of(self, columns: Iterable[int]) -> dict[int, float]:
        """column -> idf of those of these columns some text holds (the values of `idf`,
        elementwise: a column's idf does not depend on the others computed with it), kept
        for the next query texts."""
        read = self.idf_read
        out: dict[int, float] = {}
        missing = []
        for column in columns:
            value = read.get(column, _UNREAD)
            if value is _UNREAD:
                missing.append(column)
            elif value is not None:
                out[column] = value  # type: ignore[assignment]
        if missing:
            at = np.array(missing, dtype=np.intp)
            held = (self.counts[at] > 0).tolist()
            if len(read) + len(missing) > MAX_READ_WORDS:
                read.clear()
            for column, holds, value in zip(missing, held, self.idf(at).tolist(), strict=True):
                read[column] = value if holds else None
                if holds:
                    out[column] = value
        return out


_UNREAD = object()
MAX_READ_WORDS = 2**16  # words whose idf a DocumentFrequency keeps (~100 bytes each)


@lru_cache(maxsize=65536)
def _column(token: str) -> int:
    """The hashed column of one analysed word (as HashingVectorizer computes it)."""
    h = int(murmurhash3_32(token, seed=0))
    return (2**31 - 1 if h == -(2**31) else abs(h)) % TEXT_FEATURES


@lru_cache(maxsize=4096)
def _counted(text: str) -> Mapping[int, int]:
    """Hashed column -> count of the words of one query text (a need's name and notes, read
    by every ranking for its school): kept, so handed out read-only."""
    return MappingProxyType(Counter(map(_column, _words(text))))


@dataclass(frozen=True)
class QueryText:
    """TF-IDF of short query texts under the index's document frequencies, without
    scikit-learn's per-call validation overhead (~1 ms): same analyzer, hashing, sublinear tf,
    idf and L2 norm as the offering rows read through TextRows.weighted."""

    frequency: DocumentFrequency

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """(len(texts), TEXT_FEATURES) float64 TF-IDF rows."""
        rows, _ = self._weights(texts)
        indptr = np.cumsum([0, *map(len, rows)])
        columns = [column for row in rows for column in row]
        values = np.array([value for row in rows for value in row.values()], dtype=np.float64)
        shape = (len(texts), TEXT_FEATURES)
        return sp.csr_matrix((values, np.array(columns, dtype=np.int32), indptr), shape=shape)

    def terms(self, texts: Sequence[str]) -> QueryTerms:
        """The same TF-IDF values, by the hashed columns the texts use."""
        rows, idf = self._weights(texts)
        used = sorted(set().union(*rows))
        slot = {column: i for i, column in enumerate(used)}
        weights = np.zeros((len(used), len(texts)), dtype=np.float64)
        for j, row in enumerate(rows):
            for column, value in row.items():
                weights[slot[column], j] = value
        # The idf _weights read (the values of frequency.idf: it is elementwise), not read
        # again from the 4 MB of document frequencies.
        used_idf = np.fromiter(map(idf.__getitem__, used), dtype=np.float64, count=len(used))
        return QueryTerms(np.array(used, dtype=np.int32), weights, self.frequency, used_idf)

    def _weights(self, texts: Sequence[str]) -> tuple[list[dict[int, float]], dict[int, float]]:
        """Per text, hashed column -> TF-IDF weight, columns ascending (a few terms, so plain
        Python beats numpy here; the idf of every text's columns is read in one go); and that
        idf by column. Words no offering uses weigh nothing: they cannot match."""
        counted = [_counted(text) for text in texts]
        idf = self.frequency.idf_of(set().union(*counted))
        out = []
        for counts in counted:
            weights = {c: (1.0 + math.log(counts[c])) * idf[c] for c in sorted(counts) if c in idf}
            norm = math.sqrt(sum(value * value for value in weights.values()))
            if norm == 0:
                out.append(weights)
            else:
                out.append({column: value / norm for column, value in weights.items()})
        return out, idf


@dataclass(frozen=True)
class QueryTerms:
    """TF-IDF of a few query texts over only the hashed columns any of them uses."""

    columns: np.ndarray  # ascending hashed columns (int32, as the text rows' indices)
    weights: np.ndarray  # (len(columns), texts) float64, each text L2-normalised
    frequency: DocumentFrequency  # the idf the offering rows are weighted with
    # frequency.idf of each column: an offering row's entry can only hit one of these, so
    # `similarity` looks its idf up here (the same values: idf is elementwise)
    idf: np.ndarray = field(repr=False, compare=False)
    # Per value of 12 bits of a column (_WINDOW bits from bit `shift` up), the slot of the
    # query column having them, -1 none: the window tells the query columns apart (a few
    # dozen of 2**20 columns rarely share one; shift None where no window does).
    shift: int | None = field(init=False, repr=False, compare=False)
    slot_of: np.ndarray = field(init=False, repr=False, compare=False)  # int16

    def __post_init__(self) -> None:
        columns = self.columns.tolist()
        slot_of = np.full(_WINDOW + 1, -1, dtype=np.int16)
        object.__setattr__(self, "shift", None)
        for shift in range(TEXT_FEATURES.bit_length() - _WINDOW.bit_length()):
            windows = [(column >> shift) & _WINDOW for column in columns]
            if len(set(windows)) == len(windows):
                slot_of[windows] = np.arange(len(windows))
                object.__setattr__(self, "shift", shift)
                break
        object.__setattr__(self, "slot_of", slot_of)


_WINDOW = 2**12 - 1  # 12 bits: a few dozen query columns mark ~1% of the table


def similarity(
    matrix: sp.csr_matrix, rows: np.ndarray, query: QueryTerms, norms: np.ndarray | None = None
) -> np.ndarray:
    """(len(rows), texts) float64 cosine of these rows of a term-frequency matrix (TextRows),
    weighted by the query's idf and L2-normalised, with the query texts: what
    `TextRows.weighted(rows) @ QueryText.transform(texts).T` gives, without building either
    sparse matrix. Each row's norm and products are summed in the row's stored order, so the
    same row gives the same value wherever it is stored (base, buffer, after a rebuild).
    norms: the rows' `text_norms` under query.frequency (computed if None); the rest reads
    only the entries whose word the query texts use.
    """
    texts = query.weights.shape[1]
    if len(rows) == 0 or len(query.columns) == 0:
        return np.zeros((len(rows), texts), dtype=np.float64)
    if norms is None:
        norms = text_norms(matrix, rows, query.frequency)
    starts, stops = matrix.indptr[rows], matrix.indptr[rows + 1]
    lengths = stops - starts
    entries = row_ranges(starts, stops)
    columns = matrix.indices.take(entries)
    hit, slot = _hits(columns, query)
    owner = np.arange(len(rows)).repeat(lengths).take(hit)
    # Each hit's TF-IDF weight, as `text_norms` weighs every entry.
    weight = matrix.data.take(entries.take(hit)).astype(np.float64)
    weight *= query.idf.take(slot)
    products = (weight / norms.take(owner))[:, None] * query.weights.take(slot, axis=0)
    # One bincount over (row, text) bins: each bin still adds its entries in entry order.
    bins = owner[:, None] * texts + np.arange(texts)
    out = np.bincount(bins.ravel(), products.ravel(), minlength=len(rows) * texts)
    return out.reshape(len(rows), texts)


def _hits(columns: np.ndarray, query: QueryTerms) -> tuple[np.ndarray, np.ndarray]:
    """The positions of these columns that are query columns, and their slots among them."""
    if query.shift is None:  # no window tells the query columns apart: a binary search
        slot = np.minimum(query.columns.searchsorted(columns), len(query.columns) - 1)
        hit = (query.columns.take(slot) == columns).nonzero()[0]
        return hit, slot.take(hit)
    # The query column whose window each column has, if any: then the column itself or one
    # sharing the window with it.
    windows = (columns >> query.shift) & _WINDOW if query.shift else columns & _WINDOW
    slot = query.slot_of.take(windows)
    maybe = (slot >= 0).nonzero()[0]
    slot = slot.take(maybe)
    found = (query.columns.take(slot) == columns.take(maybe)).nonzero()[0]
    return maybe.take(found), slot.take(found)


def text_norms(matrix: sp.csr_matrix, rows: np.ndarray, frequency: DocumentFrequency) -> np.ndarray:
    """float64 L2 norm of each of these rows of a term-frequency matrix (TextRows) weighted by
    these frequencies' idf, its entries summed in stored order (bincount adds a bin's
    weights in order). A row's norm changes only with the frequencies: an index keeps its
    base rows' (matching.index.Snapshot.text_norms)."""
    starts, stops = matrix.indptr[rows], matrix.indptr[rows + 1]
    lengths = stops - starts
    entries = row_ranges(starts, stops)
    owner = np.arange(len(rows)).repeat(lengths)
    weight = matrix.data.take(entries).astype(np.float64) * frequency.idf(
        matrix.indices.take(entries)
    )
    return np.sqrt(np.bincount(owner, weight * weight, minlength=len(rows)))


def any_true(mask: np.ndarray) -> bool:
    """mask.any() without the method's Python-level dispatch (hot in ranking)."""
    return bool(np.logical_or.reduce(mask, axis=None))


def all_true(mask: np.ndarray) -> bool:
    """mask.all() without the method's Python-level dispatch (hot in ranking)."""
    return bool(np.logical_and.reduce(mask, axis=None))


def row_ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Positions start..stop-1 of each range, ranges in order (a vectorized concat of aranges)."""
    lengths = stops - starts
    ends = lengths.cumsum()  # where each range ends in the output
    positions = np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.intp)
    positions += (starts - ends + lengths).repeat(lengths)
    return positions


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
        location_estimated=np.asarray(table.location_estimated, dtype=bool),
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
