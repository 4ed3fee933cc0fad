"""Gap order, partnership deserts, summaries by category and asset counts per cell."""

import math

import numpy as np
import pytest
from pyproj import Geod

from geo import (
    MET,
    THIN,
    UNMET,
    BBox,
    DesertConfig,
    cell_xy,
    deserts,
    gap_order,
    nearest_km,
    summarize,
)
from geo.assets import AssetColumns, count_assets, padded_box

WGS84 = Geod(ellps="WGS84")
SCHOOL = (37.8053, -122.2725)


def _at(km: float, azimuth: float = 0.0) -> tuple[float, float]:
    lon, lat, _ = WGS84.fwd(SCHOOL[1], SCHOOL[0], azimuth, km * 1000)
    return lat, lon


def test_gaps_are_ordered_by_need_index_then_students_then_status():
    order = gap_order(
        need_index=[0.5, 0.9, 0.9, math.nan, 0.9, 0.9],
        students=[500, 10, 200, 900, math.nan, 200],
        status=[UNMET, UNMET, THIN, UNMET, UNMET, UNMET],
        priority=[1, 1, 1, 1, 1, 1],
        school_id=[1, 2, 3, 4, 5, 6],
        position=[0, 1, 2, 3, 4, 5],
    )
    # 0.9/200 unmet (6), 0.9/200 thin (3), 0.9/10 (2), 0.9/unknown (5), 0.5 (1), unknown (4)
    assert order.tolist() == [5, 2, 1, 4, 0, 3]


def test_equal_gaps_fall_back_to_priority_then_school_then_position():
    order = gap_order(
        need_index=[0.7] * 4,
        students=[100] * 4,
        status=[UNMET] * 4,
        priority=[2, 1, 1, 1],
        school_id=[1, 9, 3, 3],
        position=[0, 1, 3, 2],
    )
    assert order.tolist() == [3, 2, 1, 0]


def test_nearest_km_is_great_circle_and_inf_without_assets():
    lat, lon = _at(7.0)
    assert nearest_km([SCHOOL[0]], [SCHOOL[1]], [lat], [lon])[0] == pytest.approx(7.0, rel=0.005)
    assert nearest_km([SCHOOL[0]], [SCHOOL[1]], [], []).tolist() == [math.inf]


def _deserts(need_index, assets, *, scale=5.0, level=13):
    lats = [SCHOOL[0]] * len(need_index)
    lons = [SCHOOL[1]] * len(need_index)
    a_lat = [lat for lat, _, _ in assets]
    a_lon = [lon for _, lon, _ in assets]
    return deserts(
        lat=lats,
        lon=lons,
        need_index=need_index,
        scale_km=[scale] * len(need_index),
        asset_lat=a_lat,
        asset_lon=a_lon,
        asset_category=[c for _, _, c in assets],
        n_categories=2,
        config=DesertConfig(level=level),
    )


def test_a_high_need_school_far_from_every_asset_of_a_category_is_in_a_desert():
    near, far = _at(3.0), _at(8.0, 90.0)
    found = _deserts([0.8], [(*near, 0), (*far, 1)])
    assert [d.category for d in found] == [1]
    (desert,) = found
    x, y = cell_xy([SCHOOL[0]], [SCHOOL[1]], 13)
    assert (desert.x, desert.y) == (int(x[0]), int(y[0]))
    assert desert.schools.tolist() == [0]
    assert desert.nearest_km[0] == pytest.approx(8.0, rel=0.005)


def test_low_need_and_unknown_need_schools_never_make_a_desert():
    assert _deserts([0.59, math.nan], []) == []


def test_a_category_with_no_asset_at_all_is_a_desert_with_no_nearest_asset():
    found = _deserts([0.6], [(*_at(1.0), 0)])
    assert [(d.category, d.nearest_km.tolist()) for d in found] == [(1, [math.inf])]


def test_far_is_measured_in_the_schools_own_decay_scale():
    asset = [(*_at(8.0), 0), (*_at(8.0), 1)]
    assert len(_deserts([0.9], asset, scale=5.0)) == 2  # city: 5 km
    assert _deserts([0.9], asset, scale=10.0) == []  # suburb: 10 km


def test_schools_in_one_cell_share_one_desert_per_category():
    found = _deserts([0.9, 0.7, 0.95], [])
    assert [(d.category, d.schools.tolist()) for d in found] == [(0, [0, 1, 2]), (1, [0, 1, 2])]


def test_summary_counts_needs_by_category_and_status():
    s = summarize(
        category=[0, 0, 0, 1, 1],
        status=[MET, THIN, UNMET, UNMET, UNMET],
        school=[1, 1, 2, 3, 3],
        students=[10, 20, math.nan, 5, 7],
        n_categories=3,
    )
    assert s.needs.tolist() == [3, 2, 0]
    assert (s.met.tolist(), s.thin.tolist(), s.unmet.tolist()) == ([1, 0, 0], [1, 0, 0], [1, 2, 0])
    assert s.schools_with_gaps.tolist() == [2, 1, 0]
    assert s.students_in_gaps.tolist() == [20.0, 12.0, 0.0]


def test_assets_are_counted_per_group_with_distinct_offerings_and_categories():
    assets = AssetColumns(
        offering=np.array([1, 1, 2, 3]),
        organization=np.array([10, 10, 10, 11]),
        virtual=np.array([False, False, True, False]),
        pair_asset=np.array([0, 1, 1, 2, 3]),
        pair_category=np.array([0, 0, 1, 1, 0]),
    )
    counts = count_assets(assets, [0, 0, 1, 1], 2, 2)
    assert counts.assets.tolist() == [2, 2]
    assert counts.offerings.tolist() == [1, 2]
    assert counts.organizations.tolist() == [1, 2]
    assert counts.virtual.tolist() == [0, 1]
    assert counts.by_category.tolist() == [[2, 1], [1, 1]]
    sub = assets.take(np.array([1, 3]))
    assert sub.pair_asset.tolist() == [0, 0, 1] and sub.pair_category.tolist() == [0, 1, 0]


def test_a_padded_box_holds_every_point_at_least_that_far_away():
    box = padded_box([37.7, 37.9], [-122.3, -122.1], 5.0)
    for azimuth in range(0, 360, 45):
        for lat0, lon0 in ((37.7, -122.3), (37.9, -122.1)):
            lon, lat, _ = WGS84.fwd(lon0, lat0, azimuth, 5000.0)
            assert box.contains([lat], [lon])[0]


def test_a_padded_box_across_the_antimeridian_stays_small():
    box = padded_box([-17.0], [179.99], 5.0)
    assert box.crosses_antimeridian and box.max_lon < -179.9
    assert padded_box([-17.0, -17.0], [179.0, -179.0], 5.0) == BBox(
        -180.0, box.min_lat, 180.0, box.max_lat
    )
