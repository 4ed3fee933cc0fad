"""The map-tile grid: which cell a point falls in, cell outlines, ranges and counts."""

import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from geo import BBox, GeometryError, aggregate, cell_bounds, cell_geometry, cell_range, cell_xy
from geo.grid import MAX_LAT, cell_id, cell_keys, cell_size_km, parse_cell_id

OAKLAND_CITY_HALL = (37.8053, -122.2725)


def test_a_known_point_falls_in_its_well_known_map_tile():
    # Tile 12/656/1582 is the one every slippy map draws over downtown Oakland.
    x, y = cell_xy([OAKLAND_CITY_HALL[0]], [OAKLAND_CITY_HALL[1]], 12)
    assert (int(x[0]), int(y[0])) == (656, 1582)


def test_cells_shrink_with_latitude_as_map_tiles_do():
    assert cell_size_km(12, 0.0) == pytest.approx(9.78, abs=0.01)
    assert cell_size_km(13, 38.0) == pytest.approx(3.85, abs=0.01)


def test_a_point_on_a_line_between_columns_belongs_to_the_cell_east_of_it():
    level = 8
    west, _, east, _ = cell_bounds([100], [90], level)[0]
    x, _ = cell_xy([10.0, 10.0], [west, east], level)
    assert x.tolist() == [100, 101]


def test_longitude_180_and_minus_180_are_the_same_column():
    x, _ = cell_xy([0.0, 0.0], [180.0, -180.0], 5)
    assert x.tolist() == [0, 0]


def test_points_nearer_a_pole_than_the_mercator_limit_fall_in_the_edge_rows():
    _, y = cell_xy([90.0, MAX_LAT, -90.0], [0.0, 0.0, 0.0], 4)
    assert y.tolist() == [0, 0, 15]


@given(
    st.floats(-85.0, 85.0),
    st.floats(-179.999, 179.999),
    st.integers(0, 20),
)
def test_every_point_lies_inside_the_cell_it_is_given(lat, lon, level):
    x, y = cell_xy([lat], [lon], level)
    west, south, east, north = cell_bounds(x, y, level)[0]
    # Up to rounding: a point within ~1e-12 degrees of a line may land on either side.
    assert west - 1e-9 <= lon <= east + 1e-9
    assert south - 1e-9 <= lat <= north + 1e-9


def test_cell_outline_is_a_closed_counter_clockwise_lon_lat_polygon():
    geometry = cell_geometry(12, 656, 1582)
    assert geometry["type"] == "Polygon"
    ring = geometry["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 5
    assert shapely.LinearRing(ring).is_ccw
    lon, lat = ring[0]
    assert -123 < lon < -122 and 37 < lat < 38  # [lon, lat], not [lat, lon]


def test_cell_ids_round_trip_and_bad_ones_are_refused():
    assert parse_cell_id(cell_id(13, 1313, 3164)) == (13, 1313, 3164)
    for bad in ("13/1313", "x/1/2", "3/8/0", "25/0/0"):
        with pytest.raises(GeometryError):
            parse_cell_id(bad)


def test_a_box_touches_every_cell_under_its_corners_and_its_bbox_holds_them():
    box = BBox(-122.35, 37.70, -122.10, 37.89)
    cells = cell_range(box, 12)
    lats = np.array([37.70, 37.89, 37.70, 37.89, 37.8])
    lons = np.array([-122.35, -122.35, -122.10, -122.10, -122.2])
    x, y = cell_xy(lats, lons, 12)
    assert cells.contains(x, y).all()
    grown = cells.bbox()
    assert grown.min_lon <= box.min_lon and grown.max_lon >= box.max_lon
    assert grown.min_lat <= box.min_lat and grown.max_lat >= box.max_lat


def test_a_box_across_the_antimeridian_wraps_round_through_column_zero():
    cells = cell_range(BBox(170.0, -20.0, -170.0, -10.0), 5)
    inside_x, _ = cell_xy([-15.0, -15.0], [175.0, -175.0], 5)
    outside_x, _ = cell_xy([-15.0], [0.0], 5)
    rows = np.full(2, cells.y_north)
    assert cells.contains(inside_x, rows).all()
    assert not cells.contains(outside_x, rows[:1]).any()
    grown = cells.bbox()
    assert grown.crosses_antimeridian


def test_the_whole_world_is_every_cell():
    cells = cell_range(BBox(-180.0, -90.0, 180.0, 90.0), 3)
    assert cells.columns == 8 and (cells.y_north, cells.y_south) == (0, 7)
    assert cells.bbox() == BBox(-180.0, -90.0, 180.0, 90.0)


def test_aggregate_counts_points_per_cell_and_group_in_key_order():
    x = np.array([5, 3, 5, 3, 5])
    y = np.array([1, 2, 1, 2, 0])
    cx, cy, counts = aggregate(x, y, 4, groups=[0, 1, 1, 1, 0], n_groups=2)
    assert list(zip(cx.tolist(), cy.tolist(), strict=True)) == [(3, 2), (5, 0), (5, 1)]
    assert counts.tolist() == [[0, 2], [1, 0], [1, 1]]
    assert (cell_keys(cx, cy, 4) == np.sort(cell_keys(cx, cy, 4))).all()


def test_aggregate_of_no_points_is_empty():
    cx, cy, counts = aggregate(np.zeros(0, int), np.zeros(0, int), 4)
    assert len(cx) == len(cy) == 0 and counts.shape == (0, 1)
