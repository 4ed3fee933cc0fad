"""Response shaping shared by routers: problem documentation and GeoJSON bodies."""

from __future__ import annotations

from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

import geo
from app.routers.params import GEOJSON


def geojson_response(features: list[dict[str, Any]], next_cursor: str | None) -> JSONResponse:
    body = geo.feature_collection(features, next_cursor=next_cursor)
    return JSONResponse(jsonable_encoder(body), media_type=GEOJSON)


def point_geometry(points: list[tuple[float, float]]) -> dict[str, Any] | None:
    """Point, MultiPoint or null geometry for (lat, lon) pairs, in RFC 7946 [lon, lat] order."""
    if not points:
        return None
    if len(points) == 1:
        lat, lon = points[0]
        return {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}
    return {
        "type": "MultiPoint",
        "coordinates": [[round(lon, 7), round(lat, 7)] for lat, lon in points],
    }
