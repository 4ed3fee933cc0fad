"""Points bucketed into latitude/longitude cells: which rows may lie within r km of a point.

Rows are kept sorted by cell, latitude band first and longitude column second, so the cells a
query circle touches are one contiguous run of rows per band (two where the circle crosses the
antimeridian). A search is two binary searches per band and no tree walk, and the rows it
returns are ascending and adjacent in memory. It returns whole cells, a superset of the
circle: callers compute exact distances for their candidates anyway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from geo.distance import EARTH_RADIUS_KM
from matching.columns import row_ranges

CELL_DEG = 0.1  # about 11 km: the smallest query radius (20 km) spans a few cells
COLUMNS = round(360 / CELL_DEG)
PAD_DEG = 1e-9  # widens each search box so rounding never drops a point on its edge


def cell_keys(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Cell of each point as band * COLUMNS + column; longitudes 180 and -180 share column 0."""
    band = np.floor((np.asarray(lat) + 90.0) / CELL_DEG).astype(np.int64)
    column = np.floor((np.asarray(lon) + 180.0) / CELL_DEG).astype(np.int64) % COLUMNS
    return band * COLUMNS + column


@dataclass(frozen=True)
class CellGrid:
    """Cell keys of rows already sorted by cell (see `cell_order`)."""

    keys: np.ndarray  # int64, ascending

    @classmethod
    def of(cls, lat: np.ndarray, lon: np.ndarray) -> CellGrid:
        keys = cell_keys(lat, lon)
        if len(keys) > 1 and (keys[1:] < keys[:-1]).any():
            raise ValueError("CellGrid.of: rows are not sorted by cell (use cell_order)")
        return cls(keys)

    def near(self, lat: float, lon: float, radius_km: float) -> np.ndarray:
        """Ascending rows of every cell in the bounding box of the circle of radius_km around
        the point (so every row within radius_km, and some beyond it)."""
        starts, stops = self.keys.searchsorted(cell_ranges(lat, lon, radius_km))
        return row_ranges(starts, stops)


def cell_ranges(lat: float, lon: float, radius_km: float) -> np.ndarray:
    """(2, runs): the first cell key and the key past the last of each run of cells (one per
    band, two where the box crosses the antimeridian) in the bounding box of the circle of
    radius_km around the point; CellGrid.near searches a grid's keys for them."""
    angle = min(radius_km / EARTH_RADIUS_KM, math.pi)  # beyond pi: the whole sphere
    reach_deg = math.degrees(angle) + PAD_DEG
    south, north = max(lat - reach_deg, -90.0), min(lat + reach_deg, 90.0)
    bands = np.arange(_index(south + 90.0), _index(north + 90.0) + 1, dtype=np.int64)
    # Widest longitude span of the circle (at the latitude where it is tangent to a
    # meridian); a circle reaching over a pole spans every longitude.
    spread = math.sin(angle) / math.cos(math.radians(lat))
    if north >= 90.0 or south <= -90.0 or spread >= 1.0:
        columns = [(0, COLUMNS - 1)]
    else:
        half = math.degrees(math.asin(spread)) + PAD_DEG
        west, east = _index(lon - half + 180.0), _index(lon + half + 180.0)
        if east - west + 1 >= COLUMNS:
            columns = [(0, COLUMNS - 1)]
        elif west < 0:  # crosses the antimeridian westwards
            columns = [(0, east), (west + COLUMNS, COLUMNS - 1)]
        elif east >= COLUMNS:  # eastwards
            columns = [(0, east - COLUMNS), (west, COLUMNS - 1)]
        else:
            columns = [(west, east)]
    # Keys where each band's column runs start and end, searched in one go.
    bounds = np.array([[first for first, _ in columns], [last + 1 for _, last in columns]])
    keys = bands[None, :, None] * COLUMNS + bounds[:, None, :]
    return keys.reshape(2, -1)


def cell_order(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """The (stable) row order that sorts these points by cell."""
    return np.argsort(cell_keys(lat, lon), kind="stable")


def _index(degrees_from_origin: float) -> int:
    return math.floor(degrees_from_origin / CELL_DEG)
