"""Longitude/latitude boxes: parsing the `bbox` query value and testing points against it.

A box whose min_lon is greater than its max_lon crosses the antimeridian (RFC 7946 §5.2):
"170,-20,-170,-10" is the 20°-wide strip from 170°E eastwards to 170°W, not the 340° one.
Longitudes -180 and 180 name the same meridian and are treated alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely import MultiPolygon

from geo.errors import GeometryError
from geo.points import check_lat, check_lon, parse_number

_FIELDS = ("min_lon", "min_lat", "max_lon", "max_lat")


@dataclass(frozen=True)
class BBox:
    """A lon/lat box in GeoJSON/OGC order; edges are inclusive, like SQL BETWEEN."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def __post_init__(self) -> None:
        for name in _FIELDS:
            check = check_lon if name.endswith("lon") else check_lat
            object.__setattr__(self, name, check(getattr(self, name), name))
        if self.min_lat > self.max_lat:
            raise GeometryError(
                f"min_lat {self.min_lat:g} is greater than max_lat {self.max_lat:g}",
                ("min_lat",),
            )

    @property
    def crosses_antimeridian(self) -> bool:
        """True when the box runs east from min_lon across 180° to max_lon."""
        return self.min_lon > self.max_lon

    def split(self) -> list[BBox]:
        """One box, or two when it crosses the antimeridian, so each can be a BETWEEN filter."""
        if not self.crosses_antimeridian:
            return [self]
        return [
            BBox(self.min_lon, self.min_lat, 180.0, self.max_lat),
            BBox(-180.0, self.min_lat, self.max_lon, self.max_lat),
        ]

    def contains(self, lats: npt.ArrayLike, lons: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Which points lie in the box (edges included); vectorized over arrays of lat/lon."""
        lat = np.asarray(lats, dtype=np.float64)
        lon = np.asarray(lons, dtype=np.float64)
        in_lat = (lat >= self.min_lat) & (lat <= self.max_lat)
        # A point on -180 is also on 180; test it under both names.
        alias = np.where(lon == 180.0, -180.0, np.where(lon == -180.0, 180.0, lon))
        in_lon = self._lon_inside(lon) | self._lon_inside(alias)
        return np.asarray(in_lat & in_lon, dtype=np.bool_)

    def _lon_inside(self, lon: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        if self.crosses_antimeridian:
            return np.asarray((lon >= self.min_lon) | (lon <= self.max_lon))
        return np.asarray((lon >= self.min_lon) & (lon <= self.max_lon))

    def to_polygon(self) -> MultiPolygon:
        """The box as a MultiPolygon (two parts when it crosses the antimeridian), so callers
        handle one type either way."""
        parts = [shapely.box(b.min_lon, b.min_lat, b.max_lon, b.max_lat) for b in self.split()]
        return MultiPolygon(parts)

    def to_list(self) -> list[float]:
        """[min_lon, min_lat, max_lon, max_lat], the GeoJSON `bbox` member."""
        return [self.min_lon, self.min_lat, self.max_lon, self.max_lat]


def parse_bbox(text: str) -> BBox:
    """Parse "minLon,minLat,maxLon,maxLat" (OGC/GeoJSON order) into a BBox.

    min_lon > max_lon is accepted and means the box crosses the antimeridian.
    """
    parts = text.split(",")
    if len(parts) != 4:
        raise GeometryError(
            "bbox must be four comma-separated numbers minLon,minLat,maxLon,maxLat; "
            f"got {len(parts)}"
        )
    values = [parse_number(part, name) for part, name in zip(parts, _FIELDS, strict=True)]
    return BBox(*values)
