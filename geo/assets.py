"""Counting assets per map cell (or any grouping), and the box around a set of places.

An asset is an offering at one location of its organization; `AssetColumns` holds them as
arrays, with one (asset, category) pair per category they count in, so counts per cell and
per category are a few bincounts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from geo.bbox import BBox

# A degree of latitude is 110.57-111.69 km, of longitude at most 111.32 km * cos(lat): taking
# less than either makes the pad err wide.
KM_PER_DEGREE = 110.5


@dataclass(frozen=True)
class AssetColumns:
    offering: npt.NDArray[np.int64]
    organization: npt.NDArray[np.int64]
    virtual: npt.NDArray[np.bool_]
    pair_asset: npt.NDArray[np.intp]  # asset row of each (asset, category) pair
    pair_category: npt.NDArray[np.intp]  # category index of each pair

    def __len__(self) -> int:
        return len(self.offering)

    def take(self, rows: npt.NDArray[np.intp]) -> AssetColumns:
        """These assets (ascending rows) and their pairs, renumbered."""
        keep = np.zeros(len(self), dtype=bool)
        keep[rows] = True
        pairs = keep[self.pair_asset]
        renumber = np.cumsum(keep) - 1
        return AssetColumns(
            offering=self.offering[rows],
            organization=self.organization[rows],
            virtual=self.virtual[rows],
            pair_asset=renumber[self.pair_asset[pairs]],
            pair_category=self.pair_category[pairs],
        )


@dataclass(frozen=True)
class AssetCounts:
    """Per group: assets, distinct offerings and organizations, virtual assets, and assets
    per category (an asset in two categories counts in both)."""

    assets: npt.NDArray[np.int64]
    offerings: npt.NDArray[np.int64]
    organizations: npt.NDArray[np.int64]
    virtual: npt.NDArray[np.int64]
    by_category: npt.NDArray[np.int64]  # (groups, categories)


def count_assets(
    assets: AssetColumns, group: npt.ArrayLike, n_groups: int, n_categories: int
) -> AssetCounts:
    """Counts per group; `group` is each asset's group index (e.g. its cell's position)."""
    g = np.asarray(group, dtype=np.int64)
    width = max(n_categories, 1)
    by_category = np.bincount(
        g[assets.pair_asset] * width + assets.pair_category, minlength=n_groups * width
    ).reshape(n_groups, width)[:, :n_categories]
    return AssetCounts(
        assets=np.bincount(g, minlength=n_groups).astype(np.int64),
        offerings=_distinct_per(g, assets.offering, n_groups),
        organizations=_distinct_per(g, assets.organization, n_groups),
        virtual=np.bincount(g, weights=assets.virtual, minlength=n_groups).astype(np.int64),
        by_category=by_category.astype(np.int64),
    )


def _distinct_per(
    group: npt.NDArray[np.int64], values: npt.NDArray[np.int64], n_groups: int
) -> npt.NDArray[np.int64]:
    """How many distinct values (non-negative, below 2^32) each group holds."""
    if len(group) == 0:
        return np.zeros(n_groups, dtype=np.int64)
    pairs = np.unique(group * (1 << 32) + values)
    return np.bincount(pairs >> 32, minlength=n_groups).astype(np.int64)


def padded_box(lats: npt.ArrayLike, lons: npt.ArrayLike, km: float) -> BBox:
    """The points' bounding box widened by at least `km` on every side; all longitudes when
    it would reach a pole or the points lie on both sides of the antimeridian."""
    lat = np.asarray(lats, dtype=np.float64)
    lon = np.asarray(lons, dtype=np.float64)
    if lat.size == 0:
        raise ValueError("padded_box needs at least one point")
    dlat = km / KM_PER_DEGREE
    south = max(-90.0, float(lat.min()) - dlat)
    north = min(90.0, float(lat.max()) + dlat)
    if north >= 89.0 or south <= -89.0 or float(lon.max() - lon.min()) > 180.0:
        return BBox(-180.0, south, 180.0, north)
    widest = max(abs(south), abs(north))
    dlon = km / (KM_PER_DEGREE * math.cos(math.radians(widest)))
    west, east = float(lon.min()) - dlon, float(lon.max()) + dlon
    if east - west >= 360.0:
        return BBox(-180.0, south, 180.0, north)
    if west < -180.0:
        return BBox(west + 360.0, south, east, north)
    if east > 180.0:
        return BBox(west, south, east - 360.0, north)
    return BBox(west, south, east, north)
