"""The cell grid the index finds nearby offerings with: never misses a point within the radius."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.distance import haversine_km
from matching.spatial import CELL_DEG, CellGrid, cell_order


def grid_of(lat, lon):
    order = cell_order(lat, lon)
    return CellGrid.of(lat[order], lon[order]), lat[order], lon[order]


def assert_finds_every_point_within(grid, lat, lon, at, radius_km):
    rows = grid.near(at[0], at[1], radius_km)
    assert (np.diff(rows) > 0).all()  # ascending, no duplicates
    within = np.flatnonzero(haversine_km(at[0], at[1], lat, lon) <= radius_km)
    assert np.isin(within, rows).all()


def test_a_search_finds_every_point_within_the_radius_and_few_beyond_it():
    rng = np.random.default_rng(5)
    lat = rng.uniform(37.0, 38.5, 20_000)
    lon = rng.uniform(-123.0, -121.5, 20_000)
    grid, lat, lon = grid_of(lat, lon)
    for at in rng.uniform((37.2, -122.8), (38.3, -121.7), (50, 2)):
        rows = grid.near(at[0], at[1], 30.0)
        d = haversine_km(at[0], at[1], lat[rows], lon[rows])
        assert_finds_every_point_within(grid, lat, lon, at, 30.0)
        assert (d <= 30.0).mean() > 0.5  # whole cells, not many more than the circle


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-90, 90),
    st.floats(-180, 180),
    st.sampled_from([0.5, 20.0, 240.0, 3000.0, 21_000.0]),
)
def test_near_the_poles_and_across_the_antimeridian_nothing_within_the_radius_is_missed(
    lat0, lon0, radius_km
):
    rng = np.random.default_rng(int(abs(lat0 * 1000 + lon0)))
    # Points scattered around the query point (some exactly on a cell edge), wrapped onto the
    # globe, plus the poles and both sides of the antimeridian.
    spread = min(radius_km / 50.0, 60.0)
    lat = np.clip(lat0 + rng.normal(0, spread, 400), -90, 90)
    lon = (lon0 + rng.normal(0, spread, 400) + 180) % 360 - 180
    lat = np.concatenate([lat, np.round(lat[:50] / CELL_DEG) * CELL_DEG, [90, -90, 0, 0]])
    lon = np.concatenate([lon, np.round(lon[:50] / CELL_DEG) * CELL_DEG, [0, 0, 180, -180]])
    grid, lat, lon = grid_of(lat, lon)
    assert_finds_every_point_within(grid, lat, lon, (lat0, lon0), radius_km)


def test_a_radius_wider_than_the_earth_finds_every_point():
    lat = np.array([-90.0, -45.0, 0.0, 45.0, 90.0])
    lon = np.array([0.0, 179.9, -179.9, 12.0, 0.0])
    grid, lat, lon = grid_of(lat, lon)
    assert len(grid.near(37.8, -122.3, float("inf"))) == 5


def test_rows_not_sorted_by_cell_are_refused():
    with pytest.raises(ValueError, match="not sorted by cell"):
        CellGrid.of(np.array([10.0, -10.0]), np.array([0.0, 0.0]))


def test_an_empty_grid_finds_nothing():
    grid = CellGrid.of(np.zeros(0), np.zeros(0))
    assert len(grid.near(37.8, -122.3, 50.0)) == 0
