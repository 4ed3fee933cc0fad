"""Response shaping shared by routers: GeoJSON and CSV bodies."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

import geo
from app.routers.params import GEOJSON

CSV = "text/csv"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


def csv_response(
    rows: Iterable[dict[str, Any]], columns: Sequence[str], next_url: str | None = None
) -> Response:
    """A CSV table (RFC 4180); lists are joined with ';', null is empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else None
    return Response(out.getvalue(), media_type=f"{CSV}; charset=utf-8", headers=headers)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return ";".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, str) and value[:1] in FORMULA_START:
        # Names come from the public; a spreadsheet must not run one as a formula (OWASP).
        return "'" + value
    return value
