"""Gap analysis over an area: which needs to act on first, where the deserts are, and a
summary per category. Pure numpy on the outputs of geo.coverage.

Gap order: the schools' need index, highest first (unknown last), then the students the need
affects, most first (unknown last), then unmet before thin, then the need's priority, then the
school id and the need's position (so the order is total and pages never shift).

Partnership deserts: a school with need index >= `high_need` (0.6: about two thirds of its
students low-income, with the other indicators in proportion) whose nearest in-person asset of
a category (an offering of it at one of its organization's locations) is farther than
`far_scales` decay scales of its locale (5 km in a city, 10 suburb, 20 town, 40 rural) sits
in a desert of that category; a desert is the grid cell (geo.grid) holding such schools.
Deserts measure physical distance only: a virtual offering or a partner's declared service area
does not lift one (coverage, which counts them, is the other lens). Distances are great-circle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from geo.coverage import THIN, UNMET
from geo.distance import haversine_km
from geo.grid import cell_keys, cell_xy

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

# Largest dense (schools x assets) distance block computed at once.
_BLOCK = 4_000_000


@dataclass(frozen=True)
class DesertConfig:
    """What makes a desert (see the module docstring)."""

    high_need: float = 0.6
    far_scales: float = 1.0
    level: int = 13  # grid level: 3.85 km cells at 38°N

    def __post_init__(self) -> None:
        if not 0 <= self.high_need <= 1:
            raise ValueError("high_need must be in [0, 1]")
        if self.far_scales <= 0:
            raise ValueError("far_scales must be > 0")


def gap_order(
    *,
    need_index: npt.ArrayLike,
    students: npt.ArrayLike,
    status: npt.ArrayLike,
    priority: npt.ArrayLike,
    school_id: npt.ArrayLike,
    position: npt.ArrayLike,
) -> IntArray:
    """Rows in gap order (see the module docstring); arrays are per need."""
    index = np.asarray(need_index, dtype=np.float64)
    count = np.asarray(students, dtype=np.float64)
    keys = (
        np.asarray(position),
        np.asarray(school_id),
        np.asarray(priority),
        np.asarray(status),
        np.where(np.isnan(count), np.inf, -count),
        np.isnan(count),
        np.where(np.isnan(index), np.inf, -index),
        np.isnan(index),
    )
    return np.asarray(np.lexsort(keys), dtype=np.intp)


def nearest_km(
    lat: npt.ArrayLike, lon: npt.ArrayLike, asset_lat: npt.ArrayLike, asset_lon: npt.ArrayLike
) -> FloatArray:
    """Great-circle km from each point to its nearest asset (inf when there is none)."""
    lat_a = np.asarray(lat, dtype=np.float64)
    lon_a = np.asarray(lon, dtype=np.float64)
    a_lat = np.asarray(asset_lat, dtype=np.float64)
    a_lon = np.asarray(asset_lon, dtype=np.float64)
    out = np.full(len(lat_a), np.inf)
    if len(a_lat) == 0 or len(lat_a) == 0:
        return out
    step = max(1, _BLOCK // len(lat_a))
    for start in range(0, len(a_lat), step):
        block = haversine_km(
            lat_a[:, None],
            lon_a[:, None],
            a_lat[None, start : start + step],
            a_lon[None, start : start + step],
        )
        out = np.minimum(out, block.min(axis=1))
    return out


@dataclass(frozen=True)
class Desert:
    """One grid cell where high-need schools sit far from every asset of one category."""

    category: int  # index into the categories given
    x: int
    y: int
    schools: IntArray  # school rows, ascending
    nearest_km: FloatArray  # per school: km to the nearest asset of the category (inf: none)


def deserts(
    *,
    lat: npt.ArrayLike,
    lon: npt.ArrayLike,
    need_index: npt.ArrayLike,
    scale_km: npt.ArrayLike,
    asset_lat: npt.ArrayLike,
    asset_lon: npt.ArrayLike,
    asset_category: npt.ArrayLike,
    n_categories: int,
    config: DesertConfig | None = None,
) -> list[Desert]:
    """Deserts per category, ordered by category then cell (west to east, north to south).

    Schools: lat, lon, need_index (NaN unknown: never high-need), scale_km (their locale's
    decay scale). Assets: one row per (asset, category) with the category's index.
    """
    cfg = config or DesertConfig()
    s_lat = np.asarray(lat, dtype=np.float64)
    s_lon = np.asarray(lon, dtype=np.float64)
    index = np.asarray(need_index, dtype=np.float64)
    far_km = np.asarray(scale_km, dtype=np.float64) * cfg.far_scales
    a_lat = np.asarray(asset_lat, dtype=np.float64)
    a_lon = np.asarray(asset_lon, dtype=np.float64)
    a_cat = np.asarray(asset_category, dtype=np.intp)
    high = np.flatnonzero(np.nan_to_num(index, nan=-1.0) >= cfg.high_need)
    x, y = cell_xy(s_lat[high], s_lon[high], cfg.level)
    keys = cell_keys(x, y, cfg.level)
    found: list[Desert] = []
    for category in range(n_categories):
        mine = a_cat == category
        distance = nearest_km(s_lat[high], s_lon[high], a_lat[mine], a_lon[mine])
        far = distance > far_km[high]
        if not far.any():
            continue
        rows, cell, dist = high[far], keys[far], distance[far]
        order = np.lexsort((rows, cell))
        rows, cell, dist = rows[order], cell[order], dist[order]
        starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
        for key, members, km in zip(
            cell[starts].tolist(),
            np.split(rows, starts[1:]),
            np.split(dist, starts[1:]),
            strict=True,
        ):
            found.append(
                Desert(category, key >> cfg.level, key & ((1 << cfg.level) - 1), members, km)
            )
    return found


@dataclass(frozen=True)
class CategorySummary:
    """Per category (rows of the category index given): needs by status and who they affect."""

    needs: IntArray
    met: IntArray
    thin: IntArray
    unmet: IntArray
    schools_with_gaps: IntArray  # distinct schools with a thin or unmet need of the category
    students_in_gaps: FloatArray  # students affected by thin or unmet needs (where known)


def summarize(
    *,
    category: npt.ArrayLike,
    status: npt.ArrayLike,
    school: npt.ArrayLike,
    students: npt.ArrayLike,
    n_categories: int,
) -> CategorySummary:
    """Counts per category; arrays are per need."""
    cat = np.asarray(category, dtype=np.intp)
    st = np.asarray(status, dtype=np.intp)
    sch = np.asarray(school, dtype=np.intp)
    count = np.nan_to_num(np.asarray(students, dtype=np.float64))

    def per(mask: npt.NDArray[np.bool_]) -> IntArray:
        return np.bincount(cat[mask], minlength=n_categories).astype(np.intp)

    gap = st <= THIN
    pairs = np.unique(np.column_stack([cat[gap], sch[gap]]), axis=0) if gap.any() else None
    schools = (
        np.bincount(pairs[:, 0], minlength=n_categories).astype(np.intp)
        if pairs is not None
        else np.zeros(n_categories, dtype=np.intp)
    )
    return CategorySummary(
        needs=per(np.ones(len(cat), dtype=bool)),
        met=per(st > THIN),
        thin=per(st == THIN),
        unmet=per(st == UNMET),
        schools_with_gaps=schools,
        students_in_gaps=np.bincount(cat[gap], weights=count[gap], minlength=n_categories).astype(
            np.float64
        ),
    )
