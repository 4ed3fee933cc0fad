"""Spatially pruned fit_and_reach equals a brute-force reference, on seeded data.

The reference below (`dense_fit_and_reach`) tries every school against every offering, one pair
at a time in plain Python, each pair measured from the organization's location nearest the
school (issue 12), and decides reach, coverage, what is kept and why from matching/pairs.py's
docstring, not its code: pruning (issue 15) must drop only pairs that cannot reach, and a slip
in pairs.py's own decisions shows up as a difference.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import fields, replace

import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse as sp

import geo
from bench.synthetic import synthetic_offerings, synthetic_schools, synthetic_taxonomy
from geo.coverage import SLACK, CoverageConfig
from geo.distance import EARTH_RADIUS_KM
from matching import OfferingIndex, SchoolTable, fit_and_reach
from matching.columns import OfferingColumns
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
)
from matching.scoring import reach_of, school_places, score_rows
from matching.tables import Need, OfferingTable
from matching.vocab import AT_SCHOOL_BIT, VIRTUAL_BIT
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
    got_cover, want_cover = got.coverage(), _coverage(want)
    assert np.array_equal(got_cover.status, want_cover.status)
    np.testing.assert_allclose(got_cover.effective, want_cover.effective, rtol=1e-6)  # float32 fits


def test_pruned_pairs_equal_the_dense_ones_for_a_subset_of_offerings():
    index, schools, covered = _case(17, BAY_AREA, 1500, 30)
    ids = index.snapshot().live()[0].ids[::3]
    got = fit_and_reach(index, schools, covered=covered, offering_ids=ids, as_of=AS_OF)
    want = dense_fit_and_reach(index, schools, covered=covered, offering_ids=ids, as_of=AS_OF)
    assert len(want.pair_need) > 100
    _assert_same(got, want)


def test_coverage_of_the_usable_pairs_by_mask_equals_it_by_row_numbers():
    """Reaching.coverage (what the gap service and `bench gaps` both run) takes the usable pairs
    by a boolean mask; every field equals coverage over them taken by row numbers, with a
    configuration and history estimates passed through."""
    index, schools, covered = _case(5, BAY_AREA, 1500, 40)
    reach = fit_and_reach(index, schools, covered=covered, as_of=AS_OF)
    assert 0 < reach.usable.sum() < len(reach.fit)  # some pairs are left out
    config = CoverageConfig(met=0.8, estimated_schools=1.5)
    rng = np.random.default_rng(5)
    estimates = np.where(rng.random(len(reach.offerings)) < 0.5, np.nan, 3.0)
    got = reach.coverage(config=config, estimated_schools_left=estimates)
    want = _coverage(reach, config=config, estimated_schools_left=estimates)
    for field in fields(geo.Coverage):
        assert np.array_equal(getattr(got, field.name), getattr(want, field.name)), field.name


def _coverage(r: Reaching, **options) -> geo.Coverage:
    """The reference: coverage of the usable pairs taken by their row numbers."""
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
        **options,
    )


# --- the brute-force reference --------------------------------------------------------------


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance, one pair at a time in plain Python."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin((math.radians(lon2) - math.radians(lon1)) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(max(a, 0.0), 1.0)))


def dense_fit_and_reach(
    index: OfferingIndex,
    schools: SchoolTable,
    *,
    covered: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    offering_ids: npt.ArrayLike | None = None,
    coverage: CoverageConfig | None = None,
    as_of: dt.date | None = None,
) -> Reaching:
    """The reference, written from matching/pairs.py's docstring and not from its code: every
    school against every offering, one pair at a time, with no spatial index, no taxonomy
    branches and no blocks. Only the model's own terms come from matching.scoring (the fit
    of a need and offering, by score_rows); reach, nearest locations, polygon coverage, which
    pairs are kept, their issue and how they reach are decided here, in plain Python."""
    cfg = index.config
    cov = coverage or CoverageConfig()
    snap = index.snapshot()
    if offering_ids is None:
        off, text = snap.live()
    else:
        wanted = np.asarray(offering_ids, dtype=np.int64)
        off, text = snap.live(lambda cols: np.isin(cols.ids, wanted))
    need_school = np.array(
        [i for i, group in enumerate(schools.needs) for _ in group], dtype=np.intp
    )
    needs = [need for group in schools.needs for need in group]

    # Every location of each offering: its own, then its organization's others.
    others: dict[int, list[tuple[float, float]]] = {}
    for oid, lat, lon in zip(
        snap.places.ids.tolist(), snap.places.lat.tolist(), snap.places.lon.tolist(), strict=True
    ):
        others.setdefault(oid, []).append((lat, lon))
    polygons = (
        set(zip(*(np.asarray(c).tolist() for c in covered), strict=True)) if covered else set()
    )
    travel = max(cfg.at_school_travel_factor, 1.0)

    # Reach of every (school, offering) pair.
    reached: list[tuple[int, int, float, bool, int]] = []  # school, offering, km, covered, via
    for s in range(len(schools)):
        if not schools.needs[s]:
            continue
        s_lat, s_lon = float(schools.lat[s]), float(schools.lon[s])
        scale = cfg.scale_km(schools.locale[s])
        for o in range(len(off)):
            oid = int(off.ids[o])
            km = min(
                _km(s_lat, s_lon, lat, lon)
                for lat, lon in [(float(off.lat[o]), float(off.lon[o])), *others.get(oid, [])]
            )
            delivery = int(off.delivery[o])
            radius = float(off.service_radius_km[o])
            polygon = bool(off.has_service_area[o])
            in_polygon = polygon and (int(schools.ids[s]), int(off.organization_ids[o])) in polygons
            in_area = km <= radius or in_polygon  # False for a NaN radius
            declares = polygon or not math.isnan(radius)
            reach_km = scale * (travel if delivery & AT_SCHOOL_BIT else 1.0) * cov.reach_scales
            if delivery & VIRTUAL_BIT:
                via = VIA_VIRTUAL
            elif in_area:
                via = VIA_AREA
            elif not declares and km <= reach_km:
                via = VIA_DISTANCE
            else:
                continue  # out of reach, or outside the area it declares however near
            reached.append((s, o, km, in_polygon, via))
    kept = _kept(index, schools, needs, need_school, reached, off, text, cov, as_of)
    kept.sort(key=lambda k: (k[0], k[1]))
    need, offering, fit, distance, via, issue = list(zip(*kept, strict=True)) or [()] * 6
    return Reaching(
        offerings=off,
        need_school=need_school,
        needs=needs,
        pair_need=np.array(need, dtype=np.int32),
        pair_offering=np.array(offering, dtype=np.int32),
        fit=np.array(fit, dtype=np.float32),
        distance_km=np.array(distance, dtype=np.float64),
        via=np.array(via, dtype=np.int8),
        issue=np.array(issue, dtype=np.int8),
    )


def _kept(
    index: OfferingIndex,
    schools: SchoolTable,
    needs: list[Need],
    need_school: np.ndarray,
    reached: list[tuple[int, int, float, bool, int]],
    off: OfferingColumns,
    text: sp.csr_matrix,
    cov: CoverageConfig,
    as_of: dt.date | None,
) -> list[tuple[int, int, float, float, int, int]]:
    """(need, offering, fit, km, via, issue) of each need of a reached school whose fit with the
    offering is kept, by the model's fit (score_rows)."""
    if not needs or not reached:
        return []
    cfg, snap = index.config, index.snapshot()
    # The model's fit of each need of a reached school with the offering.
    tree = snap.tree.extended(n.category for n in needs)
    grades = [(int(schools.grade_low[s]), int(schools.grade_high[s])) for s in need_school.tolist()]
    layout = layout_needs([[n] for n in needs], grades, tree, snap.languages, cfg)
    one_each = replace(  # the need's own fit: weight 1; capacity is shared by geo.coverage
        layout.needs,
        weight=np.ones_like(layout.needs.weight),
        students=np.full_like(layout.needs.students, np.nan),
    )
    similarity = np.clip((snap.query_rows(layout.texts) @ text.T).toarray(), 0.0, 1.0)
    first_need = np.cumsum([len(g) for g in schools.needs]) - [len(g) for g in schools.needs]
    rows = [
        (n, r)
        for r, (s, *_rest) in enumerate(reached)
        for n in range(int(first_need[s]), int(first_need[s]) + len(schools.needs[s]))
    ]
    pair_need = np.array([n for n, _ in rows], dtype=np.intp)
    pair_reached = np.array([r for _, r in rows], dtype=np.intp)
    s_rows = np.array([reached[r][0] for r in pair_reached], dtype=np.intp)
    o_rows = np.array([reached[r][1] for r in pair_reached], dtype=np.intp)
    km = np.array([reached[r][2] for r in pair_reached])
    flat_off = off.take(o_rows)
    place = school_places(schools, np.arange(len(schools)), snap.languages, cfg).place(
        s_rows, km, np.array([reached[r][3] for r in pair_reached]), flat_off.has_service_area
    )
    scored = score_rows(
        flat_off,
        one_each,
        pair_need,
        layout.credit_table,
        similarity[pair_need, o_rows][:, None],
        place,
        reach_of(flat_off, place, replace(cfg, reach_cutoff_scales=cov.reach_scales)).value,
        as_of=(as_of or dt.date.today()).toordinal(),
        equity=0.0,
        reverse=False,
        config=cfg,
    )

    # Kept: a fit of at least min_fit from taxonomy credit; the first issue that demotes it.
    kept = []
    for i in range(len(rows)):
        credit = float(scored.credit[i, 0])
        fit = float(scored.fit[i]) / cfg.fit_weight if cfg.fit_weight > 0 else credit
        if credit <= 0 or fit < cov.min_fit - SLACK:
            continue
        if scored.full[i]:
            issue = ISSUE_FULL
        elif scored.inactive[i]:
            issue = ISSUE_INACTIVE
        elif scored.grade_share[i, 0] <= 0:
            issue = ISSUE_GRADES
        elif scored.language_miss[i, 0]:
            issue = ISSUE_LANGUAGE
        else:
            issue = 0
        r = int(pair_reached[i])
        kept.append((int(pair_need[i]), int(o_rows[i]), fit, reached[r][2], reached[r][4], issue))
    return kept
