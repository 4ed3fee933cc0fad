"""Distances between WGS84 points: geodesic on the spheroid, and great-circle on the sphere.

`geodesic_m`, `within_radius` and `radius_bbox` match PostGIS geography: `ST_Distance` and
`ST_DWithin` use the spheroid by default and compute it with GeographicLib (Karney), as pyproj's
Geod does; so the SQLite path agrees with PostGIS to well under a millimetre. `ST_DWithin` is
inclusive (distance <= r), and so is `within_radius`.

`haversine_km` is the ranking's distance: the mean Earth sphere (error < 0.6 % against the
ellipsoid), vectorized and fast; at the scale of a decay scale (5-40 km) the spherical error is
far below location precision. Candidate pruning (whole grid cells, matching.spatial) keeps a
superset of the rows it admits, so pruning never drops a row scoring would keep.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from pyproj import Geod

from geo.bbox import BBox
from geo.errors import GeometryError
from geo.points import validate_point

WGS84 = Geod(ellps="WGS84")
EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius

# Beyond a quarter of the globe geodesic circles stop being simple shapes in lon/lat; a
# full-longitude box is then the honest (and still correct) prefilter.
_FULL_LONGITUDE_RADIUS_M = 10_000_000.0
# Safety margin on every computed box edge, in degrees (~0.1 mm) and relative to the half-width.
_PAD_DEG = 1e-9
_PAD_REL = 1e-9


def geodesic_m(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Geodesic distance in metres between points, broadcasting scalars against arrays.

    Out-of-range or NaN coordinates give NaN; validate at the edge (`validate_point`).
    """
    a_lat, a_lon, b_lat, b_lon = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (lat1, lon1, lat2, lon2))
    )
    if a_lat.ndim == 0:
        return np.asarray(WGS84.inv(a_lon.item(), a_lat.item(), b_lon.item(), b_lat.item())[2])
    lon_a, lat_a, lon_b, lat_b = (
        np.ascontiguousarray(v).ravel() for v in (a_lon, a_lat, b_lon, b_lat)
    )
    _, _, dist = WGS84.inv(lon_a, lat_a, lon_b, lat_b)
    return np.asarray(dist, dtype=np.float64).reshape(a_lat.shape)


def haversine_km(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (broadcasts)."""
    # x * (pi / 180) is what np.radians computes, bit for bit, at a fraction of its cost; and
    # maximum/minimum are np.clip's values without its Python wrapper (both hot in ranking).
    p1 = np.multiply(lat1, _RADIANS_PER_DEGREE)
    p2 = np.multiply(lat2, _RADIANS_PER_DEGREE)
    dphi = p2 - p1
    dlmb = np.multiply(lon2, _RADIANS_PER_DEGREE) - np.multiply(lon1, _RADIANS_PER_DEGREE)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(np.maximum(a, 0.0), 1.0)))


_RADIANS_PER_DEGREE = math.pi / 180.0


def within_radius(
    lat: float, lon: float, lats: npt.ArrayLike, lons: npt.ArrayLike, radius_m: float
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
    """Which points lie within `radius_m` geodesic metres of (lat, lon), and their distances.

    A conservative box prefilter picks candidates and only those get the exact (and slower)
    geodesic; the mask is exactly `geodesic_m(...) <= radius_m`. `dist_m` is NaN where the
    prefilter ruled a point out without measuring it.
    """
    lat, lon = validate_point(lat, lon)
    lat_arr = np.asarray(lats, dtype=np.float64)
    lon_arr = np.asarray(lons, dtype=np.float64)
    candidates = np.zeros(lat_arr.shape, dtype=np.bool_)
    for box in radius_bbox(lat, lon, radius_m):
        candidates |= box.contains(lat_arr, lon_arr)
    dist_m = np.full(lat_arr.shape, np.nan)
    dist_m[candidates] = geodesic_m(lat, lon, lat_arr[candidates], lon_arr[candidates])
    mask = np.zeros(lat_arr.shape, dtype=np.bool_)
    mask[candidates] = dist_m[candidates] <= radius_m
    return mask, dist_m


def radius_bbox(lat: float, lon: float, radius_m: float) -> list[BBox]:
    """Lon/lat boxes that together cover every point within `radius_m` of (lat, lon).

    Used as an indexable `lat BETWEEN ... AND lon BETWEEN ...` prefilter. The boxes never
    cross the antimeridian (a circle that does gives two), and span all longitudes when the
    circle reaches a pole. Boxes are slightly padded, never tight.
    """
    if not math.isfinite(radius_m) or radius_m < 0:
        raise GeometryError(f"radius must be a finite number >= 0, got {radius_m}", ("radius_m",))
    lat, lon = validate_point(lat, lon)
    lon = ((lon + 180.0) % 360.0) - 180.0  # 180 becomes -180: same meridian
    to_north = float(WGS84.inv(lon, lat, lon, 90.0)[2])
    to_south = float(WGS84.inv(lon, lat, lon, -90.0)[2])
    # The nearest point of a parallel is straight along the meridian, so the latitude extent
    # is exact: go due north and due south.
    max_lat = 90.0 if radius_m >= to_north else _meridian_lat(lon, lat, 0.0, radius_m)
    min_lat = -90.0 if radius_m >= to_south else _meridian_lat(lon, lat, 180.0, radius_m)
    reaches_pole = radius_m >= to_north or radius_m >= to_south
    if reaches_pole or radius_m >= _FULL_LONGITUDE_RADIUS_M:
        return [BBox(-180.0, min_lat, 180.0, max_lat)]
    half_width = _max_lon_offset(lat, lon, radius_m)
    if half_width >= 90.0:
        # Only when the circle skims a pole; longitude extremes get too sharp to trust.
        return [BBox(-180.0, min_lat, 180.0, max_lat)]
    west, east = lon - half_width, lon + half_width
    if east >= 180.0:
        return [BBox(west, min_lat, 180.0, max_lat), BBox(-180.0, min_lat, east - 360.0, max_lat)]
    if west <= -180.0:
        return [BBox(west + 360.0, min_lat, 180.0, max_lat), BBox(-180.0, min_lat, east, max_lat)]
    return [BBox(west, min_lat, east, max_lat)]


def _meridian_lat(lon: float, lat: float, azimuth: float, radius_m: float) -> float:
    """Latitude reached going `radius_m` due north (0) or south (180), padded outwards."""
    reached = float(WGS84.fwd(lon, lat, azimuth, radius_m)[1])
    padded = reached + _PAD_DEG if azimuth == 0.0 else reached - _PAD_DEG
    return min(90.0, max(-90.0, padded))


def _max_lon_offset(lat: float, lon: float, radius_m: float) -> float:
    """Largest longitude offset (degrees) of the geodesic circle, padded outwards.

    The circle is symmetric about the centre's meridian and, away from the poles, its
    longitude rises then falls as the azimuth goes 0..180, so bracketing the maximum and
    shrinking the bracket converges on it. Vectorized over 33 azimuths per round.
    """
    low, high = 0.0, 180.0
    best = 0.0
    while high - low > 1e-9:
        azimuths = np.linspace(low, high, 33)
        ends_lon, _, _ = WGS84.fwd(
            np.full(33, lon), np.full(33, lat), azimuths, np.full(33, radius_m)
        )
        offsets = (np.asarray(ends_lon) - lon + 180.0) % 360.0 - 180.0
        i = int(np.argmax(offsets))
        best = max(best, float(offsets[i]))
        low, high = float(azimuths[max(i - 1, 0)]), float(azimuths[min(i + 1, 32)])
    return best * (1.0 + _PAD_REL) + _PAD_DEG
