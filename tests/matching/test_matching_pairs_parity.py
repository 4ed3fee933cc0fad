"""Spatially pruned fit_and_reach equals the dense computation it replaced, on seeded data.

The dense reference below is fit_and_reach before pruning (issue 15): every school against every
offering of a need's branch, each pair measured from the organization's location nearest the
school (issue 12). Pruning must drop only pairs that cannot reach.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse as sp

import geo
from bench.synthetic import synthetic_offerings, synthetic_schools, synthetic_taxonomy
from geo.coverage import SLACK, CoverageConfig
from geo.distance import haversine_km
from matching import OfferingIndex, RankingConfig, SchoolTable, fit_and_reach
from matching.columns import OfferingColumns
from matching.index import Places
from matching.needs import layout_needs
from matching.pairs import (
    ISSUE_FULL,
    ISSUE_GRADES,
    ISSUE_INACTIVE,
    ISSUE_LANGUAGE,
    VIA,
    VIA_AREA,
    VIA_DISTANCE,
    VIA_VIRTUAL,
    Reaching,
    _covered,
    _empty,
    _one_need_each,
)
from matching.scoring import (
    NeedArrays,
    SchoolPlaces,
    reach_of,
    school_places,
    score_rows,
    take_rows,
)
from matching.tables import OfferingTable
from tests.matching.factories import AS_OF

BAY_AREA = (-122.6, 37.5, -121.9, 38.0)
WIDE = (-124.0, 36.0, -119.0, 40.0)  # rural reach and long service radii cross blocks


def _with_more_locations(table: OfferingTable, seed: int, bbox) -> OfferingTable:
    """A seeded fifth of the offerings get one to three other locations in the box."""
    rng = np.random.default_rng(seed)
    lon0, lat0, lon1, lat1 = bbox
    more = [
        tuple(
            (
                float(rng.uniform(lat0, lat1)),
                float(rng.uniform(lon0, lon1)),
                bool(rng.random() < 0.3),
            )
            for _ in range(int(rng.integers(1, 4)) if rng.random() < 0.2 else 0)
        )
        for _ in range(len(table))
    ]
    return replace(table, more_locations=more)


def _case(seed: int, bbox, n_offerings: int, n_schools: int):
    parents, names = synthetic_taxonomy()
    codes = list(parents)
    base = _with_more_locations(synthetic_offerings(n_offerings, seed, codes, bbox), seed, bbox)
    index = OfferingIndex.build(base, parents, names=names)
    buffered = synthetic_offerings(150, seed + 1, codes, bbox)
    index.upsert(_with_more_locations(buffered, seed + 1, bbox))  # buffered rows
    index.remove(range(151, 251))
    schools = synthetic_schools(n_schools, seed + 2, codes, bbox)
    off, _ = index.snapshot().live()
    # Polygon areas: each organization declaring one covers a random third of the schools.
    rng = np.random.default_rng(seed + 3)
    orgs = np.unique(off.organization_ids[off.has_service_area])
    school_ids, org_ids = np.meshgrid(schools.ids, orgs, indexing="ij")
    pick = rng.random(school_ids.shape) < 0.33
    return index, schools, (school_ids[pick], org_ids[pick])


def _assert_same(got: Reaching, want: Reaching) -> None:
    assert np.array_equal(got.need_school, want.need_school)
    assert np.array_equal(got.pair_need, want.pair_need)
    assert np.array_equal(
        got.offerings.ids[got.pair_offering], want.offerings.ids[want.pair_offering]
    )
    np.testing.assert_allclose(got.fit, want.fit, rtol=0, atol=SLACK)
    np.testing.assert_allclose(got.distance_km, want.distance_km, rtol=1e-12, atol=1e-9)
    assert np.array_equal(got.via, want.via)
    assert np.array_equal(got.issue, want.issue)


@pytest.mark.parametrize(
    ("seed", "bbox", "n_offerings", "n_schools"),
    [(7, BAY_AREA, 2500, 40), (11, WIDE, 3000, 60), (13, BAY_AREA, 400, 300)],
)
def test_pruned_pairs_and_coverage_equal_the_dense_computation(seed, bbox, n_offerings, n_schools):
    index, schools, covered = _case(seed, bbox, n_offerings, n_schools)
    got = fit_and_reach(index, schools, covered=covered, as_of=AS_OF)
    want = dense_fit_and_reach(index, schools, covered=covered, as_of=AS_OF)
    assert len(want.pair_need) > 500  # many pairs compared
    assert set(VIA[v] for v in want.via) >= {"distance", "virtual", "service_area"}
    _assert_same(got, want)
    got_cover, want_cover = _coverage(got), _coverage(want)
    assert np.array_equal(got_cover.status, want_cover.status)
    np.testing.assert_allclose(got_cover.effective, want_cover.effective, rtol=1e-6)  # float32 fits


def test_pruned_pairs_equal_the_dense_ones_for_a_subset_of_offerings():
    index, schools, covered = _case(17, BAY_AREA, 1500, 30)
    ids = index.snapshot().live()[0].ids[::3]
    got = fit_and_reach(index, schools, covered=covered, offering_ids=ids, as_of=AS_OF)
    want = dense_fit_and_reach(index, schools, covered=covered, offering_ids=ids, as_of=AS_OF)
    assert len(want.pair_need) > 100
    _assert_same(got, want)


def _coverage(r: Reaching) -> geo.Coverage:
    usable = np.flatnonzero(r.usable)
    return geo.needs_coverage(
        pair_need=r.pair_need[usable],
        pair_offering=r.pair_offering[usable],
        fit=r.fit[usable],
        need_school=r.need_school,
        need_students=np.array(
            [np.nan if n.students_affected is None else n.students_affected for n in r.needs],
            dtype=float,
        ),
        schools_left=r.offerings.schools_left,
        students_left=r.offerings.students_left,
    )


# --- the dense reference -------------------------------------------------------------------


def dense_fit_and_reach(
    index: OfferingIndex,
    schools: SchoolTable,
    *,
    covered: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    offering_ids: npt.ArrayLike | None = None,
    coverage: CoverageConfig | None = None,
    as_of: dt.date | None = None,
) -> Reaching:
    """The reference: fit_and_reach as it was before spatial pruning, every school with a need
    of a branch against every offering of that branch, dense, unreachable pairs dropped after."""
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
            snap.places,
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
    places: Places,
    schools: SchoolTable,
    cfg: RankingConfig,
    reach_cfg: RankingConfig,
    min_fit: float,
    day: int,
) -> tuple[np.ndarray, ...] | None:
    """The pairs of one taxonomy branch: its needs against all its offerings, as a dense block."""
    sb, s_pos = np.unique(need_school[nb], return_inverse=True)
    n_s, n_o = len(sb), len(ob)
    block = off.take(ob)
    s_idx = np.repeat(np.arange(n_s), n_o)
    o_idx = np.tile(np.arange(n_o), n_s)
    flat_off = block.take(o_idx)
    # Every pair from the offering's location nearest its school.
    places.nearest(flat_off, schools.lat[sb][s_idx], schools.lon[sb][s_idx])
    distance = haversine_km(
        schools.lat[sb][s_idx], schools.lon[sb][s_idx], flat_off.lat, flat_off.lon
    )
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
        flat_off.take(flat),
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
