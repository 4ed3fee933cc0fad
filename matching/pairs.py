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

Only offerings sharing a taxonomy branch with a need can earn fit, so the work is done branch
by branch: each branch's needs against that branch's offerings, as dense blocks. Distances
are great-circle (geo.distance.haversine_km, as in ranking), from the location the index holds
per offering. geo.coverage then shares capacity over these pairs and grades each need.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from geo.coverage import SLACK, CoverageConfig
from geo.distance import haversine_km
from matching.columns import OfferingColumns
from matching.config import RankingConfig
from matching.index import OfferingIndex
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

# How an offering reaches a school.
VIA = ("distance", "service_area", "virtual")
VIA_DISTANCE, VIA_AREA, VIA_VIRTUAL = 0, 1, 2
# Why a reaching offering cannot serve a need (0: it can).
ISSUES = ("", "full", "inactive", "grades", "language")
ISSUE_FULL, ISSUE_INACTIVE, ISSUE_GRADES, ISSUE_LANGUAGE = 1, 2, 3, 4


@dataclass(frozen=True)
class Reaching:
    """(need, offering) pairs with fit >= min_fit whose offering reaches the need's school."""

    offerings: OfferingColumns  # the offerings considered; pair_offering indexes these rows
    need_school: npt.NDArray[np.intp]  # per need (schools' needs flattened in order): school row
    needs: list[Need]
    pair_need: npt.NDArray[np.intp]
    pair_offering: npt.NDArray[np.intp]
    fit: npt.NDArray[np.float64]
    distance_km: npt.NDArray[np.float64]
    via: npt.NDArray[np.int8]
    issue: npt.NDArray[np.int8]

    @property
    def usable(self) -> npt.NDArray[np.bool_]:
        """Per pair: the offering can serve the need (no issue); coverage counts only these."""
        return np.asarray(self.issue == 0, dtype=np.bool_)


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
    day = (as_of or dt.date.today()).toordinal()
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
    need_branch = tree.branch[tree.lookup([n.category for n in needs])]
    off_branch = np.where(off.categories >= 0, tree.branch[np.maximum(off.categories, 0)], -1)
    queries = snap.query_rows(layout.texts)
    need_arrays = _one_need_each(layout.needs)
    per_school = school_places(schools, np.arange(len(schools)), snap.languages, cfg)
    covered_matrix = _covered(covered, schools.ids, off)

    parts: list[tuple[np.ndarray, ...]] = []
    for branch in np.unique(need_branch):
        nb = np.flatnonzero(need_branch == branch)
        ob = np.flatnonzero((off_branch == branch).any(axis=1))
        if len(ob) == 0:
            continue
        part = _branch_pairs(
            nb,
            ob,
            off,
            text,
            queries,
            need_school,
            need_arrays,
            layout.credit_table,
            per_school,
            covered_matrix,
            schools,
            cfg,
            reach_cfg,
            cov.min_fit,
            day,
        )
        if part is not None:
            parts.append(part)
    if not parts:
        return _empty(off, need_school, needs)
    pair_need, pair_off, fit, distance, via, issue = (
        np.concatenate(p) for p in zip(*parts, strict=True)
    )
    order = np.lexsort((pair_off, pair_need))
    return Reaching(
        offerings=off,
        need_school=need_school,
        needs=needs,
        pair_need=pair_need[order],
        pair_offering=pair_off[order],
        fit=fit[order],
        distance_km=distance[order],
        via=via[order].astype(np.int8),
        issue=issue[order].astype(np.int8),
    )


def _branch_pairs(
    nb: np.ndarray,
    ob: np.ndarray,
    off: OfferingColumns,
    text: sp.csr_matrix,
    queries: sp.csr_matrix,
    need_school: np.ndarray,
    need_arrays: NeedArrays,
    credit_table: np.ndarray,
    per_school: SchoolPlaces,
    covered_matrix: sp.csr_matrix,
    schools: SchoolTable,
    cfg: RankingConfig,
    reach_cfg: RankingConfig,
    min_fit: float,
    day: int,
) -> tuple[np.ndarray, ...] | None:
    """The pairs of one taxonomy branch: its needs against its offerings, as a dense block."""
    sb, s_pos = np.unique(need_school[nb], return_inverse=True)
    n_s, n_o = len(sb), len(ob)
    block = off.take(ob)
    s_idx = np.repeat(np.arange(n_s), n_o)
    o_idx = np.tile(np.arange(n_o), n_s)
    flat_off = block.take(o_idx)
    distance = haversine_km(
        schools.lat[sb][:, None], schools.lon[sb][:, None], block.lat[None, :], block.lon[None, :]
    ).ravel()
    covered = np.asarray(covered_matrix[sb][:, ob].toarray(), dtype=bool).ravel()
    place = per_school.place(sb[s_idx], distance, covered, flat_off.has_service_area)
    reach = reach_of(flat_off, place, reach_cfg)
    reaches = reach.eligible & (reach.virtual | reach.in_area | ~reach.outside_area)
    need_rows, off_cols = np.nonzero(reaches.reshape(n_s, n_o)[s_pos])
    if len(need_rows) == 0:
        return None
    similarity = (queries[nb] @ text[ob].T).toarray()
    flat = s_pos[need_rows] * n_o + off_cols
    rows_place = take_rows(place, flat)
    scored = score_rows(
        block.take(off_cols),
        need_arrays,
        nb[need_rows],
        credit_table,
        np.clip(similarity[need_rows, off_cols], 0.0, 1.0)[:, None],
        rows_place,
        reach.value[flat],
        as_of=day,
        equity=0.0,
        reverse=False,
        config=cfg,
    )
    fit = scored.fit / cfg.fit_weight if cfg.fit_weight > 0 else scored.credit[:, 0]
    keep = (fit >= min_fit - SLACK) & (scored.credit[:, 0] > 0)
    issue = np.select(
        [scored.full, scored.inactive, scored.grade_share[:, 0] <= 0, scored.language_miss[:, 0]],
        [ISSUE_FULL, ISSUE_INACTIVE, ISSUE_GRADES, ISSUE_LANGUAGE],
        0,
    )
    via = np.where(
        reach.virtual[flat], VIA_VIRTUAL, np.where(reach.in_area[flat], VIA_AREA, VIA_DISTANCE)
    )
    return (
        nb[need_rows][keep],
        ob[off_cols][keep],
        fit[keep],
        distance[flat][keep],
        via[keep],
        issue[keep],
    )


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
    nothing = np.zeros(0, dtype=np.intp)
    return Reaching(
        offerings=off,
        need_school=need_school,
        needs=needs,
        pair_need=nothing,
        pair_offering=nothing,
        fit=np.zeros(0),
        distance_km=np.zeros(0),
        via=np.zeros(0, dtype=np.int8),
        issue=np.zeros(0, dtype=np.int8),
    )
