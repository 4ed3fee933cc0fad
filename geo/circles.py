"""Geodesic circles as lon/lat rings that stay close to the true circle, even near a pole."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from geo.antimeridian import unwrap_ring
from geo.distance import WGS84, geodesic_m

# A circle whose edge passes this close to a pole is widened to contain it.
_POLE_NUDGE_M = 1e-3
# Each round halves the edges that are still too far off; 16 rounds allow 65,536-fold detail.
_MAX_ROUNDS = 16


def circle_ring(
    lat: float, lon: float, radius_m: float, segments: int
) -> tuple[npt.NDArray[np.float64], int]:
    """A closed (n, 2) lon/lat ring of points exactly `radius_m` from the centre, clockwise,
    and how many times it turns around the globe (±1 when the circle contains a pole).

    Starts with `segments` evenly spaced azimuths. A straight lon/lat edge between two of them
    is as close to the circle as on flat ground only where lon/lat is not too distorted; near
    a pole one edge can cut deep into the circle. So an edge whose midpoint is more than twice
    the flat-ground sagitta off the circle is split, until none is. Longitudes are unwrapped
    (continuous, possibly beyond ±180) so edges never jump across the antimeridian.

    A circle passing (within a millimetre) through a pole is widened by a millimetre to
    contain it: the pole is a whole line in lon/lat, so it cannot be a single vertex.
    """
    for pole in (90.0, -90.0):
        to_pole = float(geodesic_m(lat, lon, pole, lon))
        if abs(radius_m - to_pole) < _POLE_NUDGE_M:
            radius_m = to_pole + _POLE_NUDGE_M
    tolerance_m = 2.0 * radius_m * (1.0 - math.cos(math.pi / segments))
    azimuths = np.linspace(0.0, 360.0, segments + 1)
    ring = _points_at(lat, lon, radius_m, azimuths)
    ring[-1] = ring[0]  # 0° and 360° are the same point; close the ring exactly
    ring[:, 0], turns = unwrap_ring(ring)
    for _ in range(_MAX_ROUNDS):
        mid_azimuths = (azimuths[:-1] + azimuths[1:]) / 2.0
        on_circle = _points_at(lat, lon, radius_m, mid_azimuths)
        chord_mid = (ring[:-1] + ring[1:]) / 2.0
        # Put the true midpoints in the ring's frame (unwrapped longitudes) before comparing.
        on_circle[:, 0] += 360.0 * np.round((chord_mid[:, 0] - on_circle[:, 0]) / 360.0)
        off_m = geodesic_m(chord_mid[:, 1], chord_mid[:, 0], on_circle[:, 1], on_circle[:, 0])
        too_far = np.flatnonzero(off_m > tolerance_m)
        if too_far.size == 0:
            break
        azimuths = np.insert(azimuths, too_far + 1, mid_azimuths[too_far])
        ring = np.insert(ring, too_far + 1, on_circle[too_far], axis=0)
    return ring, turns


def _points_at(
    lat: float, lon: float, radius_m: float, azimuths: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """(n, 2) lon/lat points `radius_m` from the centre at the given azimuths."""
    n = len(azimuths)
    lons, lats, _ = WGS84.fwd(np.full(n, lon), np.full(n, lat), azimuths, np.full(n, radius_m))
    return np.column_stack((lons, lats))
