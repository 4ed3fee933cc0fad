"""Reading service areas from GeoJSON: structure, validity, holes and the antimeridian."""

import copy

import numpy as np
import pytest

from geo import GeometryError, covers, parse_service_area

SQUARE = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0], [0.0, 0.0]]
HOLE = [[4.0, 4.0], [4.0, 6.0], [6.0, 6.0], [6.0, 4.0], [4.0, 4.0]]


def polygon(*rings):
    return {"type": "Polygon", "coordinates": [copy.deepcopy(r) for r in rings]}


def reject(geojson) -> GeometryError:
    with pytest.raises(GeometryError) as caught:
        parse_service_area(geojson)
    return caught.value


def test_a_polygon_becomes_a_one_part_multipolygon():
    area = parse_service_area(polygon(SQUARE))
    assert area.geom_type == "MultiPolygon"
    assert len(area.geoms) == 1
    assert area.area == 100.0


def test_a_feature_holding_a_multipolygon_is_accepted():
    feature = {
        "type": "Feature",
        "properties": {},
        "geometry": {
            "type": "MultiPolygon",
            "coordinates": [[SQUARE], [[[20, 0], [21, 0], [21, 1], [20, 0]]]],
        },
    }
    area = parse_service_area(feature)
    assert len(area.geoms) == 2


def test_clockwise_rings_and_altitudes_are_fine():
    clockwise_3d = [[x, y, 12.5] for x, y in reversed(SQUARE)]
    assert parse_service_area(polygon(clockwise_3d)).area == 100.0


def test_holes_are_kept():
    area = parse_service_area(polygon(SQUARE, HOLE))
    assert area.area == 96.0
    assert covers(area, [1.0, 5.0], [1.0, 5.0]).tolist() == [True, False]


def test_touching_parts_of_a_multipolygon_are_merged():
    right = [[10.0, 0.0], [20.0, 0.0], [20.0, 10.0], [10.0, 10.0], [10.0, 0.0]]
    area = parse_service_area({"type": "MultiPolygon", "coordinates": [[SQUARE], [right]]})
    assert area.is_valid
    assert len(area.geoms) == 1 and area.area == 200.0


def test_bowtie_is_rejected_as_self_intersection_with_its_location():
    error = reject(polygon([[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]))
    assert "self-intersection" in error.reason.lower()
    assert "(0.5, 0.5)" in error.reason
    assert error.path == ("coordinates",)


def test_invalid_part_of_a_multipolygon_is_located():
    bowtie = [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]
    error = reject({"type": "MultiPolygon", "coordinates": [[SQUARE], [bowtie]]})
    assert error.path == ("coordinates", 1)


def test_hole_outside_its_shell_is_rejected():
    outside = [[20, 20], [21, 20], [21, 21], [20, 20]]
    error = reject(polygon(SQUARE, outside))
    assert "hole lies outside shell" in error.reason.lower()


def test_unclosed_ring_is_rejected():
    error = reject(polygon([*SQUARE[:-1], [0.0, 1.0]]))
    assert "not closed" in error.reason
    assert error.path == ("coordinates", 0)


def test_ring_with_fewer_than_four_positions_is_rejected():
    error = reject(polygon([[0, 0], [1, 1], [0, 0]]))
    assert "at least 4 positions" in error.reason
    assert error.path == ("coordinates", 0)


def test_ring_with_repeated_positions_only_is_rejected():
    error = reject(polygon([[0, 0], [0, 0], [1, 1], [0, 0]]))
    assert "fewer than 3 distinct positions" in error.reason


def test_latitude_out_of_range_names_the_exact_coordinate():
    ring = copy.deepcopy(SQUARE)
    ring[2] = [10.0, 91.0]
    error = reject(polygon(ring))
    assert error.path == ("coordinates", 0, 2, 1)
    assert error.reason == "latitude 91 is outside [-90, 90]"


def test_longitude_out_of_range_inside_a_feature_is_prefixed_with_geometry():
    ring = copy.deepcopy(SQUARE)
    ring[1] = [190.0, 0.0]
    error = reject({"type": "Feature", "geometry": polygon(ring), "properties": None})
    assert error.path == ("geometry", "coordinates", 0, 1, 0)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "1.5", None, True])
def test_non_numbers_and_non_finite_numbers_are_rejected(value):
    ring = copy.deepcopy(SQUARE)
    ring[3] = [0.0, value]
    error = reject(polygon(ring))
    assert error.path == ("coordinates", 0, 3, 1)


@pytest.mark.parametrize(
    ("geojson", "path"),
    [
        ({"type": "Polygon", "coordinates": []}, ("coordinates",)),
        ({"type": "MultiPolygon", "coordinates": []}, ("coordinates",)),
        ({"type": "MultiPolygon", "coordinates": [[]]}, ("coordinates", 0)),
    ],
)
def test_empty_geometry_is_rejected(geojson, path):
    error = reject(geojson)
    assert "empty" in error.reason
    assert error.path == path


@pytest.mark.parametrize(
    ("geojson", "path"),
    [
        ({"type": "Point", "coordinates": [0, 0]}, ("type",)),
        ({"coordinates": [SQUARE]}, ("type",)),
        ({"type": "Polygon"}, ("coordinates",)),
        ({"type": "Polygon", "coordinates": [[0, 0]]}, ("coordinates", 0)),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1], [1, 1], [0, 0]]]},
            ("coordinates", 0, 1),
        ),
        ({"type": "Feature", "geometry": None}, ("geometry",)),
    ],
)
def test_malformed_structure_says_where(geojson, path):
    assert reject(geojson).path == path


def test_zero_area_polygon_is_rejected():
    error = reject(polygon([[0, 0], [1, 0], [2, 0], [0, 0]]))
    assert "self-intersection" in error.reason.lower()


# Fiji-ish: 178°E to 178°W, written the short way across 180°.
CROSSING = [[178.0, -18.0], [-178.0, -18.0], [-178.0, -16.0], [178.0, -16.0], [178.0, -18.0]]


def test_ring_crossing_the_antimeridian_is_cut_into_two_parts():
    area = parse_service_area(polygon(CROSSING))
    assert len(area.geoms) == 2
    assert area.area == pytest.approx(8.0)
    west, _, east, _ = area.bounds
    assert (west, east) == (-180.0, 180.0)
    assert covers(area, [-17.0, -17.0, -17.0, -17.0], [179.0, -179.0, 180.0, 0.0]).tolist() == [
        True,
        True,
        True,
        False,
    ]


def test_crossing_polygon_keeps_a_hole_on_the_other_side():
    hole = [[-179.5, -17.5], [-179.5, -16.5], [-179.0, -16.5], [-179.0, -17.5], [-179.5, -17.5]]
    area = parse_service_area(polygon(CROSSING, hole))
    assert area.area == pytest.approx(7.5)
    assert covers(area, [-17.0, -17.0], [-179.25, 179.0]).tolist() == [False, True]


def test_self_intersection_in_a_crossing_polygon_is_reported_in_normal_longitudes():
    bowtie = [[179.0, 0.0], [-179.0, 2.0], [-179.0, 0.0], [179.0, 2.0], [179.0, 0.0]]
    error = reject(polygon(bowtie))
    assert "self-intersection at (180, 1)" in error.reason.lower()


def test_ring_around_a_pole_is_rejected_with_a_hint():
    arctic = [[0, 80], [90, 80], [180, 80], [-90, 80], [0, 80]]
    error = reject(polygon(arctic))
    assert "around a pole" in error.reason
    assert error.path == ("coordinates", 0)


def test_wide_ring_that_does_not_jump_180_degrees_is_not_treated_as_crossing():
    # Edges are all shorter than 180°, so this is a 200°-wide polygon, as PostGIS reads it.
    wide = [[-100, 0], [0, 0], [100, 0], [100, 10], [0, 10], [-100, 10], [-100, 0]]
    area = parse_service_area(polygon(wide))
    assert len(area.geoms) == 1
    assert area.area == 2000.0
    assert covers(area, [5.0, 5.0], [0.0, 179.0]).tolist() == [True, False]


def test_input_is_not_modified():
    geojson = polygon(CROSSING)
    before = copy.deepcopy(geojson)
    parse_service_area(geojson)
    assert geojson == before


def test_a_ring_of_20_000_positions_is_accepted():
    angles = np.linspace(0, 2 * np.pi, 20_000, endpoint=False)
    ring = np.column_stack((np.cos(angles), np.sin(angles))).tolist()
    ring.append(ring[0])
    assert parse_service_area(polygon(ring)).area == pytest.approx(np.pi, rel=1e-6)
