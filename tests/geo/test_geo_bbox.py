"""Parsing `bbox` query values and testing points against boxes, antimeridian included."""

import numpy as np
import pytest
import shapely

from geo import BBox, GeometryError, parse_bbox


def test_parses_min_lon_min_lat_max_lon_max_lat_in_ogc_order():
    assert parse_bbox("-122.5,37.7,-122.2,37.9") == BBox(-122.5, 37.7, -122.2, 37.9)


def test_spaces_around_numbers_are_fine():
    assert parse_bbox(" -1 , 2 , 3 , 4 ") == BBox(-1.0, 2.0, 3.0, 4.0)


@pytest.mark.parametrize("text", ["1,2,3", "1,2,3,4,5", ""])
def test_wrong_number_of_values_says_four_are_needed(text):
    with pytest.raises(GeometryError) as caught:
        parse_bbox(text)
    assert "four" in caught.value.reason
    assert "minLon,minLat,maxLon,maxLat" in caught.value.reason


@pytest.mark.parametrize("bad", ["abc", "nan", "inf", "1_0", "", "0x10"])
def test_a_non_number_is_named_with_its_position(bad):
    with pytest.raises(GeometryError) as caught:
        parse_bbox(f"1,{bad},3,4")
    assert caught.value.path == ("min_lat",)
    assert "not a decimal number" in caught.value.reason


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("-181,0,1,1", "min_lon"),
        ("0,-91,1,1", "min_lat"),
        ("0,0,181,1", "max_lon"),
        ("0,0,1,91", "max_lat"),
    ],
)
def test_out_of_range_values_name_the_field_and_the_range(text, field):
    with pytest.raises(GeometryError) as caught:
        parse_bbox(text)
    assert caught.value.path == (field,)
    assert "outside" in caught.value.reason


def test_min_lat_above_max_lat_is_rejected():
    with pytest.raises(GeometryError) as caught:
        parse_bbox("0,10,1,5")
    assert caught.value.reason == "min_lat 10 is greater than max_lat 5"


def test_min_lon_above_max_lon_means_the_box_crosses_the_antimeridian():
    box = parse_bbox("170,-20,-170,-10")
    assert box.crosses_antimeridian
    lats = np.array([-15.0, -15.0, -15.0, -15.0, -15.0, -25.0])
    lons = np.array([175.0, -175.0, 180.0, -180.0, 0.0, 175.0])
    assert box.contains(lats, lons).tolist() == [True, True, True, True, False, False]


def test_edges_are_inclusive_like_between():
    box = BBox(0.0, 0.0, 1.0, 1.0)
    assert box.contains([0.0, 1.0, 1.0000001], [0.0, 1.0, 0.5]).tolist() == [True, True, False]


def test_minus_180_and_180_are_the_same_meridian():
    east_edge = BBox(170.0, 0.0, 180.0, 10.0)
    west_edge = BBox(-180.0, 0.0, -170.0, 10.0)
    assert east_edge.contains([5.0], [-180.0]).tolist() == [True]
    assert west_edge.contains([5.0], [180.0]).tolist() == [True]


def test_contains_is_vectorized_and_keeps_shape():
    box = BBox(-10.0, -10.0, 10.0, 10.0)
    lats = np.zeros((3, 4))
    assert box.contains(lats, lats).shape == (3, 4)


def test_split_gives_non_crossing_boxes():
    assert BBox(0.0, 0.0, 1.0, 1.0).split() == [BBox(0.0, 0.0, 1.0, 1.0)]
    assert BBox(170.0, -20.0, -170.0, -10.0).split() == [
        BBox(170.0, -20.0, 180.0, -10.0),
        BBox(-180.0, -20.0, -170.0, -10.0),
    ]


def test_to_polygon_is_one_or_two_boxes():
    plain = BBox(0.0, 0.0, 2.0, 1.0).to_polygon()
    assert plain.geom_type == "MultiPolygon" and len(plain.geoms) == 1
    assert plain.area == 2.0
    crossing = BBox(170.0, -20.0, -170.0, -10.0).to_polygon()
    assert len(crossing.geoms) == 2
    assert crossing.area == pytest.approx(200.0)
    assert shapely.intersects_xy(crossing, 175.0, -15.0)
    assert shapely.intersects_xy(crossing, -175.0, -15.0)


def test_bbox_is_frozen():
    box = BBox(0.0, 0.0, 1.0, 1.0)
    with pytest.raises(AttributeError):
        box.min_lon = 5.0  # type: ignore[misc]
