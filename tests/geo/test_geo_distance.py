"""Geodesic distances and the radius prefilter, against published WGS84 figures; the ranking's
great-circle distance against the geodesic."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import BBox, GeometryError, geodesic_m, haversine_km, radius_bbox, within_radius
from geo.distance import WGS84

OAKLAND_CITY_HALL = (37.8053, -122.2725)
SF_CITY_HALL = (37.7793, -122.4193)


def test_oakland_to_san_francisco_city_hall_is_about_13_2_km():
    # GeographicLib (Karney) gives 13,248.2 m; a sphere of mean radius is off by ~0.2%.
    assert geodesic_m(*OAKLAND_CITY_HALL, *SF_CITY_HALL) == pytest.approx(13_248.2, abs=0.1)


def test_one_degree_of_latitude_at_the_equator_is_110_574_m():
    assert geodesic_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(110_574.389, abs=0.001)


def test_one_degree_of_longitude_on_the_equator_is_a_pi_over_180():
    assert geodesic_m(0.0, 0.0, 0.0, 1.0) == pytest.approx(6_378_137 * math.pi / 180, abs=0.001)


def test_antipodal_points_on_the_equator_are_half_a_meridian_apart():
    # On an oblate spheroid the shortest way to the antipode goes over a pole.
    assert geodesic_m(0.0, 0.0, 0.0, 180.0) == pytest.approx(20_003_931.4586, abs=0.001)
    assert geodesic_m(90.0, 0.0, -90.0, 0.0) == pytest.approx(20_003_931.4586, abs=0.001)


def test_great_circle_km_is_within_0_6_percent_of_the_geodesic():
    rng = np.random.default_rng(7)
    lat1, lat2 = rng.uniform(-80, 80, 500), rng.uniform(-80, 80, 500)
    lon1, lon2 = rng.uniform(-180, 180, 500), rng.uniform(-180, 180, 500)
    exact_km = geodesic_m(lat1, lon1, lat2, lon2) / 1000.0
    # The sphere's worst case against the ellipsoid is about 0.56 %.
    assert np.all(np.abs(haversine_km(lat1, lon1, lat2, lon2) - exact_km) <= 0.006 * exact_km)


def test_great_circle_km_broadcasts_one_point_against_many():
    km = haversine_km(*OAKLAND_CITY_HALL, np.array([OAKLAND_CITY_HALL[0], SF_CITY_HALL[0]]),
                      np.array([OAKLAND_CITY_HALL[1], SF_CITY_HALL[1]]))  # fmt: skip
    assert km.shape == (2,) and km[0] == 0.0
    assert km[1] == pytest.approx(13.248, rel=0.005)


def test_the_same_point_is_zero_metres_away():
    assert geodesic_m(37.8, -122.2, 37.8, -122.2) == 0.0


def test_distances_across_the_antimeridian_take_the_short_way():
    assert geodesic_m(0.0, 179.5, 0.0, -179.5) == pytest.approx(111_319.49, abs=0.01)


def test_a_scalar_point_broadcasts_against_arrays():
    lats = np.array([[37.7793, 37.8053], [0.0, 37.8053]])
    lons = np.array([[-122.4193, -122.2725], [0.0, -122.2725]])
    result = geodesic_m(*OAKLAND_CITY_HALL, lats, lons)
    assert result.shape == (2, 2)
    assert result[0, 0] == pytest.approx(13_248.2, abs=0.1)
    assert result[0, 1] == 0.0


def test_scalar_inputs_give_a_zero_dimensional_array():
    result = geodesic_m(0.0, 0.0, 1.0, 0.0)
    assert isinstance(result, np.ndarray)
    assert result.shape == ()


def test_out_of_range_coordinates_give_nan_not_an_exception():
    assert np.isnan(geodesic_m(91.0, 0.0, 0.0, 0.0))


def test_within_radius_returns_exact_mask_and_distances():
    lats = np.array([37.7793, 37.8053, 40.0, np.nan])
    lons = np.array([-122.4193, -122.2725, -100.0, 0.0])
    mask, dist = within_radius(*OAKLAND_CITY_HALL, lats, lons, 13_300.0)
    assert mask.tolist() == [True, True, False, False]
    assert dist[0] == pytest.approx(13_248.2, abs=0.1)
    assert dist[1] == 0.0
    assert np.isnan(dist[2])  # ruled out by the box, never measured


def test_within_radius_is_inclusive_like_st_dwithin():
    exact = float(geodesic_m(*OAKLAND_CITY_HALL, *SF_CITY_HALL))
    mask, _ = within_radius(*OAKLAND_CITY_HALL, [SF_CITY_HALL[0]], [SF_CITY_HALL[1]], exact)
    assert mask.tolist() == [True]


def test_within_radius_rejects_a_bad_centre_naming_it():
    with pytest.raises(GeometryError) as caught:
        within_radius(95.0, 0.0, [0.0], [0.0], 10.0)
    assert caught.value.path == ("lat",)


def test_negative_radius_is_rejected():
    with pytest.raises(GeometryError) as caught:
        radius_bbox(0.0, 0.0, -1.0)
    assert caught.value.path == ("radius_m",)


def test_radius_bbox_is_one_box_away_from_the_antimeridian_and_poles():
    (box,) = radius_bbox(*OAKLAND_CITY_HALL, 10_000.0)
    assert not box.crosses_antimeridian
    assert box.min_lat < OAKLAND_CITY_HALL[0] < box.max_lat
    assert box.min_lon < OAKLAND_CITY_HALL[1] < box.max_lon
    # 10 km is about 0.09° of latitude and 0.114° of longitude at 37.8°N.
    assert box.max_lat - box.min_lat == pytest.approx(0.18, abs=0.001)
    assert box.max_lon - box.min_lon == pytest.approx(0.228, abs=0.001)


def test_radius_bbox_splits_at_the_antimeridian():
    boxes = radius_bbox(-17.7, 179.95, 20_000.0)  # Fiji
    assert len(boxes) == 2
    east, west = sorted(boxes, key=lambda b: -b.min_lon)
    assert east.max_lon == 180.0 and east.min_lon < 179.95
    assert west.min_lon == -180.0 and west.max_lon > -180.0
    assert not any(b.crosses_antimeridian for b in boxes)


def test_radius_bbox_spans_all_longitudes_when_the_circle_reaches_a_pole():
    (box,) = radius_bbox(89.9, 10.0, 20_000.0)
    assert (box.min_lon, box.max_lon, box.max_lat) == (-180.0, 180.0, 90.0)
    assert box.min_lat < 89.9


# Centres anywhere, but with extra weight on the awkward places.
latitudes = st.one_of(
    st.floats(-90, 90),
    st.floats(80, 90),
    st.floats(-90, -80),
    st.sampled_from([90.0, -90.0, 0.0]),
)
longitudes = st.one_of(
    st.floats(-180, 180),
    st.floats(178, 180),
    st.floats(-180, -178),
    st.sampled_from([180.0, -180.0]),
)
radii = st.one_of(st.floats(0, 50_000), st.floats(0, 3_000_000), st.floats(0, 15_000_000))


def _points_around(lat, lon, radius_m, azimuths, fractions):
    n = len(azimuths)
    end_lon, end_lat, _ = WGS84.fwd(
        np.full(n, lon), np.full(n, lat), np.asarray(azimuths), radius_m * np.asarray(fractions)
    )
    return np.asarray(end_lat), np.asarray(end_lon)


def _in_any(boxes: list[BBox], lats, lons):
    hit = np.zeros(np.shape(lats), dtype=bool)
    for box in boxes:
        hit |= box.contains(lats, lons)
    return hit


@settings(max_examples=300, deadline=None)
@given(
    lat=latitudes,
    lon=longitudes,
    radius_m=radii,
    azimuths=st.lists(st.floats(0, 360), min_size=1, max_size=20),
    fraction=st.one_of(st.just(1.0), st.floats(0, 1)),
)
def test_every_point_within_the_radius_lies_in_a_radius_box(lat, lon, radius_m, azimuths, fraction):
    boxes = radius_bbox(lat, lon, radius_m)
    azimuths = [*azimuths, 0.0, 90.0, 180.0, 270.0]
    lats, lons = _points_around(lat, lon, radius_m, azimuths, [fraction] * len(azimuths))
    inside = geodesic_m(lat, lon, lats, lons) <= radius_m
    assert _in_any(boxes, lats, lons)[inside].all()
    assert not any(b.crosses_antimeridian for b in boxes)


@settings(max_examples=300, deadline=None)
@given(
    lat=latitudes,
    lon=longitudes,
    radius_m=radii,
    azimuths=st.lists(st.floats(0, 360), min_size=1, max_size=30),
    fractions=st.lists(st.floats(0, 1.5), min_size=30, max_size=30),
    noise_lats=st.lists(st.floats(-90, 90), max_size=20),
    noise_lons=st.lists(st.floats(-180, 180), min_size=20, max_size=20),
)
def test_within_radius_mask_is_exactly_geodesic_distance_at_most_radius(
    lat, lon, radius_m, azimuths, fractions, noise_lats, noise_lons
):
    near_lats, near_lons = _points_around(lat, lon, radius_m, azimuths, fractions[: len(azimuths)])
    lats = np.concatenate([near_lats, noise_lats])
    lons = np.concatenate([near_lons, noise_lons[: len(noise_lats)]])
    mask, dist = within_radius(lat, lon, lats, lons, radius_m)
    exact = geodesic_m(lat, lon, lats, lons)
    np.testing.assert_array_equal(mask, exact <= radius_m)
    np.testing.assert_array_equal(dist[mask], exact[mask])
