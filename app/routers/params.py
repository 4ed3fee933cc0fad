"""Query parameters shared by list endpoints, parsed into plain filter objects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Query, Request

import geo
from app.deps import SettingsDep
from app.errors import InvalidInput
from app.filters import Area, Near
from app.pagination import CURSOR_PATTERN, Cursor
from app.representations import GEOJSON

# Free-text parameters: anything but NUL, which PostgreSQL text cannot hold.
NO_NUL = r"^[^\x00]*$"


LAT = r"-?(90(\.0+)?|[1-8]?[0-9](\.[0-9]+)?)"
LON = r"-?(180(\.0+)?|(1[0-7][0-9]|[1-9]?[0-9])(\.[0-9]+)?)"
NEAR_PATTERN = f"^{LAT},{LON}$"
BBOX_PATTERN = f"^{LON},{LAT},{LON},{LAT}$"


def area_params(
    near: Annotated[
        str | None,
        Query(
            pattern=NEAR_PATTERN,
            description="`lat,lon`: only records within `radius_km`, nearest first, "
            "each with `distance_m`.",
            examples=["37.8044,-122.2712"],
        ),
    ] = None,
    radius_km: Annotated[
        float, Query(gt=0, le=1000, description="Radius for `near`, in km.")
    ] = 10.0,
    bbox: Annotated[
        str | None,
        Query(
            pattern=BBOX_PATTERN,
            description="`minLon,minLat,maxLon,maxLat` (WGS84); minLon > maxLon crosses "
            "the antimeridian.",
            examples=["-122.35,37.70,-122.10,37.89"],
        ),
    ] = None,
) -> Area:
    parsed_near = parsed_bbox = None
    if near is not None:
        try:
            lat, lon = geo.parse_near(near)
        except geo.GeometryError as exc:
            raise InvalidInput(["query", "near"], exc.reason) from exc
        parsed_near = Near(lat=lat, lon=lon, radius_m=radius_km * 1000.0)
    if bbox is not None:
        try:
            parsed_bbox = geo.parse_bbox(bbox)
        except geo.GeometryError as exc:
            raise InvalidInput(["query", "bbox"], exc.reason) from exc
    return Area(near=parsed_near, bbox=parsed_bbox)


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor_text: str | None

    def cursor(self, *, near: bool) -> Cursor | None:
        return Cursor.decode(self.cursor_text, near=near)


def page_params(
    settings: SettingsDep,
    limit: Annotated[int | None, Query(ge=1, le=500, description="Page size.")] = None,
    cursor: Annotated[
        str | None,
        Query(
            max_length=40,
            pattern=CURSOR_PATTERN,
            description="`next_cursor` of the previous page.",
            examples=["42"],
        ),
    ] = None,
) -> PageParams:
    size = min(limit or settings.page_size_default, settings.page_size_max)
    return PageParams(limit=size, cursor_text=cursor)


def wants_geojson(
    request: Request,
    format: Annotated[
        Literal["json", "geojson"] | None,
        Query(
            description="`geojson` returns an RFC 7946 FeatureCollection "
            "(same as `Accept: application/geo+json`)."
        ),
    ] = None,
) -> bool:
    if format is not None:
        return format == "geojson"
    return GEOJSON in request.headers.get("accept", "")


AreaDep = Annotated[Area, Depends(area_params)]
PageDep = Annotated[PageParams, Depends(page_params)]
GeoJSONDep = Annotated[bool, Depends(wants_geojson)]

GEOJSON_RESPONSE = {
    200: {
        "content": {
            GEOJSON: {
                "schema": {
                    "type": "object",
                    "description": "RFC 7946 FeatureCollection; `next_cursor` as a foreign member.",
                    "properties": {
                        "type": {"const": "FeatureCollection"},
                        "features": {"type": "array", "items": {"type": "object"}},
                        "next_cursor": {"type": ["string", "null"]},
                    },
                }
            }
        }
    }
}


def page_cursor(rows: list, limit: int, *, near: bool) -> str | None:
    """The next page's cursor, from the extra row fetched beyond `limit`."""
    if len(rows) <= limit:
        return None
    last, distance = rows[limit - 1]
    return Cursor(id=last.id, distance_m=distance if near else None).encode()
