"""OfferingIndex: offerings encoded once, pruned spatially per query, updated in place.

Design:
- Every query reads one immutable `Snapshot`; writers build a new snapshot and swap the
  reference under a lock, so a ranking never sees half an update and readers never block.
- Built rows ("base") live in numpy columns: in-person offerings first, sorted by grid cell
  (matching.spatial), so the ones near a school are a few contiguous runs of rows. In-person
  offerings whose service radius is wider than the narrowest query radius are grouped by
  radius class (each up to 4x the previous one), each class on its own grid that is searched
  around the school with the class's widest radius.
- Virtual offerings are relevant at any distance: a ranking considers every one in the
  taxonomy branches of its needs, most of its candidates. They follow the in-person rows,
  grouped by the set of branches of their categories, so those of a ranking are a few runs
  of rows (and of text rows) too.
- `upsert` tombstones the old base row and appends the new one to a small buffer that every
  query scans by brute force; `remove` tombstones / drops. Both take milliseconds, so a change
  is visible to the next ranking. `rebuild()` folds the buffer in; changes made while it runs
  are replayed onto the result before it is swapped in.
- Organizations with several locations: the other locations (`Places`) sit on their own grid,
  so an offering is a candidate when any of its locations is near the school, and each
  candidate is measured from its location nearest the school. The reverse ranking
  (matching.rank.rank_schools) and the gap analysis (matching.pairs.fit_and_reach) measure each
  (school, offering) pair from the offering's location nearest that school the same way
  (`Places.nearest` with one point per pair).
- What a ranking reads of every candidate but that depends on neither the school nor the
  date (matching.scoring.FixedTerms: cost and verification penalties, no capacity left, the
  grade cell) is computed once per base and config and gathered per ranking; upserts and
  removals keep it (the base is unchanged), a rebuild starts afresh.
- Text: words are hashed (matching.columns.TextRows), so there is no vocabulary to go stale,
  and the document frequencies behind idf are updated with every upsert and removal: an
  offering's words count in the very next ranking, with the same idf a rebuild would give.
  Each base row's TF-IDF norm depends on its text and those frequencies alone: it is kept
  per frequencies (`text_norms`), so a ranking weighs only the words its queries use.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp

from geo.distance import haversine_km
from matching.columns import (
    DocumentFrequency,
    OfferingColumns,
    QueryTerms,
    QueryText,
    TextRows,
    any_true,
    encode,
    row_ranges,
    text_norms,
    text_rows,
)
from matching.config import RankingConfig
from matching.history import History
from matching.scoring import FixedTerms, fixed_terms
from matching.spatial import CellGrid, cell_order, cell_ranges
from matching.tables import OfferingTable
from matching.taxonomy import CategoryTree
from matching.vocab import LOCALES, VIRTUAL_BIT, LanguageCodes


@dataclass(frozen=True)
class Snapshot:
    """One consistent state of the index; never mutated."""

    tree: CategoryTree
    languages: LanguageCodes  # append-only, shared by all snapshots of an index
    frequency: DocumentFrequency  # of the live texts (base rows alive + buffer)
    base: OfferingColumns  # rows sorted by grid cell
    base_text: TextRows
    alive: np.ndarray  # bool per base row (False = removed or replaced)
    grid: CellGrid  # cells of the in-person base rows, rows 0 .. len(grid.keys) - 1
    far_threshold_km: float  # the narrowest query radius: wider service radii are classed
    radius_classes: tuple[RadiusClass, ...]  # in-person base rows by service radius
    virtual_branches: np.ndarray  # (groups, width) the branch set of each virtual group, -1 pad
    virtual_indptr: np.ndarray  # base rows of virtual group g: indptr[g] .. indptr[g + 1] - 1
    sorted_ids: np.ndarray  # base ids sorted, with their rows in id_rows
    id_rows: np.ndarray
    # (width, base rows): the base rows' category ids slot by slot, each slot contiguous. The
    # candidate search gathers the slots of a few thousand rows (`_relevant`), and ranking
    # looks categories up slot by slot (OfferingColumns.with_category_slots): from
    # `base.categories` (a view striding over whole records) that costs twice as much.
    category_slots: np.ndarray
    buffer: OfferingColumns  # upserted since the last build, all alive
    buffer_text: TextRows
    generation: int
    places: Places  # other locations of multi-site organizations' offerings (base and buffer)
    # id of a config -> that config and the base rows' FixedTerms (fixed_terms; keyed by
    # identity: hashing a config costs ~3 us, and the entry holds it, so its id stays its
    # own). Derived from `base` alone, so snapshots sharing a base (upserts and removals
    # replace the rest) share it; a rebuild, which makes a new base, starts an empty one.
    base_terms: dict[int, tuple[RankingConfig, FixedTerms]] = field(
        default_factory=dict, compare=False, repr=False
    )
    # id of a DocumentFrequency -> it and the base rows' text norms under it (NaN: not read
    # yet; columns.text_norms). Shared like base_terms; an upsert or removal changes the
    # frequencies (every idf moves with the count of texts), so its snapshots start a new
    # array, filled as rankings read rows (warm() fills it whole).
    base_norms: dict[int, tuple[DocumentFrequency, np.ndarray]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def query_text(self) -> QueryText:
        """TF-IDF of query texts under this snapshot's document frequencies."""
        return QueryText(self.frequency)

    @property
    def size(self) -> int:
        return int(self.alive.sum()) + len(self.buffer)

    def base_rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Base rows holding these ids (alive or not); unknown ids are skipped."""
        if len(self.sorted_ids) == 0 or len(ids) == 0:
            return np.zeros(0, dtype=np.intp)
        pos = np.clip(np.searchsorted(self.sorted_ids, ids), 0, len(self.sorted_ids) - 1)
        return self.id_rows[pos[self.sorted_ids[pos] == ids]]

    def live_ids(self) -> np.ndarray:
        return np.sort(np.concatenate([self.base.ids[self.alive], self.buffer.ids]))

    def candidates(
        self,
        lat: float,
        lon: float,
        radius_km: float,
        relevant: np.ndarray,
        covered_ids: np.ndarray,
    ) -> tuple[OfferingColumns, np.ndarray, np.ndarray]:
        """Live offerings within radius_km of the point (and some a little beyond: whole grid
        cells), those whose service radius may reach it, the covered and the virtual ones,
        that have a category where `relevant` (by category id, padding -1 last) is True.

        Returns their columns (base rows first, then buffer rows) and those base and buffer
        row positions, ascending.
        """
        # The grid's rows near the school are ascending and distinct; those of the radius
        # classes, the covered ones and those with another location near the school may
        # repeat them: only then are the rows sorted and de-duplicated (once relevant).
        reach_km = max(radius_km, self.far_threshold_km)
        near, ascending = self._near(lat, lon, reach_km)
        others = [self.base_rows_of(covered_ids)] if len(covered_ids) else []
        if len(self.places):  # offerings with another location near the school
            sites = self.places.grid.near(lat, lon, reach_km)
            others.append(self.base_rows_of(np.unique(self.places.ids[sites])))
        if others:  # else no other in-person row to add
            covered = np.concatenate(others)
            covered = covered[covered < len(self.grid.keys)]
            if len(covered):
                near, ascending = np.concatenate([near, covered]), False
        in_person = near[self._live(near, _relevant(self.category_slots, near, relevant))]
        if not ascending:
            in_person = _sorted_unique(in_person)
        # The virtual groups of the needs' branches (a covered virtual offering is in one of
        # them, or has no relevant category): runs of rows after the in-person ones.
        branch = np.zeros(len(self.tree) + 1, dtype=bool)  # the trailing False: padding -1
        branch[self.tree.branch[relevant[: len(self.tree)].nonzero()[0]]] = True
        groups = np.logical_or.reduce(branch[self.virtual_branches], axis=1).nonzero()[0]
        virtual = row_ranges(self.virtual_indptr[groups], self.virtual_indptr[groups + 1])
        if not self.all_alive:
            virtual = virtual[self.alive[virtual]]
        # Each has a category in a branch of the needs: relevant unless some category of
        # those branches is not (siblings earn no credit, say).
        known = relevant[: len(self.tree)]
        if any_true(branch[self.tree.branch] & ~known):
            virtual = virtual[_relevant(self.category_slots, virtual, relevant)]
        rows = np.concatenate([in_person, virtual])
        if len(self.buffer) == 0:  # the usual case between rebuilds of a quiet index
            cols = self.base.take(rows).with_category_slots(self.category_slots.take(rows, axis=1))
            self.places.nearest(cols, lat, lon)
            return cols, rows, np.zeros(0, dtype=np.intp)
        extra = np.flatnonzero(_relevant(self.buffer.categories.T, None, relevant))
        cols = self.gather(rows, extra)
        self.places.nearest(cols, lat, lon)
        return cols, rows, extra

    def fixed_terms(
        self, base_rows: np.ndarray, buffer_rows: np.ndarray, config: RankingConfig
    ) -> FixedTerms:
        """matching.scoring.fixed_terms of these base rows followed by these buffer rows: those
        of every base row computed once per config (the index's: rankings with another
        config compute their candidates' own), the few buffer rows' per call."""
        entry = self.base_terms.get(id(config))
        if entry is None:
            if len(self.base_terms) >= MAX_BASE_TERMS:
                self.base_terms.clear()
            entry = self.base_terms[id(config)] = (config, fixed_terms(self.base, config))
        picked = entry[1].take(base_rows)
        if len(buffer_rows) == 0:
            return picked
        return FixedTerms.concat(picked, fixed_terms(self.buffer.take(buffer_rows), config))

    def warm(self, config: RankingConfig) -> None:
        """Compute now what rankings would otherwise compute as they go: the base's FixedTerms
        under this config and its rows' text norms (a few tens of milliseconds at 100,000
        offerings: the first ranking after a build paid them), the radius classes' combined
        grid and the liveness flag. build() and rebuild() call it on the snapshots they make;
        snapshots sharing this base (after upserts and removals) share the FixedTerms, and
        the norms until a write changes the document frequencies."""
        self.fixed_terms(np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), config)
        norms = self._norms_array()
        for start in range(0, len(norms), WARM_ROWS):  # in blocks: bounded temporaries
            rows = np.arange(start, min(start + WARM_ROWS, len(norms)))
            norms[rows] = text_norms(self.base_text.matrix, rows, self.frequency)
        if self.radius_classes:
            _ = self._search_grid  # cached properties: computed on first read
        _ = self.all_alive

    def _near(self, lat: float, lon: float, radius_km: float) -> tuple[np.ndarray, bool]:
        """The grid's rows near the point (`grid.near(lat, lon, radius_km)`) followed by each
        radius class's, searched with its radius (`c.rows[c.grid.near(lat, lon,
        c.radius_km)]`), in one search; and whether they are ascending and distinct (no
        radius class row found)."""
        if not self.radius_classes:
            return self.grid.near(lat, lon, radius_km), True
        keys, rows = self._search_grid
        bounds = [cell_ranges(lat, lon, radius_km)] + [
            cell_ranges(lat, lon, c.radius_km) + (i + 1) * _CLASS_KEYS
            for i, c in enumerate(self.radius_classes)
        ]
        starts, stops = keys.searchsorted(np.concatenate(bounds, axis=1))
        found = row_ranges(starts, stops)
        return rows.take(found), not len(found) or found[-1] < len(self.grid.keys)

    @cached_property
    def _search_grid(self) -> tuple[np.ndarray, np.ndarray]:
        """The grid's cell keys, then the radius classes' (class i's shifted by (i + 1) *
        _CLASS_KEYS, so ascending through the classes), and their base rows."""
        keys = [self.grid.keys] + [
            c.grid.keys + (i + 1) * _CLASS_KEYS for i, c in enumerate(self.radius_classes)
        ]
        rows = [np.arange(len(self.grid.keys))] + [c.rows for c in self.radius_classes]
        return np.concatenate(keys), np.concatenate(rows)

    @cached_property
    def all_alive(self) -> bool:
        """No base row removed or replaced (as after a build or rebuild): no row to skip."""
        return bool(self.alive.all())

    def _live(self, rows: np.ndarray, wanted: np.ndarray) -> np.ndarray:
        """wanted (a mask over these base rows), and only where the row is alive."""
        return wanted if self.all_alive else wanted & self.alive[rows]

    def gather(self, base_rows: np.ndarray, buffer_rows: np.ndarray) -> OfferingColumns:
        """Columns of these base rows followed by these buffer rows."""
        return OfferingColumns.concat(self.base.take(base_rows), self.buffer.take(buffer_rows))

    def similarity(
        self, base_rows: np.ndarray, buffer_rows: np.ndarray, query: QueryTerms
    ) -> np.ndarray:
        """Text cosine of these base rows followed by these buffer rows with the query texts."""
        similarity = self.base_text.similarity(base_rows, query, self.text_norms(base_rows))
        if len(buffer_rows) == 0:
            return similarity
        return np.concatenate([similarity, self.buffer_text.similarity(buffer_rows, query)])

    def text_norms(self, base_rows: np.ndarray) -> np.ndarray:
        """columns.text_norms of these base rows under this snapshot's frequencies: those read
        before (by any snapshot with this base and these frequencies) are kept, the others
        computed and kept (a row's norm depends on its text and the frequencies alone)."""
        kept = self._norms_array()
        norms = kept.take(base_rows)
        missing = np.isnan(norms).nonzero()[0]
        if len(missing):
            rows = base_rows.take(missing)
            norms[missing] = kept[rows] = text_norms(self.base_text.matrix, rows, self.frequency)
        return norms

    def _norms_array(self) -> np.ndarray:
        """The base rows' kept text norms under this snapshot's frequencies (NaN: unread)."""
        entry = self.base_norms.get(id(self.frequency))
        if entry is None:
            if len(self.base_norms) >= MAX_BASE_NORMS:
                self.base_norms.clear()
            norms = np.full(len(self.base), np.nan)
            entry = self.base_norms[id(self.frequency)] = (self.frequency, norms)
        return entry[1]

    def live(
        self, select: Callable[[OfferingColumns], np.ndarray] | None = None
    ) -> tuple[OfferingColumns, sp.csr_matrix]:
        """Live offerings (base rows, then buffered ones) with their TF-IDF rows (L2-normalised,
        float64); `select`
        maps columns to a mask of the rows wanted (None: every live offering)."""
        if select is None:
            base_rows, buffer_rows = np.flatnonzero(self.alive), np.arange(len(self.buffer))
        else:
            base_rows = np.flatnonzero(self.alive & select(self.base))
            buffer_rows = np.flatnonzero(select(self.buffer))
        return self.gather(base_rows, buffer_rows), self.text_of(base_rows, buffer_rows)

    def query_rows(self, texts: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF rows of query texts (a need's category name and notes) under the offerings'
        document frequencies: their dot product with `text_of` rows is the cosine similarity."""
        return self.query_text.transform(texts)

    def text_of(self, base_rows: np.ndarray, buffer_rows: np.ndarray) -> sp.csr_matrix:
        """TF-IDF rows of these base rows followed by these buffer rows."""
        base = self.base_text.weighted(base_rows, self.frequency)
        if len(buffer_rows) == 0:
            return base
        buffer = self.buffer_text.weighted(buffer_rows, self.frequency)
        return sp.vstack([base, buffer], format="csr")


# Above every cell key (matching.spatial: band * COLUMNS + column < 2**23).
_CLASS_KEYS = 2**32
# Configs whose base FixedTerms a snapshot keeps (each 17 bytes per offering).
MAX_BASE_TERMS = 2
# Document frequencies whose base text norms a snapshot keeps (each 8 bytes per offering):
# the current one and the one before a write, which rankings under way may still read.
MAX_BASE_NORMS = 2
# Base rows whose text norms warm() computes at a time (temporaries ~40 bytes per word).
WARM_ROWS = 50_000


@dataclass(frozen=True)
class Places:
    """The other locations of multi-site organizations' offerings (OfferingTable.more_locations),
    one row per (offering, location), sorted by cell for the spatial search; `by_id` orders
    them by offering id for the nearest-location lookup. Rows of removed or replaced offerings
    are dropped when the offering is written again; a search checks liveness on the base rows.
    """

    ids: np.ndarray  # int64 offering id per row
    lat: np.ndarray
    lon: np.ndarray
    estimated: np.ndarray  # bool
    grid: CellGrid
    by_id: np.ndarray  # rows in ascending offering id (stable)

    @classmethod
    def of(cls, ids: np.ndarray, lat: np.ndarray, lon: np.ndarray, estimated: np.ndarray) -> Places:
        order = cell_order(lat, lon)
        ids, lat, lon, estimated = ids[order], lat[order], lon[order], estimated[order]
        return cls(ids, lat, lon, estimated, CellGrid.of(lat, lon), np.argsort(ids, kind="stable"))

    @classmethod
    def from_table(cls, table: OfferingTable) -> Places:
        more = table.more_locations or ()
        counts = np.fromiter(map(len, more), dtype=np.intp, count=len(table))
        flat = [place for places in more for place in places]
        return cls.of(
            np.repeat(np.asarray(table.ids, dtype=np.int64), counts),
            np.array([p[0] for p in flat], dtype=np.float64),
            np.array([p[1] for p in flat], dtype=np.float64),
            np.array([p[2] for p in flat], dtype=bool),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def without(self, ids: np.ndarray) -> Places:
        keep = ~np.isin(self.ids, ids)
        if keep.all():
            return self
        return Places.of(self.ids[keep], self.lat[keep], self.lon[keep], self.estimated[keep])

    def plus(self, other: Places) -> Places:
        if not len(other):
            return self
        return Places.of(
            np.concatenate([self.ids, other.ids]),
            np.concatenate([self.lat, other.lat]),
            np.concatenate([self.lon, other.lon]),
            np.concatenate([self.estimated, other.estimated]),
        )

    def nearest(
        self, cols: OfferingColumns, lat: float | np.ndarray, lon: float | np.ndarray
    ) -> None:
        """Move each of these (freshly gathered) offerings to its location nearest the point,
        in place: lat, lon and location_estimated. lat/lon: one point, or one per row of cols
        (a school per (school, offering) pair: reverse ranking and gap analysis)."""
        if not len(self) or not len(cols):
            return
        lat = np.broadcast_to(np.asarray(lat, dtype=np.float64), (len(cols),))
        lon = np.broadcast_to(np.asarray(lon, dtype=np.float64), (len(cols),))
        sorted_ids = self.ids[self.by_id]
        starts = np.searchsorted(sorted_ids, cols.ids, side="left")
        stops = np.searchsorted(sorted_ids, cols.ids, side="right")
        has = np.flatnonzero(stops > starts)
        if not len(has):
            return
        rows = self.by_id[row_ranges(starts[has], stops[has])]
        owner = np.repeat(has, (stops - starts)[has])
        distance = haversine_km(lat[owner], lon[owner], self.lat[rows], self.lon[rows])
        current = haversine_km(lat[has], lon[has], cols.lat[has], cols.lon[has])
        best = np.full(len(cols), np.inf)
        best[has] = current
        np.minimum.at(best, owner, distance)
        # The first (lowest-distance) extra location per owner that beats the current one.
        wins = distance < current[np.searchsorted(has, owner)]
        wins &= distance == best[owner]
        pick = np.flatnonzero(wins)
        _, first = np.unique(owner[pick], return_index=True)
        pick = pick[first]
        target = owner[pick]
        cols.lat[target] = self.lat[rows[pick]]
        cols.lon[target] = self.lon[rows[pick]]
        cols.location_estimated[target] = self.estimated[rows[pick]]


@dataclass(frozen=True)
class RadiusClass:
    """Base rows declaring a service radius up to radius_km (and wider than the previous
    class): only those within radius_km of a school can reach it."""

    radius_km: float
    rows: np.ndarray  # ascending base rows (so still sorted by cell)
    grid: CellGrid


class OfferingIndex:
    """The offerings a ranking searches: build once, then upsert/remove as records change."""

    def __init__(self, snapshot: Snapshot, config: RankingConfig) -> None:
        self._snapshot = snapshot
        self.config = config
        self._lock = threading.Lock()
        self._replay: list[tuple[str, OfferingTable | np.ndarray]] | None = None
        # The district's partnership history (matching.history); replaced whole when it changes.
        self.history = History.empty()

    @classmethod
    def build(
        cls,
        table: OfferingTable,
        taxonomy: Mapping[str, str | None],
        config: RankingConfig | None = None,
        *,
        names: Mapping[str, str] | None = None,
    ) -> OfferingIndex:
        """Encode all offerings; taxonomy maps code -> parent code, names code -> display name."""
        config = config or RankingConfig()
        tree = CategoryTree.from_parents(taxonomy, names)
        tree = tree.extended(set(itertools.chain.from_iterable(table.categories)))
        languages = LanguageCodes()
        base = encode(table, tree, languages)
        text = text_rows(table.texts)
        snap = _snapshot(base, text, tree, languages, config, 0)
        snap = replace(snap, places=Places.from_table(table))
        snap.warm(config)  # so that the first ranking does not pay for the whole base
        return cls(snap, config)

    # --- reads ---------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """The current state; hold on to it for the duration of one query."""
        return self._snapshot

    def __len__(self) -> int:
        return self._snapshot.size

    def __contains__(self, offering_id: object) -> bool:
        snap = self._snapshot
        ids = np.array([offering_id], dtype=np.int64)
        rows = snap.base_rows_of(ids)
        return bool(snap.alive[rows].any()) or bool(np.isin(ids, snap.buffer.ids).any())

    @property
    def tree(self) -> CategoryTree:
        return self._snapshot.tree

    @property
    def buffered(self) -> int:
        """Offerings upserted since the last build or rebuild."""
        return len(self._snapshot.buffer)

    @property
    def needs_rebuild(self) -> bool:
        """True when the append buffer is big enough that rebuild() pays off."""
        snap = self._snapshot
        dead = len(snap.base) - int(snap.alive.sum())
        return len(snap.buffer) + dead > self.config.rebuild_buffer_rows

    # --- writes --------------------------------------------------------------------------------
    def upsert(self, rows: OfferingTable) -> None:
        """Add offerings, or replace those whose id is already indexed; visible at once."""
        with self._lock:
            self._snapshot = _upserted(self._snapshot, rows)
            if self._replay is not None:
                self._replay.append(("upsert", rows))

    def remove(self, ids: Iterable[int]) -> int:
        """Drop offerings by id (unknown ids are ignored); returns how many were indexed."""
        id_array = np.unique(np.fromiter(ids, dtype=np.int64))
        with self._lock:
            before = self._snapshot.size
            self._snapshot = _removed(self._snapshot, id_array)
            if self._replay is not None:
                self._replay.append(("remove", id_array))
            return before - self._snapshot.size

    def rebuild(self) -> None:
        """Fold the buffer into the base (and recount the document frequencies).

        Safe to run in a background thread: rankings keep using the old snapshot, and upserts
        or removals made meanwhile are replayed onto the new one before it is swapped in.
        """
        with self._lock:
            if self._replay is not None:
                raise RuntimeError("a rebuild is already running")
            old = self._snapshot
            self._replay = []
        try:
            alive = np.flatnonzero(old.alive)
            live = OfferingColumns.concat(old.base.take(alive), old.buffer)
            text = TextRows.concat(old.base_text.take(alive), old.buffer_text)
            new = _snapshot(live, text, old.tree, old.languages, self.config, old.generation + 1)
            new = replace(new, places=old.places)
            new.warm(self.config)  # here, not in the first ranking after the swap
            with self._lock:
                for op, arg in self._replay:
                    if op == "upsert":
                        assert isinstance(arg, OfferingTable)
                        new = _upserted(new, arg)
                    else:
                        assert isinstance(arg, np.ndarray)
                        new = _removed(new, arg)
                self._snapshot = replace(new, generation=self._snapshot.generation + 1)
        finally:
            with self._lock:
                self._replay = None


def _snapshot(
    base: OfferingColumns,
    text: TextRows,
    tree: CategoryTree,
    languages: LanguageCodes,
    config: RankingConfig,
    generation: int,
) -> Snapshot:
    """Grid, radius classes, virtual groups and id lookup over freshly encoded base rows
    (which it reorders: in-person ones by grid cell, then the virtual ones by group; text
    rows alike)."""
    virtual = (base.delivery & VIRTUAL_BIT) != 0
    in_person = np.flatnonzero(~virtual)
    in_person = in_person[cell_order(base.lat[in_person], base.lon[in_person])]
    branch_sets, virtual_rows, group_sizes = _branch_groups(base, np.flatnonzero(virtual), tree)
    order = np.concatenate([in_person, virtual_rows])
    base, text = base.take(order), text.take(order)
    n = len(base)
    grid = CellGrid.of(base.lat[: len(in_person)], base.lon[: len(in_person)])
    indptr = np.zeros(len(group_sizes) + 1, dtype=np.intp)
    np.cumsum(group_sizes, out=indptr[1:])
    far_threshold = min_query_radius_km(config)
    # Wide in-person service radii: each found by its own radius, not by the query's.
    radius = np.nan_to_num(base.service_radius_km[: len(in_person)], nan=0.0)
    wide = np.flatnonzero(radius > far_threshold)
    level = np.ceil(np.log(radius[wide] / far_threshold) / np.log(4))
    classes = []
    for widest in np.unique(level).tolist():
        rows = wide[level == widest]
        classes.append(RadiusClass(float(radius[rows].max()), rows, CellGrid(grid.keys[rows])))
    id_rows = np.argsort(base.ids, kind="stable")
    return Snapshot(
        tree=tree,
        languages=languages,
        frequency=DocumentFrequency.of(text),
        base=base,
        base_text=text,
        alive=np.ones(n, dtype=bool),
        grid=grid,
        far_threshold_km=far_threshold,
        radius_classes=tuple(classes),
        virtual_branches=branch_sets,
        virtual_indptr=len(in_person) + indptr,
        sorted_ids=base.ids[id_rows],
        id_rows=id_rows,
        category_slots=np.ascontiguousarray(base.categories.T),
        buffer=base.take(np.zeros(0, dtype=np.intp)),
        buffer_text=text.take(np.zeros(0, dtype=np.intp)),
        generation=generation,
        places=Places.from_table(OfferingTable.from_records([])),
    )


def _branch_groups(
    base: OfferingColumns, rows: np.ndarray, tree: CategoryTree
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """These rows grouped by the set of taxonomy branches of their categories: the (groups,
    width) branch sets (-1 padding), the rows in group order and the size of each group."""
    branches = np.append(tree.branch, -1)[base.categories[rows]]  # padding -1 reads -1
    # Each row's distinct branches, ascending after the -1 padding: one key per branch set.
    branches = np.sort(branches, axis=1)
    repeated = np.zeros(branches.shape, dtype=bool)
    repeated[:, 1:] = branches[:, 1:] == branches[:, :-1]
    branches = np.sort(np.where(repeated, -1, branches), axis=1)
    keys, group = np.unique(branches, axis=0, return_inverse=True)
    group = group.ravel()
    order = np.argsort(group, kind="stable")
    return keys, rows[order], np.bincount(group, minlength=len(keys))


def _relevant(slots: np.ndarray, rows: np.ndarray | None, relevant: np.ndarray) -> np.ndarray:
    """Whether each of these rows (None: every row) has a category where `relevant` is True;
    slots: (width, rows) category ids (Snapshot.category_slots, or a transposed
    OfferingColumns.categories).

    Gathering only the category ids, slot by slot (cheaper than gathering whole records
    first), and reducing over the slots (the first axis: each slot's rows contiguous).
    """
    ids = slots if rows is None else slots.take(rows, axis=1)
    return np.logical_or.reduce(relevant.take(ids), axis=0)


def _sorted_unique(rows: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a sort beats np.unique's hashing for these sizes)."""
    rows = rows.copy()
    rows.sort()
    if len(rows) < 2:
        return rows
    return rows[np.concatenate([[True], rows[1:] != rows[:-1]])]


def min_query_radius_km(config: RankingConfig) -> float:
    """Radius of the narrowest spatial query (city school): rows reachable beyond it are far."""
    return min(config.scale_km(locale) for locale in LOCALES) * config.reach_cutoff_scales


def query_radius_km(config: RankingConfig, locale: str | None) -> float:
    """How far an in-person offering can be from a school of this locale and still rank."""
    factor = max(1.0, config.at_school_travel_factor)
    return config.scale_km(locale) * config.reach_cutoff_scales * factor


def _changed(snap: Snapshot, **changes: Any) -> Snapshot:
    """The snapshot after an upsert or removal, which change neither the base's grid nor its
    radius classes: their combined search grid (a copy of every base row's cell key, computed
    on first read) is handed on rather than recomputed by the first ranking after each write."""
    new = replace(snap, **changes)
    if "_search_grid" in snap.__dict__:
        new.__dict__["_search_grid"] = snap.__dict__["_search_grid"]
    return new


def _upserted(snap: Snapshot, table: OfferingTable) -> Snapshot:
    tree = snap.tree.extended(set(itertools.chain.from_iterable(table.categories)))
    fresh = encode(table, tree, snap.languages)
    text = text_rows(table.texts)
    alive = snap.alive.copy()
    replaced = snap.base_rows_of(fresh.ids)
    replaced = replaced[alive[replaced]]
    alive[replaced] = False
    dropped = np.isin(snap.buffer.ids, fresh.ids)
    kept = np.flatnonzero(~dropped)
    frequency = snap.frequency.changed(snap.base_text.take(replaced), -1)
    frequency = frequency.changed(snap.buffer_text.take(np.flatnonzero(dropped)), -1)
    return _changed(
        snap,
        tree=tree,
        alive=alive,
        frequency=frequency.changed(text, +1),
        places=snap.places.without(fresh.ids).plus(Places.from_table(table)),
        buffer=OfferingColumns.concat(snap.buffer.take(kept), fresh),
        buffer_text=TextRows.concat(snap.buffer_text.take(kept), text),
        generation=snap.generation + 1,
    )


def _removed(snap: Snapshot, ids: np.ndarray) -> Snapshot:
    alive = snap.alive.copy()
    removed = snap.base_rows_of(ids)
    removed = removed[alive[removed]]
    alive[removed] = False
    dropped = np.isin(snap.buffer.ids, ids)
    kept = np.flatnonzero(~dropped)
    frequency = snap.frequency.changed(snap.base_text.take(removed), -1)
    frequency = frequency.changed(snap.buffer_text.take(np.flatnonzero(dropped)), -1)
    return _changed(
        snap,
        alive=alive,
        frequency=frequency,
        places=snap.places.without(ids),
        buffer=snap.buffer.take(kept),
        buffer_text=snap.buffer_text.take(kept),
        generation=snap.generation + 1,
    )
