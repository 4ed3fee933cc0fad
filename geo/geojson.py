"""Building RFC 7946 GeoJSON Features and FeatureCollections for map responses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from geo.bbox import BBox

FeatureId = str | int | None

_RESERVED = frozenset({"type", "features"})


def feature(
    id: FeatureId, geometry: Mapping[str, Any] | None, properties: Mapping[str, Any] | None
) -> dict[str, Any]:
    """A Feature; `id` is left out when None, and null geometry/properties stay null (§3.2)."""
    result: dict[str, Any] = {"type": "Feature"}
    if id is not None:
        result["id"] = id
    result["geometry"] = None if geometry is None else dict(geometry)
    result["properties"] = None if properties is None else dict(properties)
    return result


def point_feature(
    id: FeatureId, lat: float, lon: float, properties: Mapping[str, Any] | None
) -> dict[str, Any]:
    """A Point Feature; note GeoJSON's [lon, lat] order, rounded to 7 decimals (about 1 cm)."""
    coordinates = [round(float(lon), 7) + 0.0, round(float(lat), 7) + 0.0]
    return feature(id, {"type": "Point", "coordinates": coordinates}, properties)


def feature_collection(features: Iterable[Mapping[str, Any]], **members: Any) -> dict[str, Any]:
    """A FeatureCollection with extra foreign members (e.g. `bbox`, given as a BBox or list).

    A BBox crossing the antimeridian keeps west > east, as RFC 7946 §5.2 asks.
    """
    clashing = _RESERVED & members.keys()
    if clashing:
        raise ValueError(f"members may not override {sorted(clashing)}")
    if isinstance(members.get("bbox"), BBox):
        members["bbox"] = members["bbox"].to_list()
    return {"type": "FeatureCollection", "features": [dict(f) for f in features], **members}
