"""Service areas: reading them from GeoJSON, making them from a radius, and testing coverage.

Every service area is a shapely MultiPolygon in lon/lat degrees, never crossing the
antimeridian (crossing input is cut there) and valid in the OGC sense, so the in-process
(SQLite) answers match PostGIS geography.

Coverage counts points on the boundary as covered, like PostGIS `ST_Covers`: a school on the
edge of a district is in it. Longitudes -180 and 180 are the same meridian.

Edges are straight lines in lon/lat here but great-circle arcs in PostGIS geography. The gap
grows with the square of an edge's length: for an east-west edge at 40°N it is about 1 m at
0.1° long and 170 m at 1.2°. Storing `densify_edges(area)` makes both backends draw (nearly)
the same boundary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
import shapely.geometry
from shapely import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.antimeridian import align_to, crosses_antimeridian, cut_at_antimeridian, unwrap_ring
from geo.circles import circle_ring
from geo.errors import GeometryError
from geo.points import validate_point
from geo.rings import Path, explain_invalid, read_polygon

# About a quarter of the globe: a circle can then hold at most one pole, and no school needs more.
MAX_RADIUS_M = 10_000_000.0

# Size bounds. A drawn area or a county boundary has hundreds to a few thousand vertices; more
# than MAX_AREA_VERTICES is refused. Densifying (below) adds a vertex per 0.1° of edge, so a
# small polygon with long edges could grow without bound (a 12 KB comb of 40° teeth became
# 5.2 MB): an area is refused when its densified form would pass MAX_STORED_VERTICES.
MAX_AREA_VERTICES = 25_000
MAX_STORED_VERTICES = 50_000
# Simplifying for display removes the vertices densifying put on straight lon/lat edges (they
# sit within 5e-8° of the edge after rounding to 7 decimals), and nothing visible (~10 cm).
DISPLAY_TOLERANCE_DEG = 1e-6


def parse_service_area(geojson: Mapping[str, Any]) -> MultiPolygon:
    """A valid MultiPolygon from a GeoJSON Polygon, MultiPolygon or Feature holding one.

    Raises GeometryError with a readable reason and the path of the offending member.
    Rings may wind either way. Parts of a MultiPolygon that touch or overlap are merged (the
    covered points are the same). A ring with an edge jumping more than 180° of longitude is
    read as crossing the antimeridian the short way, as PostGIS geography reads it, and is cut
    there; a ring that goes all the way round a pole is rejected.
    """
    if not isinstance(geojson, Mapping):
        raise GeometryError("service area must be a GeoJSON object")
    if geojson.get("type") == "Feature":
        try:
            return _parse_geometry(geojson.get("geometry"))
        except GeometryError as error:
            raise error.under("geometry") from None
    return _parse_geometry(geojson)


def _parse_geometry(geometry: object) -> MultiPolygon:
    if not isinstance(geometry, Mapping):
        raise GeometryError("service area must be a GeoJSON Polygon or MultiPolygon object")
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if kind not in ("Polygon", "MultiPolygon"):
        raise GeometryError(
            f"service area must be a Polygon or MultiPolygon, got {kind!r}", ("type",)
        )
    if not isinstance(coordinates, list | tuple):
        raise GeometryError("coordinates must be an array", ("coordinates",))
    if not coordinates:
        raise GeometryError("service area is empty", ("coordinates",))
    if kind == "Polygon":
        located: list[tuple[object, Path]] = [(coordinates, ("coordinates",))]
    else:
        located = [(polygon, ("coordinates", i)) for i, polygon in enumerate(coordinates)]
    given = sum(_positions(rings) for rings, _ in located)
    if given > MAX_AREA_VERTICES:
        raise GeometryError(
            f"service area has {given:,} vertices; at most {MAX_AREA_VERTICES:,} are accepted "
            "(simplify it)",
            ("coordinates",),
        )
    pieces: list[Polygon] = []
    for rings, path in located:
        pieces.extend(_polygon_pieces(rings, path))
    merged = pieces[0] if len(pieces) == 1 else shapely.union_all(pieces)
    parts = [p for p in shapely.get_parts(merged) if isinstance(p, Polygon) and not p.is_empty]
    if not parts:
        raise GeometryError("service area is empty", ("coordinates",))
    return MultiPolygon(parts)


def _positions(rings: object) -> int:
    """How many positions a GeoJSON polygon's rings hold (before they are checked)."""
    if not isinstance(rings, list | tuple):
        return 0
    return sum(len(ring) for ring in rings if isinstance(ring, list | tuple))


def _polygon_pieces(rings: object, path: Path) -> list[Polygon]:
    """One GeoJSON polygon, checked, as pieces that do not cross the antimeridian."""
    arrays = read_polygon(rings, path)
    if not any(crosses_antimeridian(ring) for ring in arrays):
        polygon = Polygon(arrays[0], arrays[1:])
        _require_valid(polygon, path)
        return [polygon]
    unwrapped = []
    for i, ring in enumerate(arrays):
        continuous, turns = unwrap_ring(ring)
        if turns:
            raise GeometryError(
                "ring goes all the way around a pole; split it at the antimeridian "
                "(RFC 7946 §3.1.9)",
                (*path, i),
            )
        unwrapped.append(continuous)
    centre = float(unwrapped[0].mean())
    shells_and_holes = [
        np.column_stack((lons_i if i == 0 else align_to(lons_i, centre), ring[:, 1]))
        for i, (lons_i, ring) in enumerate(zip(unwrapped, arrays, strict=True))
    ]
    polygon = Polygon(shells_and_holes[0], shells_and_holes[1:])
    _require_valid(polygon, path)
    west, _, east, _ = polygon.bounds
    if east - west >= 360.0:
        raise GeometryError("polygon wraps all the way around the globe", path)
    return cut_at_antimeridian(polygon)


def _require_valid(polygon: Polygon, path: Path) -> None:
    if not polygon.is_valid:
        raise GeometryError(explain_invalid(polygon), path)


def service_area_from_radius(
    lat: float, lon: float, radius_m: float, segments: int = 64
) -> MultiPolygon:
    """A geodesic circle as a polygon, for maps and coverage.

    Vertices lie exactly `radius_m` from the centre, `segments` of them plus more where lon/lat
    distorts the circle (near a pole), so the polygon sits just inside the true circle, by
    about r·(1 - cos(π/segments)) (0.12% at 64). Use `within_radius` for exact radius tests.
    A circle over the antimeridian is cut there; one around a pole includes the pole.
    """
    lat, lon = validate_point(lat, lon)
    if not (math.isfinite(radius_m) and 0.0 < radius_m <= MAX_RADIUS_M):
        raise GeometryError(
            f"radius must be more than 0 and at most {MAX_RADIUS_M:.0f} m, got {radius_m}",
            ("radius_m",),
        )
    if segments < 3:
        raise GeometryError(f"a circle needs at least 3 segments, got {segments}", ("segments",))
    ring, turns = circle_ring(lat, lon, radius_m, segments)
    if turns:
        # The ring circles a pole: close it along that pole's edge of the lon/lat plane.
        pole = 90.0 if lat > 0 else -90.0
        (start_lon, start_lat), (end_lon, _) = ring[0], ring[-1]
        ring = np.vstack((ring, [[end_lon, pole], [start_lon, pole], [start_lon, start_lat]]))
    circle = Polygon(ring)
    if not circle.is_valid:  # not expected below MAX_RADIUS_M; say so rather than guess
        raise GeometryError(f"cannot draw this circle: {explain_invalid(circle)}", ("radius_m",))
    merged = shapely.union_all(cut_at_antimeridian(circle))
    return MultiPolygon([p for p in shapely.get_parts(merged) if isinstance(p, Polygon)])


def densify_edges(area: MultiPolygon, max_edge_deg: float = 0.1) -> MultiPolygon:
    """The same area with no edge longer than `max_edge_deg`, so that PostGIS (great-circle
    edges) and this library (straight lon/lat edges) draw nearly the same boundary."""
    return MultiPolygon(shapely.get_parts(shapely.segmentize(area, max_edge_deg)))


def densified_vertices(area: MultiPolygon, max_edge_deg: float = 0.1) -> int:
    """How many vertices `densify_edges(area, max_edge_deg)` would hold, found without
    making it (a few long edges can make millions)."""
    total = 0
    for polygon in area.geoms:
        for ring in (polygon.exterior, *polygon.interiors):
            xy = shapely.get_coordinates(ring)
            edges = np.hypot(*np.diff(xy, axis=0).T)
            total += 1 + int(np.ceil(edges / max_edge_deg).clip(min=1).sum())
    return total


def stored_service_area(area: MultiPolygon, max_edge_deg: float = 0.1) -> MultiPolygon:
    """`densify_edges(area)`, as a service area is stored; GeometryError when that would hold
    more than MAX_STORED_VERTICES vertices."""
    count = densified_vertices(area, max_edge_deg)
    if count > MAX_STORED_VERTICES:
        raise GeometryError(
            f"service area would be stored with {count:,} vertices once its edges are cut "
            f"into {max_edge_deg}° pieces (so every database draws the same boundary); at most "
            f"{MAX_STORED_VERTICES:,}: use fewer long edges, or split it",
            ("coordinates",),
        )
    return densify_edges(area, max_edge_deg)


def display_area(area: BaseGeometry, tolerance_deg: float = DISPLAY_TOLERANCE_DEG) -> BaseGeometry:
    """A stored service area simplified for display: the vertices densifying added on straight
    edges are dropped, so what is served is about the size of what was given."""
    simple = shapely.simplify(area, tolerance_deg, preserve_topology=True)
    return MultiPolygon([simple]) if isinstance(simple, Polygon) else simple


def display_geojson(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A stored service area's GeoJSON as it is served: `display_area` of it."""
    return to_geojson(display_area(shapely.geometry.shape(stored)))


def covers(area: MultiPolygon, lats: npt.ArrayLike, lons: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Which points lie in the area, boundary included (PostGIS `ST_Covers`); vectorized."""
    lat = np.asarray(lats, dtype=np.float64)
    lon = np.asarray(lons, dtype=np.float64)
    shapely.prepare(area)  # builds an index once; pays off over many points
    hit = np.asarray(shapely.intersects_xy(area, lon, lat), dtype=np.bool_)
    on_seam = np.abs(lon) == 180.0
    if on_seam.any():
        hit[on_seam] |= shapely.intersects_xy(area, -lon[on_seam], lat[on_seam])
    return hit


def covers_many(
    areas: Sequence[MultiPolygon | None], lat: float, lon: float
) -> npt.NDArray[np.bool_]:
    """Which areas cover one point (boundary included); None areas cover nothing.

    Bounding boxes rule most areas out in one numpy pass; only the rest get an exact test.
    """
    geoms = np.empty(len(areas), dtype=object)
    geoms[:] = list(areas)
    bounds = shapely.bounds(geoms)  # NaN rows for None, which compare False below
    hit = np.zeros(len(geoms), dtype=np.bool_)
    names = (lon, -lon) if abs(lon) == 180.0 else (lon,)
    for x in names:
        candidate = (
            (bounds[:, 0] <= x)
            & (x <= bounds[:, 2])
            & (bounds[:, 1] <= lat)
            & (lat <= bounds[:, 3])
        )
        hit[candidate] |= shapely.intersects_xy(geoms[candidate], x, lat)
    return hit


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """A GeoJSON geometry dict per RFC 7946: [lon, lat] positions rounded to 7 decimals
    (about 1 cm), exterior rings counter-clockwise and holes clockwise."""
    if isinstance(geom, Polygon):
        return {"type": "Polygon", "coordinates": _polygon_coordinates(geom)}
    if isinstance(geom, MultiPolygon):
        return {
            "type": "MultiPolygon",
            "coordinates": [_polygon_coordinates(p) for p in geom.geoms],
        }
    if isinstance(geom, shapely.Point):
        return {"type": "Point", "coordinates": _rounded(shapely.get_coordinates(geom))[0]}
    raise TypeError(f"to_geojson handles Point, Polygon and MultiPolygon, not {geom.geom_type}")


def _polygon_coordinates(polygon: Polygon) -> list[list[list[float]]]:
    oriented = shapely.orient_polygons(polygon, exterior_cw=False)
    rings = [oriented.exterior, *oriented.interiors]
    return [_rounded(shapely.get_coordinates(ring)) for ring in rings]


def _rounded(coords: npt.NDArray[np.float64]) -> list[list[float]]:
    # + 0.0 turns -0.0 into 0.0 so it does not print as "-0.0".
    rounded: list[list[float]] = (np.round(coords, 7) + 0.0).tolist()
    return rounded
