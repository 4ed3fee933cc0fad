"""GeoJSON output per RFC 7946: [lon, lat], ring orientation, rounding, Features."""

import itertools
import json

import pytest
import shapely
from shapely import MultiPolygon, Point, Polygon

from geo import (
    BBox,
    feature,
    feature_collection,
    parse_service_area,
    point_feature,
    service_area_from_radius,
    to_geojson,
)


def signed_area(ring) -> float:
    """Shoelace area: positive for counter-clockwise rings."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring)) / 2


def test_exteriors_are_counter_clockwise_and_holes_clockwise():
    clockwise_shell = [(0, 0), (0, 10), (10, 10), (10, 0), (0, 0)]
    counter_clockwise_hole = [(4, 4), (6, 4), (6, 6), (4, 6), (4, 4)]
    geojson = to_geojson(Polygon(clockwise_shell, [counter_clockwise_hole]))
    shell, hole = geojson["coordinates"]
    assert signed_area(shell) > 0
    assert signed_area(hole) < 0


def test_multipolygon_parts_are_each_oriented():
    area = MultiPolygon(
        [Polygon([(0, 0), (0, 1), (1, 1), (0, 0)]), Polygon([(5, 5), (6, 5), (6, 6), (5, 5)])]
    )
    geojson = to_geojson(area)
    assert geojson["type"] == "MultiPolygon"
    assert all(signed_area(part[0]) > 0 for part in geojson["coordinates"])


def test_positions_are_lon_lat_and_rounded_to_seven_decimals():
    area = service_area_from_radius(37.8053, -122.2725, 1_000.0)
    positions = [p for part in to_geojson(area)["coordinates"] for ring in part for p in ring]
    assert all(-123 < lon < -122 and 37 < lat < 38 for lon, lat in positions)
    assert all(round(v, 7) == v for position in positions for v in position)


def test_output_is_plain_json_and_round_trips():
    area = parse_service_area(
        {
            "type": "Polygon",
            "coordinates": [[[178, -18], [-178, -18], [-178, -16], [178, -16], [178, -18]]],
        }
    )
    text = json.dumps(to_geojson(area))
    again = parse_service_area(json.loads(text))
    assert again.equals(area)


def test_a_radius_area_around_a_pole_round_trips():
    area = service_area_from_radius(89.5, 0.0, 200_000.0)
    again = parse_service_area(to_geojson(area))
    # Only the 7-decimal rounding differs.
    assert shapely.symmetric_difference(again, area).area < 1e-7 * area.area


def test_negative_zero_is_written_as_zero():
    geojson = to_geojson(Point(-0.00000001, 1e-9))
    assert json.dumps(geojson["coordinates"]) == "[0.0, 0.0]"


def test_unsupported_geometry_is_a_type_error():
    with pytest.raises(TypeError):
        to_geojson(shapely.LineString([(0, 0), (1, 1)]))


def test_point_feature_puts_longitude_first():
    result = point_feature(7, 37.8053, -122.2725, {"name": "Oakland City Hall"})
    assert result == {
        "type": "Feature",
        "id": 7,
        "geometry": {"type": "Point", "coordinates": [-122.2725, 37.8053]},
        "properties": {"name": "Oakland City Hall"},
    }


def test_feature_without_id_or_properties_follows_rfc_7946():
    result = feature(None, None, None)
    assert result == {"type": "Feature", "geometry": None, "properties": None}


def test_feature_collection_carries_a_bbox_member():
    features = [point_feature("a", 0.0, 0.0, {})]
    result = feature_collection(features, bbox=BBox(170.0, -20.0, -170.0, -10.0))
    assert result["type"] == "FeatureCollection"
    assert result["features"] == features
    assert result["bbox"] == [170.0, -20.0, -170.0, -10.0]  # west > east across 180°


def test_feature_collection_bbox_is_optional():
    assert feature_collection([]) == {"type": "FeatureCollection", "features": []}


def test_feature_collection_refuses_to_override_type():
    with pytest.raises(ValueError, match="type"):
        feature_collection([], type="Feature")
