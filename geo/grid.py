"""The grid assets and deserts are aggregated on: Web Mercator map tiles (XYZ, "slippy map").

At level z the Web Mercator square (latitudes within ±85.0511°) is cut into 2^z by 2^z square
cells; cell (z, x, y) is map tile z/x/y, x counted east from 180°W, y south from the top.
Its id is the string "z/x/y". A cell's edge is 40,075 km * cos(lat) / 2^z:

    level   edge at 38°N    level   edge at 38°N
      10    30.8 km           14    1.93 km
      12    7.71 km           16    482 m
      13    3.85 km           18    120 m

Why tiles rather than an equal-area grid: a cell at level z lines up with what a web map shows
at zoom z, ids are understood by every map client, and assigning points is two vectorized
formulas. The cost is area distortion (cells shrink on the ground as cos² of latitude), which
is below 2% across any one district and irrelevant to counts per cell.

A cell owns its west and north edges: a point exactly on a line between cells belongs to the
cell east or south of it (up to rounding). Longitudes 180 and -180 are the same meridian
(column 0). Points nearer a pole than ±85.0511° fall in the top or bottom row.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from geo.areas import to_geojson
from geo.bbox import BBox
from geo.errors import GeometryError

MAX_LEVEL = 24  # 2.4 m cells; x * 2^z + y still fits in int64 with room to spare
MAX_LAT = math.degrees(math.atan(math.sinh(math.pi)))  # 85.0511287798°, the Mercator limit
EARTH_CIRCUMFERENCE_KM = 40_075.016686

_CELL_ID = re.compile(r"(\d{1,2})/(\d{1,8})/(\d{1,8})")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def check_level(level: int) -> int:
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= MAX_LEVEL:
        raise GeometryError(f"grid level must be an integer 0..{MAX_LEVEL}, got {level!r}")
    return level


def cell_xy(lats: npt.ArrayLike, lons: npt.ArrayLike, level: int) -> tuple[IntArray, IntArray]:
    """Column and row of the cell holding each point (vectorized)."""
    n = 1 << check_level(level)
    lat = np.clip(np.asarray(lats, dtype=np.float64), -MAX_LAT, MAX_LAT)
    lon = np.asarray(lons, dtype=np.float64)
    u = np.mod(lon + 180.0, 360.0) / 360.0  # 180 and -180 both give 0
    phi = np.radians(lat)
    v = (1.0 - np.arcsinh(np.tan(phi)) / math.pi) / 2.0
    x = np.clip(np.floor(u * n), 0, n - 1).astype(np.int64)
    y = np.clip(np.floor(v * n), 0, n - 1).astype(np.int64)
    return x, y


def cell_bounds(x: npt.ArrayLike, y: npt.ArrayLike, level: int) -> FloatArray:
    """(n, 4) west, south, east, north of each cell, in degrees."""
    n = 1 << check_level(level)
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    west = xs / n * 360.0 - 180.0
    east = (xs + 1) / n * 360.0 - 180.0
    north = _row_lat(ys, n)
    south = _row_lat(ys + 1, n)
    return np.column_stack([west, south, east, north]).reshape(-1, 4)


def _row_lat(y: FloatArray, n: int) -> FloatArray:
    return np.degrees(np.arctan(np.sinh(math.pi * (1.0 - 2.0 * y / n))))


def cell_keys(x: IntArray, y: IntArray, level: int) -> IntArray:
    """One sortable integer per cell (column-major: west to east, then north to south)."""
    return np.asarray(x, dtype=np.int64) * (1 << check_level(level)) + np.asarray(y, np.int64)


def cell_id(level: int, x: int, y: int) -> str:
    return f"{level}/{x}/{y}"


def parse_cell_id(text: str) -> tuple[int, int, int]:
    """(level, x, y) from "z/x/y"; GeometryError when it names no cell."""
    match = _CELL_ID.fullmatch(text)
    if not match:
        raise GeometryError(f"cell id must look like 'level/x/y', got {text!r}")
    level, x, y = (int(part) for part in match.groups())
    check_level(level)
    if not (x < 1 << level and y < 1 << level):
        raise GeometryError(f"cell {text} is outside the level-{level} grid")
    return level, x, y


def cell_geometry(level: int, x: int, y: int) -> dict[str, Any]:
    """The cell as an RFC 7946 Polygon (counter-clockwise, [lon, lat])."""
    west, south, east, north = cell_bounds([x], [y], level)[0]
    return to_geojson(shapely.box(west, south, east, north))


def cell_size_km(level: int, lat: float) -> float:
    """Edge length of a cell at this latitude, km."""
    return EARTH_CIRCUMFERENCE_KM * math.cos(math.radians(lat)) / (1 << check_level(level))


@dataclass(frozen=True)
class CellRange:
    """The cells a box touches: `columns` columns east from `x_west` (wrapping past 180°)
    and the rows `y_north`..`y_south`."""

    level: int
    x_west: int
    columns: int
    y_north: int
    y_south: int

    def contains(self, x: IntArray, y: IntArray) -> npt.NDArray[np.bool_]:
        n = 1 << self.level
        in_x = np.mod(np.asarray(x) - self.x_west, n) < self.columns
        return np.asarray(in_x & (y >= self.y_north) & (y <= self.y_south), dtype=np.bool_)

    def bbox(self) -> BBox:
        """A box holding every point of these cells (and points on their far edges, which
        belong to the neighbours: filter with `contains`)."""
        n = 1 << self.level
        north = (
            90.0
            if self.y_north == 0
            else float(_row_lat(np.array([self.y_north], np.float64), n)[0])
        )
        south = (
            -90.0
            if self.y_south == n - 1
            else float(_row_lat(np.array([self.y_south + 1], np.float64), n)[0])
        )
        if self.columns >= n:
            return BBox(-180.0, south, 180.0, north)
        west = self.x_west / n * 360.0 - 180.0
        east = (self.x_west + self.columns) / n * 360.0 - 180.0
        if east > 180.0:
            return BBox(west, south, east - 360.0, north)
        return BBox(west, south, east, north)


def cell_range(bbox: BBox, level: int) -> CellRange:
    """The cells the box touches (its edges included), so each is counted in full: a cell's
    figures then do not depend on how far into it the requested box reaches."""
    n = 1 << check_level(level)
    (x_west, x_east), (y_north, y_south) = cell_xy(
        [bbox.max_lat, bbox.min_lat], [bbox.min_lon, bbox.max_lon], level
    )
    x_west, x_east = int(x_west), int(x_east)
    if bbox.crosses_antimeridian:
        columns = n if x_west == x_east and n > 1 else (x_east - x_west) % n + 1
    elif bbox.max_lon == 180.0:
        # 180° is the west edge of column 0: the box reaches round to it.
        columns = min(n, n - x_west + 1)
    else:
        columns = x_east - x_west + 1
    return CellRange(level, x_west, min(columns, n), int(y_north), int(y_south))


def aggregate(
    x: IntArray, y: IntArray, level: int, groups: npt.ArrayLike | None = None, n_groups: int = 1
) -> tuple[IntArray, IntArray, npt.NDArray[np.int64]]:
    """Distinct cells (sorted by key) and, per cell, how many points fall in each group.

    groups: group index (0..n_groups-1) per point, or None for one group. Returns the cells'
    x, y and an (n_cells, n_groups) count matrix.
    """
    keys = cell_keys(x, y, level)
    if keys.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros((0, n_groups), dtype=np.int64)
    unique, inverse = np.unique(keys, return_inverse=True)
    group = np.zeros(len(keys), np.int64) if groups is None else np.asarray(groups, np.int64)
    counts = np.bincount(
        inverse.ravel() * n_groups + group, minlength=len(unique) * n_groups
    ).reshape(len(unique), n_groups)
    n = np.int64(1 << level)
    return unique // n, unique % n, counts.astype(np.int64)
