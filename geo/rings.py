"""Reading GeoJSON polygon coordinates into numpy rings, with errors that point at the input."""

from __future__ import annotations

import re
from numbers import Real

import numpy as np
import numpy.typing as npt
from shapely import Polygon
from shapely.validation import explain_validity

from geo.errors import GeometryError, PathPart

Path = tuple[PathPart, ...]
Ring = npt.NDArray[np.float64]

_FAST_NUMBER_TYPES = (float, int)
_FRIENDLIER = {
    "Too few points in geometry component": "Ring has fewer than 3 distinct positions",
}
_EXPLANATION = re.compile(r"(?P<what>.*?)\s*\[(?P<x>\S+) (?P<y>\S+)\]")


def read_polygon(rings: object, path: Path) -> list[Ring]:
    """The rings of one GeoJSON polygon (shell first) as (n, 2) lon/lat arrays, checked."""
    if not isinstance(rings, list | tuple):
        raise GeometryError("a polygon must be an array of linear rings", path)
    if not rings:
        raise GeometryError("polygon has no rings; it is empty", path)
    return [read_ring(ring, (*path, i)) for i, ring in enumerate(rings)]


def read_ring(ring: object, path: Path) -> Ring:
    """One GeoJSON linear ring as an (n, 2) lon/lat array: at least 4 positions of finite,
    in-range numbers, the last repeating the first. Extra elements (altitude) are dropped."""
    if not isinstance(ring, list | tuple):
        raise GeometryError("a linear ring must be an array of positions", path)
    if len(ring) < 4:
        raise GeometryError(
            f"a linear ring needs at least 4 positions (the first repeated as the last), "
            f"got {len(ring)}",
            path,
        )
    for i, position in enumerate(ring):
        _check_position(position, (*path, i))
    coords = np.array([(position[0], position[1]) for position in ring], dtype=np.float64)
    _check_values(coords, path)
    if not np.array_equal(coords[0], coords[-1]):
        raise GeometryError(
            f"ring is not closed: the last position {coords[-1].tolist()} must repeat "
            f"the first {coords[0].tolist()}",
            path,
        )
    return coords


def _check_position(position: object, path: Path) -> None:
    if not isinstance(position, list | tuple) or len(position) < 2:
        raise GeometryError("a position must be an array [lon, lat]", path)
    for j, value in enumerate(position):
        # type() first: JSON numbers are float/int and this keeps big rings fast.
        if type(value) in _FAST_NUMBER_TYPES:
            continue
        if isinstance(value, bool) or not isinstance(value, Real):
            raise GeometryError(f"coordinate must be a number, got {value!r}", (*path, j))


def _check_values(coords: Ring, path: Path) -> None:
    """Finite and in range, vectorized; the error names the first bad coordinate."""
    not_finite = np.argwhere(~np.isfinite(coords))
    if not_finite.size:
        row, col = (int(v) for v in not_finite[0])
        raise GeometryError(f"{coords[row, col]} is not a finite number", (*path, row, col))
    for col, name, limit in ((0, "longitude", 180.0), (1, "latitude", 90.0)):
        outside = np.flatnonzero(np.abs(coords[:, col]) > limit)
        if outside.size:
            row = int(outside[0])
            raise GeometryError(
                f"{name} {coords[row, col]:g} is outside [-{limit:g}, {limit:g}]",
                (*path, row, col),
            )


def explain_invalid(polygon: Polygon) -> str:
    """GEOS's reason a polygon is invalid, readable: "Ring self-intersection at (lon, lat)"."""
    text = explain_validity(polygon)
    match = _EXPLANATION.fullmatch(text)
    if not match:
        return text
    what = _FRIENDLIER.get(match["what"], match["what"])
    what = what[:1].upper() + what[1:].lower()
    lon = float(match["x"])
    if abs(lon) > 180.0:  # reported in the unwrapped frame of an antimeridian-crossing polygon
        lon = (lon + 180.0) % 360.0 - 180.0
    return f"{what} at ({_format(lon)}, {_format(float(match['y']))})"


def _format(value: float) -> str:
    return f"{value:.7f}".rstrip("0").rstrip(".")
