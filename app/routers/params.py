"""Query parameters shared by list endpoints, parsed into plain filter objects."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request

import geo
from app.deps import SettingsDep
from app.filters import Area, Near, OfferingFilters
from app.pagination import CURSOR_PATTERN, Cursor
from app.representations import GEOJSON
from app.schemas.common import (
    GRADE_QUERY_PATTERN,
    CategoryCode,
    Delivery,
    Language,
    OrganizationType,
    Schedule,
    grade_from_query,
)
from app.services.validation import check_categories

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
            max_length=100,
            # Documented, not enforced: the parser names what is wrong in words.
            json_schema_extra={"pattern": NEAR_PATTERN},
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
            max_length=200,
            json_schema_extra={"pattern": BBOX_PATTERN},
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
            # A query parameter is one string: the parameter is the location, not its parts.
            raise geo.GeometryError(exc.reason, ("query", "near")) from exc
        parsed_near = Near(lat=lat, lon=lon, radius_m=radius_km * 1000.0)
    if bbox is not None:
        try:
            parsed_bbox = geo.parse_bbox(bbox)
        except geo.GeometryError as exc:
            raise geo.GeometryError(exc.reason, ("query", "bbox")) from exc
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


@dataclass(frozen=True)
class FilterParam:
    """One offering-filter query parameter: its type, default and Query constraints."""

    annotation: Any
    default: Any
    constraints: Mapping[str, Any] = field(default_factory=dict)


# Every offering-filter query parameter, declared once, in the order routes publish them.
OFFERING_FILTER_PARAMS: dict[str, FilterParam] = {
    "q": FilterParam(str | None, None, {"max_length": 200, "pattern": NO_NUL}),
    "type": FilterParam(list[OrganizationType], []),
    "category": FilterParam(list[CategoryCode], [], {"max_length": 20}),
    "grade": FilterParam(
        str | None, None, {"max_length": 10, "json_schema_extra": {"pattern": GRADE_QUERY_PATTERN}}
    ),
    "schedule": FilterParam(list[Schedule], []),
    "delivery": FilterParam(list[Delivery], []),
    "language": FilterParam(list[Language], []),
    "free": FilterParam(bool, False),
    "verified": FilterParam(bool, False),
    "organization_id": FilterParam(int | None, None, {"ge": 1, "le": 2**31 - 1}),
}


def offering_filter_params(**descriptions: str | None) -> Callable[..., OfferingFilters]:
    """The dependency reading the named offering filters from the query string, each described
    as its route means it (an organization "has" a free offering where an offering "is" one)."""

    async def offering_filters(**given: Any) -> OfferingFilters:
        categories = given.get("category", [])
        check_categories(categories, ["query", "category"])
        return OfferingFilters(
            q=given.get("q"),
            org_types=tuple(given.get("type", ())),
            categories=tuple(categories),
            grade=grade_from_query(given.get("grade"), ["query", "grade"]),
            schedule=tuple(given.get("schedule", ())),
            delivery=tuple(given.get("delivery", ())),
            languages=tuple(given.get("language", ())),
            free=given.get("free", False),
            verified_only=given.get("verified", False),
            organization_id=given.get("organization_id"),
        )

    # FastAPI reads the parameters from the signature, so the route's subset becomes one.
    offering_filters.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=param.default,
                annotation=Annotated[
                    param.annotation,
                    Query(description=descriptions[name], **param.constraints),
                ],
            )
            for name, param in OFFERING_FILTER_PARAMS.items()
            if name in descriptions
        ],
        return_annotation=OfferingFilters,
    )
    return offering_filters


AreaDep = Annotated[Area, Depends(area_params)]
PageDep = Annotated[PageParams, Depends(page_params)]
GeoJSONDep = Annotated[bool, Depends(wants_geojson)]
OfferingSearchDep = Annotated[
    OfferingFilters,
    Depends(
        offering_filter_params(
            q="Text in title, description or organization name",
            type="Organization type",
            category="Any of these categories (a branch includes its children)",
            grade="Serves this grade (PK, K, 1..12; KG means K)",
            schedule=None,
            delivery=None,
            language=None,
            free="Free offerings only",
            verified="From verified organizations only",
            organization_id=None,
        )
    ),
]
# An organization matches when one of its offerings does; `language` is the organization's.
OrganizationOfferingsDep = Annotated[
    OfferingFilters,
    Depends(
        offering_filter_params(
            category="Has an offering in any of these categories (a branch includes its children)",
            grade="Has an offering serving this grade (PK, K, 1..12; KG means K)",
            schedule=None,
            delivery=None,
            language="Organization works in any of these",
            free="Has a free offering",
        )
    ),
]
# Hard filters of a school's ranking (the rest is scored softly).
RankingOfferingsDep = Annotated[
    OfferingFilters,
    Depends(
        offering_filter_params(
            category=None,
            grade=None,
            schedule=None,
            delivery=None,
            language=None,
            free=None,
            verified=None,
        )
    ),
]

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
