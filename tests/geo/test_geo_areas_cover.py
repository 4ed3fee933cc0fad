"""Coverage tests: boundary semantics, holes, many areas at once, and radius service areas."""

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import (
    GeometryError,
    covers,
    covers_many,
    densify_edges,
    geodesic_m,
    parse_service_area,
    service_area_from_radius,
)
from geo.distance import WGS84

SQUARE_WITH_HOLE = parse_service_area(
    {
        "type": "Polygon",
        "coordinates": [
            [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
            [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]],
        ],
    }
)


def test_points_on_the_boundary_are_covered_like_st_covers():
    lats = [0.0, 5.0, 10.0, 4.0, 5.0]
    lons = [5.0, 0.0, 10.0, 5.0, 6.0]  # outer edge, outer edge, corner, hole edge, hole edge
    assert covers(SQUARE_WITH_HOLE, lats, lons).all()


def test_points_in_the_hole_or_outside_are_not_covered():
    assert covers(SQUARE_WITH_HOLE, [5.0, -0.1, 5.0], [5.0, 5.0, 10.5]).tolist() == [
        False,
        False,
        False,
    ]


def test_covers_keeps_the_shape_of_its_inputs():
    lats = np.full((2, 3), 1.0)
    assert covers(SQUARE_WITH_HOLE, lats, lats).shape == (2, 3)


def test_covers_many_checks_one_point_against_each_area():
    elsewhere = parse_service_area(
        {"type": "Polygon", "coordinates": [[[20, 20], [21, 20], [21, 21], [20, 20]]]}
    )
    areas = [SQUARE_WITH_HOLE, None, elsewhere, SQUARE_WITH_HOLE]
    assert covers_many(areas, 1.0, 1.0).tolist() == [True, False, False, True]
    assert covers_many(areas, 5.0, 5.0).tolist() == [False, False, False, False]
    assert covers_many(areas, 0.0, 3.0).tolist() == [True, False, False, True]  # on the edge


def test_covers_many_of_nothing_is_empty():
    assert covers_many([], 0.0, 0.0).shape == (0,)


def test_covers_many_agrees_with_covers():
    rng = np.random.default_rng(7)
    areas = [
        service_area_from_radius(lat, lon, 50_000.0)
        for lat, lon in zip(rng.uniform(36, 39, 200), rng.uniform(-123, -120, 200), strict=True)
    ]
    lat, lon = 37.8, -122.2
    expected = [bool(covers(area, [lat], [lon])[0]) for area in areas]
    assert covers_many(areas, lat, lon).tolist() == expected
    assert any(expected) and not all(expected)


def test_a_point_on_the_antimeridian_is_covered_from_either_side():
    east_of_180 = parse_service_area(
        {"type": "Polygon", "coordinates": [[[170, 0], [180, 0], [180, 10], [170, 10], [170, 0]]]}
    )
    assert covers(east_of_180, [5.0], [-180.0]).tolist() == [True]
    assert covers_many([east_of_180], 5.0, -180.0).tolist() == [True]


def test_radius_area_around_oakland_covers_san_francisco_city_hall_but_not_sacramento():
    area = service_area_from_radius(37.8053, -122.2725, 15_000.0)
    assert covers(area, [37.7793, 38.5816], [-122.4193, -121.4944]).tolist() == [True, False]


def test_radius_area_over_the_antimeridian_is_cut_there():
    area = service_area_from_radius(-17.7, 179.9, 50_000.0)
    assert len(area.geoms) == 2
    assert area.is_valid
    west, _, east, _ = area.bounds
    assert (west, east) == (-180.0, 180.0)
    assert covers(area, [-17.7, -17.7], [-179.9, 179.7]).tolist() == [True, True]


@pytest.mark.parametrize("nudge", [-1e-9, 0.0, 1e-9])
def test_radius_area_whose_edge_passes_through_a_pole_is_drawn(nudge):
    to_pole = float(geodesic_m(-89.5, 10.0, -90.0, 10.0))
    area = service_area_from_radius(-89.5, 10.0, to_pole * (1 + nudge))
    assert area.is_valid
    assert covers(area, [-89.5, -89.9], [10.0, 10.0]).all()


def test_radius_area_around_a_pole_covers_the_pole():
    area = service_area_from_radius(89.5, 30.0, 200_000.0)
    assert area.is_valid and len(area.geoms) == 1
    assert covers(area, [90.0, 89.0, 89.9], [0.0, -150.0, 100.0]).all()
    assert not covers(area, [85.0], [30.0])[0]


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"radius_m": 0.0}, ("radius_m",)),
        ({"radius_m": float("nan")}, ("radius_m",)),
        ({"radius_m": 2e7}, ("radius_m",)),
        ({"radius_m": 1000.0, "segments": 2}, ("segments",)),
        ({"radius_m": 1000.0, "lat": 100.0}, ("lat",)),
    ],
)
def test_radius_area_rejects_impossible_requests(kwargs, path):
    arguments = {"lat": 0.0, "lon": 0.0, **kwargs}
    with pytest.raises(GeometryError) as caught:
        service_area_from_radius(**arguments)
    assert caught.value.path == path


@settings(max_examples=150, deadline=None)
@given(
    lat=st.one_of(st.floats(-89, 89), st.floats(80, 90), st.sampled_from([90.0, -90.0])),
    lon=st.one_of(st.floats(-180, 180), st.floats(179, 180), st.floats(-180, -179)),
    radius_m=st.one_of(st.floats(1_000, 500_000), st.floats(1_000, 3_000_000)),
    azimuths=st.lists(st.floats(0, 360), min_size=1, max_size=20),
)
def test_radius_area_covers_points_well_inside_and_not_points_well_outside(
    lat, lon, radius_m, azimuths
):
    area = service_area_from_radius(lat, lon, radius_m)
    assert area.is_valid
    n = len(azimuths)
    for fraction, expected in ((0.99, True), (1.01, False)):
        end_lon, end_lat, _ = WGS84.fwd(
            np.full(n, lon), np.full(n, lat), np.asarray(azimuths), np.full(n, radius_m * fraction)
        )
        distance = geodesic_m(lat, lon, end_lat, end_lon)
        assert ((distance <= radius_m) == expected).all()  # the geodesic truth
        assert (covers(area, end_lat, end_lon) == expected).all()


def test_densify_edges_keeps_the_area_and_shortens_every_edge():
    area = parse_service_area(
        {
            "type": "Polygon",
            "coordinates": [[[-124, 40], [-120, 40], [-120, 42], [-124, 42], [-124, 40]]],
        }
    )
    dense = densify_edges(area, 0.1)
    assert dense.geom_type == "MultiPolygon"
    assert dense.equals(area)
    ring = shapely.get_coordinates(dense.geoms[0].exterior)
    assert np.hypot(*np.diff(ring, axis=0).T).max() <= 0.1 + 1e-12
