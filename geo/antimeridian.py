"""Cutting lon/lat polygons at the antimeridian (RFC 7946 §3.1.9).

PostGIS geography joins consecutive positions by the shorter way round, so an edge from
179°E to 179°W is 2° long, not 358°. To get the same answer with planar shapely the ring is
"unwrapped" (longitudes made continuous, possibly beyond ±180), then cut along 180° and the
pieces shifted back into [-180, 180]. An edge of exactly 180° is not a jump: it stays a
straight line in lon/lat (see the note on long edges in `geo.areas`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from shapely import Polygon

# Unwrapped polygons span less than 360°, so they lie within [-540, 540]; each window is one
# 360° band cut at ±180, paired with the shift that brings it back into [-180, 180].
_WINDOWS = (
    (shapely.box(-540.0, -90.0, -180.0, 90.0), 360.0),
    (shapely.box(-180.0, -90.0, 180.0, 90.0), 0.0),
    (shapely.box(180.0, -90.0, 540.0, 90.0), -360.0),
)


def _jumps(ring: npt.NDArray[np.float64]) -> npt.NDArray[np.int_]:
    """Per edge of an (n, 2) lon/lat ring: -1 where longitude leaps up by more than 180° (the
    edge really goes west across 180°), +1 where it leaps down, 0 otherwise. An edge along a
    pole (both ends at lat ±90, one point on the globe) never jumps: it is how a polygon
    covering a pole is drawn in lon/lat."""
    steps = np.diff(ring[:, 0])
    along_pole = (np.abs(ring[:-1, 1]) == 90.0) & (ring[:-1, 1] == ring[1:, 1])
    jump = np.where(steps > 180.0, -1, np.where(steps < -180.0, 1, 0))
    return np.where(along_pole, 0, jump)


def crosses_antimeridian(ring: npt.NDArray[np.float64]) -> bool:
    """Whether an (n, 2) lon/lat ring has an edge jumping more than 180° of longitude."""
    return bool(_jumps(ring).any())


def unwrap_ring(ring: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], int]:
    """The ring's longitudes made continuous, and its net number of turns around the globe.

    A ring that turns (net ±360°) goes around a pole: it has no inside on the plane.
    """
    shift = np.concatenate(([0], np.cumsum(_jumps(ring))))
    return ring[:, 0] + 360.0 * shift, int(shift[-1])


def align_to(lons: npt.NDArray[np.float64], centre: float) -> npt.NDArray[np.float64]:
    """Shift an unwrapped ring by whole turns so it starts within 180° of `centre`.

    Holes are unwrapped on their own, so this puts them in the same frame as their shell.
    """
    return lons + 360.0 * np.round((centre - lons[0]) / 360.0)


def cut_at_antimeridian(polygon: Polygon) -> list[Polygon]:
    """Pieces of an unwrapped polygon (longitudes beyond ±180 allowed), each within [-180, 180]."""
    pieces: list[Polygon] = []
    for window, shift in _WINDOWS:
        part = shapely.intersection(polygon, window)
        if part.is_empty:
            continue
        moved = shapely.transform(part, lambda xy, dx=shift: xy + np.array([dx, 0.0]))
        pieces.extend(
            p for p in shapely.get_parts(moved) if isinstance(p, Polygon) and p.area > 0.0
        )
    return pieces
