"""Service-area size bounds: too many vertices given, or too many once densified, is refused
with the reason; what is served drops the vertices densifying added."""

import json

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import (
    MAX_AREA_VERTICES,
    MAX_STORED_VERTICES,
    GeometryError,
    densified_vertices,
    densify_edges,
    display_area,
    display_geojson,
    parse_service_area,
    stored_service_area,
    to_geojson,
)


def comb(teeth: int, height: float = 60.0) -> dict:
    """A small polygon with long edges: `teeth` teeth `height`° tall on a base 160° wide."""
    west, east, base = -80.0, 80.0, -60.0
    width = (east - west) / teeth
    ring = [[west, base], [east, base]]
    for i in reversed(range(teeth)):
        x = west + i * width
        ring += [[x + width, base + 1], [x + width, base + height]]
        ring += [[x + width / 2, base + height], [x + width / 2, base + 1]]
    ring += [[west, base + 1], [west, base]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_a_small_polygon_with_long_edges_is_refused_before_it_is_densified():
    geometry = comb(100)
    assert len(json.dumps(geometry)) < 12_000  # small as given ...
    area = parse_service_area(geometry)
    assert densified_vertices(area) > 100_000  # ... millions of bytes once densified
    with pytest.raises(GeometryError) as refused:
        stored_service_area(area)
    assert refused.value.path == ("coordinates",)
    assert f"at most {MAX_STORED_VERTICES:,}" in refused.value.reason


def test_too_many_vertices_given_are_refused_naming_the_coordinates():
    n = MAX_AREA_VERTICES + 1
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = np.column_stack((np.cos(angles), np.sin(angles))).tolist()
    with pytest.raises(GeometryError) as refused:
        parse_service_area({"type": "Polygon", "coordinates": [[*ring, ring[0]]]})
    assert refused.value.path == ("coordinates",)
    assert f"{n + 1:,} vertices" in refused.value.reason


@settings(max_examples=40, deadline=None)
@given(
    west=st.floats(-170, 150),
    south=st.floats(-80, 60),
    width=st.floats(0.01, 20),
    height=st.floats(0.01, 20),
)
def test_the_densified_count_is_what_densifying_makes(west, south, width, height):
    box = shapely.box(west, south, west + width, south + height)
    area = parse_service_area(to_geojson(box))
    assert densified_vertices(area) == shapely.get_num_coordinates(densify_edges(area))


def test_what_is_served_is_what_was_given_not_the_densified_form():
    given_area = parse_service_area(
        {"type": "Polygon", "coordinates": [[[-124, 40], [-114, 40], [-114, 42], [-124, 40]]]}
    )
    stored = to_geojson(stored_service_area(given_area))
    assert len(stored["coordinates"][0][0]) > 100
    served = display_geojson(stored)
    assert served["type"] == "MultiPolygon"
    assert len(served["coordinates"][0][0]) <= 5  # the triangle's 4 positions, give or take one
    shown = display_area(shapely.geometry.shape(stored))
    assert shapely.hausdorff_distance(shown, given_area) < 1e-6  # the same boundary
