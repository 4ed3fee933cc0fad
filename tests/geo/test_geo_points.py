"""Single positions: range checks that name the coordinate, and the `near` query value."""

import math
import pickle

import numpy as np
import pytest

from geo import GeometryError, parse_near, validate_point


def test_valid_point_comes_back_as_floats():
    assert validate_point(37, np.float64(-122.5)) == (37.0, -122.5)


@pytest.mark.parametrize(
    ("lat", "lon", "name"),
    [
        (90.5, 0.0, "lat"),
        (-91, 0.0, "lat"),
        (0.0, 180.0001, "lon"),
        (0.0, -200, "lon"),
        (math.nan, 0.0, "lat"),
        (0.0, math.inf, "lon"),
        ("37", 0.0, "lat"),
        (0.0, None, "lon"),
        (True, 0.0, "lat"),
    ],
)
def test_bad_coordinate_is_named(lat, lon, name):
    with pytest.raises(GeometryError) as caught:
        validate_point(lat, lon)
    assert caught.value.path == (name,)
    assert caught.value.reason.startswith(name)


def test_the_poles_and_the_antimeridian_are_in_range():
    assert validate_point(90, 180) == (90.0, 180.0)
    assert validate_point(-90, -180) == (-90.0, -180.0)


def test_near_is_latitude_first():
    assert parse_near("37.8053,-122.2725") == (37.8053, -122.2725)
    assert parse_near(" 37.8 , -122.3 ") == (37.8, -122.3)


def test_near_in_geojson_order_gets_a_hint():
    with pytest.raises(GeometryError) as caught:
        parse_near("-122.2725,37.8053")
    assert caught.value.path == ("lat",)
    assert "latitude first" in caught.value.reason


@pytest.mark.parametrize("text", ["37.8", "1,2,3", ""])
def test_near_needs_two_numbers(text):
    with pytest.raises(GeometryError, match="lat,lon"):
        parse_near(text)


def test_near_rejects_words_naming_the_part():
    with pytest.raises(GeometryError) as caught:
        parse_near("37.8,west")
    assert caught.value.path == ("lon",)


def test_error_message_includes_where():
    error = GeometryError("latitude 91 is outside [-90, 90]", ("coordinates", 0, 3, 1))
    assert str(error) == "coordinates.0.3.1: latitude 91 is outside [-90, 90]"
    assert isinstance(error, ValueError)


def test_error_keeps_reason_and_path_through_pickle():
    error = GeometryError("lat 95 is outside [-90, 90]", ("lat",))
    again = pickle.loads(pickle.dumps(error))
    assert (again.reason, again.path) == (error.reason, error.path)
