"""Capacity-aware coverage of school needs by the offerings that reach them.

Input: candidate pairs (need n, offering o, fit q) — offerings that reach the need's school
and are usable for it — with each offering's capacity left and each need's students. Then:

1. A pair counts when q >= min_fit (default 0.42: an offering of the need's own category,
   or its parent or child category, counts; a sibling category counts only with strongly
   matching text). Pairs below it are not coverage and take no capacity.
2. Capacity is shared equally among everyone the offering counts for. An offering with room
   for C more schools that counts for the needs of D schools gives each of them the share
   min(1, C / D); one with room for K more students gives each pair min(1, K / S), S the
   students its schools need (per school the most any one of its needs it serves affects,
   so a school with two needs the offering serves is not counted twice). A pair's share is
   the smaller of the two; unknown students do not limit it.
   So an offering with room for 2 schools that 20 schools need gives each a tenth of itself.
   Capacity is never taken as unlimited: an offering declaring no school capacity is
   estimated and marked estimated — from the partner's history when the caller gives one
   (`estimated_schools_left`: e.g. the most schools it served in one school year), else
   `estimated_schools` schools (default 2, about what a small partner's offering serves in a
   year); unknown student capacity is then bounded by that school estimate.
3. A need's effective coverage is the sum over its counting pairs of q * share, and

       met    effective >= met  (default 0.7: one offering of the need's own category with
                                 a full share, or several partial ones adding up to it)
       thin   effective >= thin (default 0.2)
       unmet  otherwise (no offering, or too little of any)

The shares are only as stable as the set of schools they are computed over: pass every
school that can compete for the offerings (the service passes every assessed school), not
just the ones on the page, or a school's answer would depend on what else was asked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

STATUSES = ("unmet", "thin", "met")
SLACK = 1e-6  # fits are computed in float32 (7 significant digits)
UNMET, THIN, MET = 0, 1, 2
# Pairs per chunk of the per-pair passes: bounds their temporaries.
CHUNK = 1 << 18
# Largest (offering, school, students rank) key of _school_demand's sort.
KEY_LIMIT = np.iinfo(np.int64).max

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class CoverageConfig:
    """Thresholds of the coverage model (see the module docstring)."""

    # Fit (the ranking model's, in [0, 1]) an offering needs to count for a need at all.
    min_fit: float = 0.42
    # Effective coverage at or above which a need is met, and at or above which it is thin.
    met: float = 0.7
    thin: float = 0.2
    # Reach (matching.pairs): an in-person offering declaring no service area reaches a school
    # within this many of the school's locale decay scales (RankingConfig.scale_km: 5 km city
    # .. 40 km rural; x1.5 when the partner comes to the school); exp(-2) = 0.14 of full
    # reach. Virtual offerings reach everyone; a declared radius or polygon reaches exactly
    # the schools it covers.
    reach_scales: float = 2.0
    # Schools per year assumed for an offering that declares no school capacity (estimated).
    estimated_schools: float = 2.0

    def __post_init__(self) -> None:
        if not 0 <= self.thin <= self.met:
            raise ValueError("need 0 <= thin <= met")
        if not 0 <= self.min_fit <= 1:
            raise ValueError("min_fit must be in [0, 1]")
        if self.reach_scales <= 0:
            raise ValueError("reach_scales must be > 0")
        if self.estimated_schools <= 0:
            raise ValueError("estimated_schools must be > 0")


@dataclass(frozen=True)
class Coverage:
    """Per pair, per offering and per need results; arrays aligned with the inputs."""

    counts: npt.NDArray[np.bool_]  # per pair: fit >= min_fit
    share: FloatArray  # per pair: share of the offering it gets (0 when not counting)
    contribution: FloatArray  # per pair: fit * share
    schools_reached: IntArray  # per offering: schools it counts for
    school_share: FloatArray  # per offering: min(1, schools left / schools reached)
    estimated: npt.NDArray[np.bool_]  # per offering: school capacity estimated, not declared
    student_share: FloatArray  # per offering: min(1, students left / students needing it)
    offerings: IntArray  # per need: counting offerings
    effective: FloatArray  # per need: sum of contributions
    best_fit: FloatArray  # per need: best counting fit (0 when none)
    need_estimated: npt.NDArray[np.bool_]  # per need: a counting offering's capacity estimated
    status: IntArray  # per need: UNMET, THIN or MET


def needs_coverage(
    *,
    pair_need: npt.ArrayLike,
    pair_offering: npt.ArrayLike,
    fit: npt.ArrayLike,
    need_school: npt.ArrayLike,
    need_students: npt.ArrayLike,
    schools_left: npt.ArrayLike,
    students_left: npt.ArrayLike,
    config: CoverageConfig | None = None,
    estimated_schools_left: npt.ArrayLike | None = None,
) -> Coverage:
    """Share capacity and grade every need (see the module docstring).

    pair_need, pair_offering: row of each pair's need and offering; fit: its fit in [0, 1].
    need_school: school row of each need; need_students: students it affects (NaN unknown).
    schools_left, students_left: per offering, NaN when unknown (schools: estimated).
    estimated_schools_left: per offering, the estimate used where schools_left is unknown
    (NaN: config.estimated_schools), e.g. from the partner's history.
    """
    cfg = config or CoverageConfig()
    # Pair arrays keep their compact dtypes (int32 rows, float32 fits from matching.pairs):
    # at national scale they hold tens of millions of pairs, and copies would double them.
    p_need, p_off = _rows(pair_need), _rows(pair_offering)
    q = np.asarray(fit)
    if q.dtype not in (np.float32, np.float64):
        q = q.astype(np.float64)
    school = np.asarray(need_school, dtype=np.intp)
    students = np.asarray(need_students, dtype=np.float64)
    declared = np.asarray(schools_left, dtype=np.float64)
    estimated = np.isnan(declared)
    guess = np.full(len(declared), cfg.estimated_schools)
    if estimated_schools_left is not None:
        history = np.asarray(estimated_schools_left, dtype=np.float64)
        guess = np.where(np.isnan(history) | (history <= 0), guess, history)
    schools_cap = np.where(estimated, guess, declared)
    students_cap = np.asarray(students_left, dtype=np.float64)
    n_needs, n_off = len(school), len(schools_cap)

    counts = q >= cfg.min_fit - SLACK
    reached, wanted_students = _school_demand(p_need, p_off, counts, school, students, n_off)

    with np.errstate(divide="ignore", invalid="ignore"):
        school_share = np.where(
            reached == 0,
            1.0,
            np.clip(schools_cap / np.maximum(reached, 1), 0.0, 1.0),
        )
        student_share = np.where(
            np.isnan(students_cap) | (wanted_students <= 0),
            1.0,
            np.clip(students_cap / np.where(wanted_students > 0, wanted_students, 1.0), 0, 1),
        )
    # Per pair, in chunks: every temporary is a chunk long, never as long as the pairs (at
    # national scale they are tens of millions). Accumulations (np.add.at, like bincount, adds
    # in pair order) give exactly what whole-array operations give.
    n_pairs = len(p_need)
    share = np.empty(n_pairs, dtype=np.float64)
    contribution = np.empty(n_pairs, dtype=np.float64)
    offerings = np.zeros(n_needs, dtype=np.intp)
    effective = np.zeros(n_needs, dtype=np.float64)
    best_fit = np.zeros(n_needs)
    need_estimated = np.zeros(n_needs, dtype=bool)
    known_students = ~np.isnan(students)
    for start in range(0, n_pairs, CHUNK):
        stop = min(start + CHUNK, n_pairs)
        c_need, c_off, c_fit = p_need[start:stop], p_off[start:stop], q[start:stop]
        c_counts = counts[start:stop]
        part = school_share[c_off]
        part = np.where(known_students[c_need], np.minimum(part, student_share[c_off]), part)
        share[start:stop] = np.where(c_counts, part, 0.0)
        contribution[start:stop] = c_fit * share[start:stop]
        np.add.at(effective, c_need, contribution[start:stop])
        n_count, o_count = c_need[c_counts], c_off[c_counts]
        np.add.at(offerings, n_count, 1)
        np.maximum.at(best_fit, n_count, c_fit[c_counts])
        need_estimated[n_count[estimated[o_count]]] = True
    # Fits come through float32 credits: compare with a little slack, so an exact-category
    # offering with a full share (fit 0.7 in float32) meets a need as documented.
    status = np.where(
        effective >= cfg.met - SLACK, MET, np.where(effective >= cfg.thin - SLACK, THIN, UNMET)
    ).astype(np.intp)
    return Coverage(
        counts=counts,
        share=share,
        contribution=contribution,
        schools_reached=reached,
        school_share=school_share,
        estimated=estimated,
        student_share=student_share,
        offerings=offerings,
        effective=effective,
        best_fit=best_fit,
        need_estimated=need_estimated,
        status=status,
    )


def _school_demand(
    p_need: np.ndarray,
    p_off: np.ndarray,
    counts: np.ndarray,
    school: np.ndarray,
    students: np.ndarray,
    n_off: int,
) -> tuple[IntArray, FloatArray]:
    """Per offering: the distinct schools it counts for, and the students they need of it (per
    school the most of its needs the offering counts for; unknown students add nothing).

    The distinct (offering, school) pairs come from one in-place sort of an int64 key per
    counting pair, (offering, school, rank of the need's students): 8 bytes a pair, where an
    argsort of the pairs held about 40. Each (offering, school) run ends at its largest
    students. Runs are read in chunks cut at offering boundaries, so each offering's students
    add up in the same order (ascending school) as one bincount over every run would.
    """
    n_schools = int(school.max()) + 1 if len(school) else 0
    levels = np.unique(students[~np.isnan(students)])
    # Rank 0: unknown students (the most of a school's needs is unknown only if all are).
    rank = np.where(np.isnan(students), 0, np.searchsorted(levels, students) + 1)
    value = np.nan_to_num(np.concatenate([[np.nan], levels]))
    n_ranks = len(levels) + 1
    if n_off * n_schools * n_ranks > KEY_LIMIT:
        return _school_demand_by_lexsort(p_need, p_off, counts, school, students, n_off)
    key = np.empty(int(np.count_nonzero(counts)), dtype=np.int64)
    at = 0
    for start in range(0, len(p_need), CHUNK):
        keep = counts[start : start + CHUNK]
        need = p_need[start : start + CHUNK][keep]
        off = p_off[start : start + CHUNK][keep].astype(np.int64)
        key[at : at + len(need)] = (off * n_schools + school[need]) * n_ranks + rank[need]
        at += len(need)
    key.sort()
    reached = np.zeros(n_off, dtype=np.intp)
    wanted = np.zeros(n_off, dtype=np.float64)
    start, per_offering = 0, n_schools * n_ranks
    while start < len(key):
        stop = min(start + CHUNK, len(key))
        if stop < len(key):  # on to the end of the last offering begun
            last_off = int(key[stop - 1]) // per_offering
            stop = int(np.searchsorted(key, (last_off + 1) * per_offering))
        group = key[start:stop] // n_ranks
        ends = np.flatnonzero(np.r_[group[1:] != group[:-1], True])
        off = group[ends] // n_schools
        reached += np.bincount(off, minlength=n_off)
        wanted += np.bincount(off, weights=value[key[start:stop][ends] % n_ranks], minlength=n_off)
        start = stop
    return reached, wanted


def _school_demand_by_lexsort(
    p_need: np.ndarray,
    p_off: np.ndarray,
    counts: np.ndarray,
    school: np.ndarray,
    students: np.ndarray,
    n_off: int,
) -> tuple[IntArray, FloatArray]:
    """_school_demand when its key would not fit in an int64: a lexsort of the pairs."""
    c_need, c_off = p_need[counts], p_off[counts]
    c_school = school[c_need]
    order = np.lexsort((c_school, c_off))
    o_sorted, s_sorted = c_off[order], c_school[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (o_sorted[1:] != o_sorted[:-1]) | (s_sorted[1:] != s_sorted[:-1])
    starts = np.flatnonzero(first)
    demand_students = students[c_need[order]]
    per_school_students = (
        np.fmax.reduceat(demand_students, starts) if len(starts) else np.zeros(0, np.float64)
    )
    school_off = o_sorted[starts]
    reached = np.bincount(school_off, minlength=n_off).astype(np.intp)
    weights = np.nan_to_num(per_school_students)
    wanted = np.bincount(school_off, weights=weights, minlength=n_off).astype(np.float64)
    return reached, wanted


def _rows(values: npt.ArrayLike) -> np.ndarray:
    """Row numbers as given when they are integers (int32 stays int32), else as intp."""
    rows = np.asarray(values)
    return rows if rows.dtype.kind in "iu" else rows.astype(np.intp)
