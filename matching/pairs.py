"""Fit and reach of school need-offering pairs, for many schools at once: coverage's input.

Reach and fit are the ranking model's own (matching.scoring.reach_of and score_rows), so a
school's coverage lists the offerings /matches ranks for it, graded the same way:

- reach: virtual; or a declared service radius or polygon covers the school; or, for an
  offering declaring no area, within `CoverageConfig.reach_scales` decay scales of the
  school's locale (the ranking ranks up to `RankingConfig.reach_cutoff_scales`; coverage asks
  for a nearer partner). A declared area is the partner's word on where it serves, so a
  school outside it is not reached however near (the ranking only halves its reach);
- fit in [0, 1]: the model's fit for that one need, before the priority weight — taxonomy
  credit (1 same category, 0.6 parent/child, 0.5 sibling) blended with TF-IDF similarity of
  the need's notes and the offering's text: credit * (0.7 + 0.3 * similarity);
- usable: not demoted for it by the model — grades overlap, a language the need asks for is
  offered, capacity left, active on the date.

Reach is bounded (virtual offerings aside), so pairs are pruned spatially before scoring: k-d
trees over offerings and service radii give each block of schools only the offerings that can
reach it, reach_of decides them exactly, and each reaching offering is scored against the
school's needs of its taxonomy branches (only those can earn fit), in chunks of bounded size.
Work and memory grow with the pairs that reach, not schools x offerings. Distances are
great-circle (geo.distance.haversine_km, as in ranking), from the organization's location
nearest the school: the trees hold every (offering, location) of multi-site organizations, and
each (school, offering) pair is measured from its nearest location (as the ranking does).
geo.coverage then shares capacity over these pairs and grades each need (Reaching.coverage).
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import itertools
import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.spatial import cKDTree

from geo.coverage import SLACK, Coverage, CoverageConfig, needs_coverage
from geo.distance import EARTH_RADIUS_KM, haversine_km
from matching.columns import OfferingColumns
from matching.config import RankingConfig
from matching.index import OfferingIndex, Places
from matching.needs import layout_needs
from matching.scoring import (
    NeedArrays,
    SchoolPlaces,
    reach_of,
    school_places,
    score_rows,
    take_rows,
)
from matching.tables import Need, SchoolTable
from matching.vocab import VIRTUAL_BIT

# How an offering reaches a school.
VIA = ("distance", "service_area", "virtual")
VIA_DISTANCE, VIA_AREA, VIA_VIRTUAL = 0, 1, 2
# Why a reaching offering cannot serve a need (0: it can).
ISSUES = ("", "full", "inactive", "grades", "language")
ISSUE_FULL, ISSUE_INACTIVE, ISSUE_GRADES, ISSUE_LANGUAGE = 1, 2, 3, 4
# Schools per block of candidate pairs, and pairs per scoring chunk: they bound memory.
SCHOOL_BLOCK = 256
SCORE_ROWS = 1 << 18
# Candidate (school, offering) pairs of a block decided at once: bounds their memory too.
CANDIDATE_ROWS = 1 << 19


@dataclass(frozen=True)
class Reaching:
    """(need, offering) pairs with fit >= min_fit whose offering reaches the need's school."""

    offerings: OfferingColumns  # the offerings considered; pair_offering indexes these rows
    need_school: npt.NDArray[np.intp]  # per need (schools' needs flattened in order): school row
    needs: list[Need]
    pair_need: npt.NDArray[np.int32]  # row in needs (compact: int32)
    pair_offering: npt.NDArray[np.int32]
    fit: npt.NDArray[np.float32]  # fits are computed in float32
    distance_km: npt.NDArray[np.float64]
    via: npt.NDArray[np.int8]
    issue: npt.NDArray[np.int8]

    @property
    def usable(self) -> npt.NDArray[np.bool_]:
        """Per pair: the offering can serve the need (no issue); coverage counts only these."""
        return np.asarray(self.issue == 0, dtype=np.bool_)

    def coverage(
        self,
        *,
        config: CoverageConfig | None = None,
        estimated_schools_left: npt.ArrayLike | None = None,
    ) -> Coverage:
        """geo.needs_coverage of these needs over the usable pairs; its per-pair arrays align
        with them (scatter back with `x[reach.usable] = cover.share`). The pairs are taken by a
        boolean mask, not by row numbers: at national scale (tens of millions of pairs) the
        row numbers would weigh 8 bytes a pair, the mask 1."""
        usable = self.usable
        students = [
            np.nan if n.students_affected is None else n.students_affected for n in self.needs
        ]
        return needs_coverage(
            pair_need=self.pair_need[usable],
            pair_offering=self.pair_offering[usable],
            fit=self.fit[usable],
            need_school=self.need_school,
            need_students=np.array(students, dtype=np.float64),
            schools_left=self.offerings.schools_left,
            students_left=self.offerings.students_left,
            config=config,
            estimated_schools_left=estimated_schools_left,
        )


def fit_and_reach(
    index: OfferingIndex,
    schools: SchoolTable,
    *,
    covered: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    offering_ids: npt.ArrayLike | None = None,
    coverage: CoverageConfig | None = None,
    as_of: dt.date | None = None,
) -> Reaching:
    """Fit and reach of these schools' needs against the index's offerings: the pairs that reach,
    with fit >= coverage.min_fit, each graded by the ranking model (see the module docstring).

    covered: (school ids, organization ids) where the organization's polygon service area
    covers the school, for every polygon area (PostGIS ST_Covers or geo.covers); an offering
    whose organization declares a polygon not listed for a school does not cover it.
    offering_ids: only these offerings (None: every offering in the index).
    """
    cfg = index.config
    cov = coverage or CoverageConfig()
    reach_cfg = replace(cfg, reach_cutoff_scales=cov.reach_scales)
    snap = index.snapshot()
    if offering_ids is None:
        off, text = snap.live()
    else:
        wanted = np.asarray(offering_ids, dtype=np.int64)
        off, text = snap.live(lambda cols: np.isin(cols.ids, wanted))

    lengths = np.fromiter((len(n) for n in schools.needs), dtype=np.intp, count=len(schools))
    need_school = np.repeat(np.arange(len(schools)), lengths)
    needs = [need for group in schools.needs for need in group]
    if not needs or not len(off):
        return _empty(off, need_school, needs)

    tree = snap.tree.extended(n.category for n in needs)
    low, high = schools.grade_low[need_school].tolist(), schools.grade_high[need_school].tolist()
    grades = list(zip(low, high, strict=True))
    layout = layout_needs([[n] for n in needs], grades, tree, snap.languages, cfg)
    per_school = school_places(schools, np.arange(len(schools)), snap.languages, cfg)
    need_branch = tree.branch[tree.lookup([n.category for n in needs])]
    off_branch = np.where(off.categories >= 0, tree.branch[np.maximum(off.categories, 0)], -1)
    work = _Work(
        schools=schools,
        off=off,
        text=text,
        queries=snap.query_rows(layout.texts),
        need_arrays=_one_need_each(layout.needs),
        credit_table=layout.credit_table,
        need_branch=need_branch,
        off_branch=off_branch,
        need_start=np.cumsum(lengths) - lengths,
        school_branches=_branch_bits(need_branch[:, None], need_school, len(schools)),
        off_branches=_branch_bits(off_branch, np.arange(len(off)), len(off)),
        need_count=lengths,
        per_school=per_school,
        reach=_ReachIndex(off, snap.places, _covered(covered, schools.ids, off), reach_cfg),
        places=snap.places,
        cfg=cfg,
        reach_cfg=reach_cfg,
        min_fit=cov.min_fit,
        day=(as_of or dt.date.today()).toordinal(),
    )
    columns = _Columns()
    assessed = np.flatnonzero(lengths > 0)
    for start in range(0, len(assessed), SCHOOL_BLOCK):
        block = _block_pairs(work, assessed[start : start + SCHOOL_BLOCK])
        if block:
            columns.append(_compact(block))
    if not columns.size:
        return _empty(off, need_school, needs)
    # Blocks follow the schools in order and needs are flattened school by school, so the
    # blocks, each sorted by (need, offering), follow each other in that order: no global sort.
    pair_need, pair_off, fit, distance, via, issue = columns.arrays()
    _release_freed_memory()
    return Reaching(
        offerings=off,
        need_school=need_school,
        needs=needs,
        pair_need=pair_need,
        pair_offering=pair_off,
        fit=fit,
        distance_km=distance,
        via=via,
        issue=issue,
    )


class _ReachIndex:
    """Spatial candidates: a superset of the (school, offering) pairs that can reach.

    k-d trees of unit vectors (chord length is monotone in great-circle distance) over every
    (offering, location) — the offering's own location and the organization's other ones: one
    over the offerings declaring no area, queried per school at its farthest reach; one per
    octave of declared service radius, queried at the octave's top; polygon coverage as listed;
    virtual offerings pair with every school. A pair found through several locations is kept
    once; reach_of then decides each candidate exactly, from its nearest location.
    """

    def __init__(
        self, off: OfferingColumns, places: Places, covered: sp.csr_matrix, cfg: RankingConfig
    ) -> None:
        virtual = (off.delivery & VIRTUAL_BIT) != 0
        radius_km = np.asarray(off.service_radius_km, dtype=np.float64)
        has_radius = ~virtual & ~np.isnan(radius_km)
        # Locations: one row per offering (its own), then one per other location of it.
        at = _positions(off.ids, places.ids) if len(places) else np.zeros(0, dtype=np.intp)
        known = np.flatnonzero(at >= 0)
        owner = np.concatenate([np.arange(len(off)), at[known]]).astype(np.int32)
        xyz = _unit_vectors(
            np.concatenate([off.lat, places.lat[known]]),
            np.concatenate([off.lon, places.lon[known]]),
        )
        plain = np.flatnonzero((~virtual & ~has_radius & ~off.has_service_area)[owner])
        self.trees: list[tuple[cKDTree, np.ndarray, float]] = []
        if len(plain):  # reach: scale * reach_cutoff_scales (the school's scale, per query)
            self.trees.append((cKDTree(xyz[plain]), plain, math.nan))
        octave = np.floor(np.log2(np.clip(np.nan_to_num(radius_km, nan=1.0), 1.0, None)))
        for step in np.unique(octave[has_radius]).tolist():
            rows = np.flatnonzero((has_radius & (octave == step))[owner])
            top = max(2.0 ** (step + 1), float(radius_km[owner[rows]].max()))
            self.trees.append((cKDTree(xyz[rows]), rows, top))
        self.virtual = np.flatnonzero(virtual)
        self.owner = owner  # per location row: offering row (int32, compact)
        self.several = np.zeros(len(off), dtype=bool)  # the offering has other locations
        self.several[at[known]] = True
        self.virtual_mask = virtual
        self.xyz = xyz
        # NaN (no radius, or virtual: found anyway) compares False.
        self.radius_chord = np.where(has_radius, _chord(np.nan_to_num(radius_km)), np.nan)
        self.n_off = len(off)
        coo = covered.tocoo()
        self.covered_keys = np.sort(coo.row.astype(np.int64) * self.n_off + coo.col)
        self.cutoff = max(cfg.at_school_travel_factor, 1.0) * cfg.reach_cutoff_scales

    def pairs(self, w: _Work, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(school row, offering row) candidates of these school rows, each pair once: found by
        any location of the offering, or covered, or virtual (a covered pair already found by
        the own location's radius or as virtual is dropped; several locations: deduplicated)."""
        xyz = _unit_vectors(w.schools.lat[rows], w.schools.lon[rows])
        s_parts = [np.repeat(rows, len(self.virtual))]
        o_parts = [np.tile(self.virtual, len(rows))]
        for tree, members, top in self.trees:
            km = w.per_school.scale_km[rows] * self.cutoff if math.isnan(top) else top
            lists = tree.query_ball_point(xyz, _chord(km))
            counts = np.fromiter(map(len, lists), dtype=np.intp, count=len(lists))
            hits = np.fromiter(itertools.chain.from_iterable(lists), np.intp, int(counts.sum()))
            at, loc = np.repeat(np.arange(len(rows)), counts), members[hits]
            if not math.isnan(top):  # the octave's top: keep each offering's own radius
                chord = np.linalg.norm(xyz[at] - self.xyz[loc], axis=1)
                keep = chord <= self.radius_chord[self.owner[loc]]
                at, loc = at[keep], loc[keep]
            s_parts.append(rows[at])
            o_parts.append(self.owner[loc].astype(np.intp))
        first, last = np.searchsorted(
            self.covered_keys, [rows[0] * self.n_off, (rows[-1] + 1) * self.n_off]
        )
        block = self.covered_keys[first:last]
        s, o = (block // self.n_off).astype(np.intp), (block % self.n_off).astype(np.intp)
        school_xyz = _unit_vectors(w.schools.lat[s], w.schools.lon[s])
        chord = np.linalg.norm(school_xyz - self.xyz[o], axis=1)  # from its own location
        found = self.virtual_mask[o] | (chord <= self.radius_chord[o])
        s_parts.append(s[~found])
        o_parts.append(o[~found])
        s, o = np.concatenate(s_parts), np.concatenate(o_parts)
        # An offering with other locations may be found through several (or through one and
        # covered too): its pairs are kept once. The others are found once already.
        several = self.several[o]
        if not several.any():
            return s, o
        keys = np.sort(s[several].astype(np.int64) * self.n_off + o[several])
        keys = keys[np.r_[True, keys[1:] != keys[:-1]]]  # a sort: faster than unique's hash
        s = np.concatenate([s[~several], (keys // self.n_off).astype(np.intp)])
        o = np.concatenate([o[~several], (keys % self.n_off).astype(np.intp)])
        return s, o

    def covers(self, s_rows: np.ndarray, o_rows: np.ndarray) -> np.ndarray:
        """Per pair: a polygon service area of the offering covers the school."""
        if not len(self.covered_keys):
            return np.zeros(len(s_rows), dtype=bool)
        key = s_rows.astype(np.int64) * self.n_off + o_rows
        at = np.minimum(np.searchsorted(self.covered_keys, key), len(self.covered_keys) - 1)
        return np.asarray(self.covered_keys[at] == key, dtype=bool)


@dataclass(frozen=True)
class _Work:
    """What every block of pairs is scored with; needs are flattened school by school."""

    schools: SchoolTable
    off: OfferingColumns
    text: sp.csr_matrix
    queries: sp.csr_matrix
    need_arrays: NeedArrays
    credit_table: np.ndarray
    need_branch: np.ndarray
    off_branch: np.ndarray  # (offerings, categories): branch of each category, -1 none
    need_start: np.ndarray  # per school: row of its first need
    need_count: np.ndarray
    school_branches: np.ndarray  # uint64 bits of the branches of its needs (or all bits)
    off_branches: np.ndarray  # uint64 bits of the offering's branches
    per_school: SchoolPlaces
    reach: _ReachIndex
    places: Places  # other locations of multi-site organizations' offerings
    cfg: RankingConfig
    reach_cfg: RankingConfig
    min_fit: float
    day: int


def _branch_bits(branch: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Per owner, a uint64 with bit b set for each branch b of its rows (every bit when the
    taxonomy has more than 64 branches: then nothing is filtered by it)."""
    if branch.size and branch.max() >= 64:
        return np.full(n, np.iinfo(np.uint64).max, dtype=np.uint64)
    bits = np.where(
        branch >= 0, np.left_shift(np.uint64(1), np.maximum(branch, 0).astype(np.uint64)), 0
    )
    out = np.zeros(n, dtype=np.uint64)
    np.bitwise_or.at(out, owner, np.bitwise_or.reduce(bits.astype(np.uint64), axis=1))
    return out


def _unit_vectors(lat: npt.ArrayLike, lon: npt.ArrayLike) -> np.ndarray:
    phi, lam = np.radians(np.asarray(lat, np.float64)), np.radians(np.asarray(lon, np.float64))
    return np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


def _chord(km: np.ndarray | float) -> np.ndarray:
    """Chord on the unit sphere of a great-circle distance, padded against rounding."""
    angle = np.minimum(np.asarray(km, dtype=np.float64) / EARTH_RADIUS_KM, np.pi)
    return 2.0 * np.sin(angle / 2.0) * (1 + 1e-6) + 1e-9


def _block_pairs(w: _Work, rows: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """The pairs of a block of schools (see _candidate_pairs), in chunks of candidates."""
    s_all, o_all = w.reach.pairs(w, rows)
    shared = (w.school_branches[s_all] & w.off_branches[o_all]) != 0  # only these earn fit
    s_all, o_all = s_all[shared], o_all[shared]
    out: list[tuple[np.ndarray, ...]] = []
    # Candidates in chunks: each is taken with every offering column (hundreds of bytes a
    # pair), and a block of a dense city has millions of them.
    for start in range(0, len(s_all), CANDIDATE_ROWS):
        stop = start + CANDIDATE_ROWS
        out.extend(_candidate_pairs(w, s_all[start:stop], o_all[start:stop]))
    return out


def _candidate_pairs(
    w: _Work, s_rows: np.ndarray, o_rows: np.ndarray
) -> list[tuple[np.ndarray, ...]]:
    """The pairs among these candidates: decided by reach_of, then each reaching offering
    against the school's needs of its branches, scored in chunks of bounded size."""
    flat_off = w.off.take(o_rows)
    # Each pair measured from the offering's location nearest its school (issue 12).
    w.places.nearest(flat_off, w.schools.lat[s_rows], w.schools.lon[s_rows])
    distance = haversine_km(
        w.schools.lat[s_rows], w.schools.lon[s_rows], flat_off.lat, flat_off.lon
    )
    covered = w.reach.covers(s_rows, o_rows)
    place = w.per_school.place(s_rows, distance, covered, flat_off.has_service_area)
    reach = reach_of(flat_off, place, w.reach_cfg)
    del flat_off
    reaches = np.flatnonzero(reach.eligible & (reach.virtual | reach.in_area | ~reach.outside_area))
    count = w.need_count[s_rows[reaches]]
    pair = np.repeat(reaches, count)
    need = np.repeat(w.need_start[s_rows[reaches]] - (np.cumsum(count) - count), count)
    need += np.arange(len(pair))
    same = (w.off_branch[o_rows[pair]] == w.need_branch[need][:, None]).any(axis=1)
    pair, need = pair[same], need[same]
    out: list[tuple[np.ndarray, ...]] = []
    for start in range(0, len(pair), SCORE_ROWS):
        p, n = pair[start : start + SCORE_ROWS], need[start : start + SCORE_ROWS]
        o = o_rows[p]
        similarity = np.asarray(w.queries[n].multiply(w.text[o]).sum(axis=1)).ravel()
        scored = score_rows(
            w.off.take(o),
            w.need_arrays,
            n,
            w.credit_table,
            np.clip(similarity, 0.0, 1.0)[:, None],
            take_rows(place, p),
            reach.value[p],
            as_of=w.day,
            equity=0.0,
            reverse=False,
            config=w.cfg,
        )
        cfg = w.cfg
        fit = scored.fit / cfg.fit_weight if cfg.fit_weight > 0 else scored.credit[:, 0]
        keep = (fit >= w.min_fit - SLACK) & (scored.credit[:, 0] > 0)
        issue = np.select(
            [
                scored.full,
                scored.inactive,
                scored.grade_share[:, 0] <= 0,
                scored.language_miss[:, 0],
            ],
            [ISSUE_FULL, ISSUE_INACTIVE, ISSUE_GRADES, ISSUE_LANGUAGE],
            0,
        )
        via = np.where(
            reach.virtual[p], VIA_VIRTUAL, np.where(reach.in_area[p], VIA_AREA, VIA_DISTANCE)
        )
        out.append((n[keep], o[keep], fit[keep], distance[p][keep], via[keep], issue[keep]))
    return out


class _Columns:
    """The pairs' columns, grown in place as blocks are appended (realloc: the kernel moves
    large arrays' pages, nothing is copied), then trimmed to size.

    Keeping the blocks and concatenating them at the end held every pair twice, and left the
    blocks' freed memory scattered through the heap, still resident, under what came next
    (at national scale tens of millions of pairs, gigabytes).
    """

    DTYPES = (np.int32, np.int32, np.float32, np.float64, np.int8, np.int8)
    GROWTH = 1.25  # capacity grows by this factor: at most a quarter more than the pairs

    def __init__(self) -> None:
        self.size = 0
        self.capacity = 0
        self.columns = [np.zeros(0, dtype=dtype) for dtype in self.DTYPES]

    def append(self, block: tuple[np.ndarray, ...]) -> None:
        n = len(block[0])
        if self.size + n > self.capacity:
            self._resize(max(self.size + n, int(self.capacity * self.GROWTH), 1 << 16))
        for column, values in zip(self.columns, block, strict=True):
            column[self.size : self.size + n] = values
        self.size += n

    def arrays(self) -> list[np.ndarray]:
        """The columns, trimmed to the pairs appended (hands them over: append no more)."""
        self._resize(self.size)
        columns, self.columns = self.columns, []
        return columns

    def _resize(self, capacity: int) -> None:
        for column in self.columns:
            # In place: the columns are this object's own, with no views of them yet.
            column.resize(capacity, refcheck=False)
        self.capacity = capacity


def _compact(chunks: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """A block's pairs in (need, offering) order, stored compactly: int32 rows, float32 fit
    (computed in float32), float64 distance, int8 via and issue — 22 bytes a pair."""
    need, off, fit, distance, via, issue = (np.concatenate(c) for c in zip(*chunks, strict=True))
    order = np.lexsort((off, need))
    return (
        need[order].astype(np.int32),
        off[order].astype(np.int32),
        fit[order].astype(np.float32),
        distance[order],
        via[order].astype(np.int8),
        issue[order].astype(np.int8),
    )


def _release_freed_memory() -> None:
    """Hand the memory the blocks freed back to the system (glibc's malloc_trim; elsewhere
    nothing). The blocks' temporaries, up to tens of megabytes each, sit in the heap (glibc
    raises its mmap threshold as large arrays are freed) and stay resident after they are
    freed: at national scale gigabytes, under whatever the caller allocates next."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _one_need_each(needs: NeedArrays) -> NeedArrays:
    """Needs laid out one per group, weighted 1 so that a pair's fit is the need's own fit.

    Capacity is shared by geo.coverage, so the model's per-need capacity penalty stays out.
    """
    return replace(
        needs, weight=np.ones_like(needs.weight), students=np.full_like(needs.students, np.nan)
    )


def _covered(
    covered: tuple[npt.ArrayLike, npt.ArrayLike] | None,
    school_ids: np.ndarray,
    off: OfferingColumns,
) -> sp.csr_matrix:
    """(schools, offerings) sparse bool: the offering's polygon service area covers the school."""
    shape = (len(school_ids), len(off))
    if covered is None:
        return sp.csr_matrix(shape, dtype=bool)
    c_school = _positions(school_ids, np.asarray(covered[0], dtype=np.int64))
    c_org = np.asarray(covered[1], dtype=np.int64)
    # Each covered (school, organization) pair becomes one pair per polygon offering of it.
    polygon = np.flatnonzero(off.has_service_area)
    by_org = polygon[np.argsort(off.organization_ids[polygon], kind="stable")]
    orgs = off.organization_ids[by_org]
    start = np.searchsorted(orgs, c_org, side="left")
    stop = np.searchsorted(orgs, c_org, side="right")
    ok = c_school >= 0
    counts = np.where(ok, stop - start, 0)
    rows = np.repeat(c_school, counts)
    firsts = np.repeat(start, counts)
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    cols = by_org[firsts + within]
    return sp.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=shape)


def _positions(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Row of each wanted id in ids (-1 when absent)."""
    if len(ids) == 0:
        return np.full(len(wanted), -1, dtype=np.intp)
    order = np.argsort(ids, kind="stable")
    pos = np.clip(np.searchsorted(ids[order], wanted), 0, len(ids) - 1)
    return np.where(ids[order][pos] == wanted, order[pos], -1)


def _empty(off: OfferingColumns, need_school: np.ndarray, needs: list[Need]) -> Reaching:
    nothing = np.zeros(0, dtype=np.int32)
    return Reaching(
        offerings=off,
        need_school=need_school,
        needs=needs,
        pair_need=nothing,
        pair_offering=nothing,
        fit=np.zeros(0, dtype=np.float32),
        distance_km=np.zeros(0),
        via=np.zeros(0, dtype=np.int8),
        issue=np.zeros(0, dtype=np.int8),
    )
