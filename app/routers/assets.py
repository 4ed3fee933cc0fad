"""HTTP for the community asset map: assets on the grid, gaps and deserts, a school's coverage.

Each answers JSON, CSV (`Accept: text/csv` or `format=csv`) or RFC 7946 GeoJSON
(`Accept: application/geo+json` or `format=geojson`); the asset map is GeoJSON by default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

import geo
from app.auth.principal import visibility_of
from app.deps import PrincipalDep, SessionDep
from app.errors import InvalidInput
from app.routers.params import BBOX_PATTERN, GEOJSON, NO_NUL
from app.routers.responses import CSV, csv_response
from app.schemas.assets import GapsOut, SchoolCoverageOut, Status
from app.schemas.common import CategoryCode
from app.services import asset_map as asset_map_service
from app.services import assets as service
from app.services.validation import check_categories

router = APIRouter(tags=["asset map"])
Format = Literal["json", "csv", "geojson"]

BBoxParam = Annotated[
    str | None,
    Query(
        pattern=BBOX_PATTERN,
        description="`minLon,minLat,maxLon,maxLat` (WGS84); minLon > maxLon crosses the "
        "antimeridian. Give this or `district`.",
        examples=["-122.35,37.70,-122.10,37.89"],
    ),
]
DistrictParam = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=300,
        pattern=NO_NUL,
        description="Schools whose `district` is exactly this. Give this or `bbox`.",
        examples=["Oakland Unified School District"],
    ),
]
CategoryParam = Annotated[
    list[CategoryCode],
    Query(max_length=20, description="Only these categories (a branch includes its children)"),
]


class GeoJSONResponse(JSONResponse):
    media_type = GEOJSON


def _chosen(request: Request, requested: str | None, default: str) -> str:
    if requested is not None:
        return requested
    accept = request.headers.get("accept", "")
    if CSV in accept:
        return "csv"
    if GEOJSON in accept:
        return "geojson"
    return default


def _area(district: str | None, bbox: str | None) -> tuple[str | None, geo.BBox | None]:
    if district is None and bbox is None:
        raise InvalidInput(["query", "district"], "Give a district or a bbox to analyse.")
    if district is not None and bbox is not None:
        raise InvalidInput(["query", "bbox"], "Give a district or a bbox, not both.")
    if bbox is None:
        return district, None
    try:
        return None, geo.parse_bbox(bbox)
    except geo.GeometryError as exc:
        raise InvalidInput(["query", "bbox"], exc.reason) from exc


def _next_url(request: Request, cursor: str | None) -> str | None:
    return str(request.url.include_query_params(cursor=cursor)) if cursor else None


def _geojson(features: list[dict[str, Any]], **members: Any) -> GeoJSONResponse:
    body = geo.feature_collection(features, **members)
    return GeoJSONResponse(jsonable_encoder(body))


def _content(geojson: dict[str, Any]) -> dict:
    """The 200 response's other media types (the route's own class gives the first)."""
    return {200: {"content": {CSV: {"schema": {"type": "string"}}, GEOJSON: {"schema": geojson}}}}


def _collection(feature_properties: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI schema of a FeatureCollection whose features carry these properties."""
    return {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"const": "FeatureCollection"},
            "features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "geometry", "properties"],
                    "properties": {
                        "type": {"const": "Feature"},
                        "id": {"type": ["string", "integer"]},
                        "geometry": {"type": ["object", "null"]},
                        "properties": feature_properties,
                    },
                },
            },
            **extra,
        },
    }


_KIND = {"type": "object", "properties": {"kind": {"type": "string"}}, "required": ["kind"]}

# --- asset map -------------------------------------------------------------------------------

ASSET_CURSOR = r"^[0-9]{1,15}(:[0-9]{1,12})?$"
ASSET_MAP_GEOJSON = _collection(
    _KIND,
    {
        "area": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
        "resolution": {"type": "integer"},
        "mode": {"enum": ["cells", "assets"]},
        "grid": {"type": "object"},
        "summary": {"type": "object"},
        "next_cursor": {"type": ["string", "null"]},
    },
)
CELL_COLUMNS = ("cell", "assets", "offerings", "organizations", "virtual", "by_category")
ASSET_COLUMNS = (
    "offering_id",
    "location_id",
    "lat",
    "lon",
    "organization_id",
    "organization_name",
    "verified",
    "title",
    "categories",
    "branches",
    "delivery",
    "virtual",
    "cost",
    "capacity_schools",
    "capacity_students",
    "location_precision",
    "service_area",
    "service_radius_km",
)


@router.get(
    "/v1/asset-map",
    response_class=GeoJSONResponse,
    responses=_content(ASSET_MAP_GEOJSON),
    summary="Community assets by category over an area",
)
def asset_map(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    bbox: BBoxParam = None,
    district: DistrictParam = None,
    category: CategoryParam = [],
    resolution: Annotated[
        int,
        Query(
            ge=0,
            le=20,
            description="Grid level (web map zoom): cells are map tiles of this level "
            "(12: ~7.7 km at 38°N, 14: ~1.9 km). From 15 on, assets come one by one.",
        ),
    ] = 12,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Features per page")] = 1000,
    cursor: Annotated[
        str | None, Query(pattern=ASSET_CURSOR, description="`next_cursor` of the previous page")
    ] = None,
    format: Annotated[
        Literal["geojson", "csv"] | None,
        Query(description="`csv` as `Accept: text/csv`; default GeoJSON"),
    ] = None,
):
    """An asset is an offering at one location of its organization.

    Below resolution 15 each feature is a grid cell (a Web Mercator map tile,
    id `level/x/y`) with `kind: "cell"`, counting the assets located in it: `assets`,
    distinct `offerings` and `organizations`, `virtual` (offered virtually) and
    `by_category` (per top-level category branch; an offering in two branches counts in
    both). The area is grown to whole cells, so a cell's counts never depend on the box.

    From resolution 15 on, each asset is a Point feature (`kind: "asset"`, id
    `offering:location`) and each organization's declared service area (polygon, or the
    union of its radius circles) is a feature of `kind: "service_area"`, sent on the page of
    the organization's first asset. Features are in a fixed order and pages are keyset-paged
    (`next_cursor`). `area` is the box searched, `summary` the counts over all of it."""
    district, box = _area(district, bbox)
    check_categories(category, ["query", "category"])
    chosen = _chosen(request, format, "geojson")
    area = asset_map_service.map_area(session=session, district=district, bbox=box)
    result = asset_map_service.asset_map(
        session=session,
        visibility=visibility_of(principal),
        area=area,
        categories=category,
        level=resolution,
        cursor=cursor,
        limit=limit,
    )
    if chosen == "csv":
        if result.mode == "cells":
            rows = [f["properties"] for f in result.features]
            return csv_response(rows, CELL_COLUMNS, _next_url(request, result.next_cursor))
        rows = [
            {
                **f["properties"],
                "lon": f["geometry"]["coordinates"][0],
                "lat": f["geometry"]["coordinates"][1],
            }
            for f in result.features
            if f["properties"]["kind"] == "asset"
        ]
        return csv_response(rows, ASSET_COLUMNS, _next_url(request, result.next_cursor))
    return _geojson(
        result.features,
        area=result.area.to_list(),
        resolution=result.level,
        mode=result.mode,
        grid={"scheme": "web-mercator-xyz", "level": result.level},
        summary=result.summary.model_dump(),
        next_cursor=result.next_cursor,
    )


# --- gaps ------------------------------------------------------------------------------------

GAP_CURSOR = r"^[0-9]{1,7}$"
GAPS_GEOJSON = _collection(
    _KIND,
    {
        "summary": {"type": "object"},
        "area": {"type": "object"},
        "thresholds": {"type": "object"},
        "model_version": {"type": "string"},
    },
)
GAP_COLUMNS = (
    "rank",
    "school_id",
    "school_name",
    "district",
    "lat",
    "lon",
    "need_index",
    "enrollment",
    "need_id",
    "category",
    "category_name",
    "priority",
    "students_affected",
    "status",
    "effective_coverage",
    "offerings",
    "best_fit",
    "met_by_partnership",
)


@router.get(
    "/v1/gaps",
    response_model=GapsOut,
    responses=_content(GAPS_GEOJSON),
    summary="Unmet and thin needs of an area's schools, deserts, and a summary by category",
)
def gaps(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    bbox: BBoxParam = None,
    district: DistrictParam = None,
    category: CategoryParam = [],
    status: Annotated[
        list[Status], Query(description="Needs listed in `items` (default: unmet and thin)")
    ] = [],
    resolution: Annotated[
        int, Query(ge=8, le=18, description="Grid level of the deserts (13: ~3.85 km at 38°N)")
    ] = 13,
    limit: Annotated[int, Query(ge=1, le=5000, description="Needs per page")] = 100,
    cursor: Annotated[
        str | None, Query(pattern=GAP_CURSOR, description="`next_cursor` of the previous page")
    ] = None,
    format: Annotated[Format | None, Query(description="Instead of the Accept header")] = None,
):
    """Every current need (the latest needs assessment) of the area's schools, graded:

    - an offering *reaches* a school when it is virtual, when its declared service radius or
      polygon covers the school, or (declaring no area) when it is within 2 decay scales of
      the school's locale (10 km city, 20 suburb, 40 town, 80 rural; x1.5 when the partner
      comes to the school);
    - it *counts* for a need when the ranking model's fit for that need is at least 0.42
      (its own category, or its parent or child) and it can serve it (grades, languages,
      capacity left, active);
    - its capacity is split equally among every school, anywhere, it counts for:
      share = min(1, schools left / schools), and likewise for students;
    - effective coverage = sum of fit x share; **met** at 0.7 or more, **thin** at 0.2 or
      more, **unmet** below (the values are echoed in `thresholds`);
    - a need is **met** whatever its coverage when an *active partnership* of the school
      addresses its category (or its parent or a child): `met_by_partnership` names it.

    `items` lists the needs with the requested statuses in gap order: the school's need
    index, then the students affected, highest first. `schools` gives each school's counts,
    `by_category` the counts per top-level category, and `deserts` the grid cells (map tiles
    at `resolution`) holding high-need schools (need index >= 0.6) farther than one decay
    scale from every in-person asset of a category (the requested categories, else the
    branches of the area's needs). A school's figures are the same whatever area or page it
    is asked for in.

    CSV: the `items` table (page by page; `Link: rel="next"`). GeoJSON: one Point per school
    of the area (`kind: "school"`, with its counts and its listed needs) and one Polygon per
    desert (`kind: "desert"`), not paged."""
    district, box = _area(district, bbox)
    check_categories(category, ["query", "category"])
    chosen = _chosen(request, format, "json")
    offset = int(cursor) if cursor else 0
    report = service.gaps(
        session=session,
        principal=principal,
        district=district,
        bbox=box,
        categories=category,
        statuses=status or ["unmet", "thin"],
        level=resolution,
        offset=offset,
        limit=limit,
    )
    if chosen == "csv":
        rows = [item.model_dump() for item in report.items]
        return csv_response(rows, GAP_COLUMNS, _next_url(request, report.next_cursor))
    if chosen == "geojson":
        return _gaps_geojson(report, status or ["unmet", "thin"])
    return report


def _gaps_geojson(report: GapsOut, statuses: Sequence[str]) -> GeoJSONResponse:
    listed: dict[int, list[dict[str, Any]]] = {}
    for item in report.items:
        listed.setdefault(item.school_id, []).append(
            {
                "need_id": item.need_id,
                "category": item.category,
                "priority": item.priority,
                "status": item.status,
                "students_affected": item.students_affected,
                "effective_coverage": item.effective_coverage,
            }
        )
    features = [
        geo.point_feature(
            s.school_id,
            s.lat,
            s.lon,
            {
                "kind": "school",
                **s.model_dump(exclude={"lat", "lon"}),
                "needs_listed": listed.get(s.school_id, []),
            },
        )
        for s in report.schools
    ]
    for d in report.deserts:
        level, x, y = geo.parse_cell_id(d.cell)
        features.append(
            geo.feature(
                f"desert:{d.category}:{d.cell}",
                geo.cell_geometry(level, x, y),
                {"kind": "desert", **d.model_dump(exclude={"bbox"})},
            )
        )
    return _geojson(
        features,
        area=report.area.model_dump(),
        summary=report.summary.model_dump(),
        thresholds=report.thresholds.model_dump(),
        model_version=report.model_version,
    )


# --- one school ------------------------------------------------------------------------------

COVERAGE_GEOJSON = _collection(_KIND, {"school_id": {"type": "integer"}})
COVERAGE_COLUMNS = (
    "need_id",
    "category",
    "category_name",
    "priority",
    "students_affected",
    "status",
    "effective_coverage",
    "offerings",
    "best_fit",
    "offering_id",
    "title",
    "organization_id",
    "organization_name",
    "fit",
    "share",
    "contribution",
    "distance_km",
    "via",
    "capacity_schools",
    "capacity_students",
    "schools_counting_on_it",
    "issue",
)


@router.get(
    "/v1/schools/{school_id}/coverage",
    response_model=SchoolCoverageOut,
    responses=_content(COVERAGE_GEOJSON),
    tags=["schools"],
    summary="A school's current needs with the offerings that reach them",
)
def school_coverage(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    school_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    per_need: Annotated[
        int, Query(ge=1, le=100, description="Offerings listed per need (all are counted)")
    ] = 10,
    format: Annotated[Format | None, Query(description="Instead of the Accept header")] = None,
):
    """Each need of the latest needs assessment with its status (met, thin, unmet), its
    effective coverage and the offerings that reach the school and fit it, each with its
    fit, the share of its capacity this school gets, and how it reaches the school.

    CSV: one row per (need, offering), a need without offerings on a row of its own.
    GeoJSON: the school (`kind: "school"`) and each listed offering at the location reach is
    measured from (`kind: "offering"`, with the needs it serves)."""
    chosen = _chosen(request, format, "json")
    result = service.school_coverage(
        session=session, principal=principal, school_id=school_id, per_need=per_need
    )
    if chosen == "csv":
        rows: list[dict[str, Any]] = []
        for need in result.needs:
            head = need.model_dump(exclude={"reaching"})
            rows += [{**head, **o.model_dump()} for o in need.reaching] or [head]
        return csv_response(rows, COVERAGE_COLUMNS, None)
    if chosen == "geojson":
        return _coverage_geojson(session, result)
    return result


def _coverage_geojson(session: Any, result: SchoolCoverageOut) -> GeoJSONResponse:
    school = result.school
    features = [
        geo.point_feature(
            f"school:{school.id}",
            school.lat,
            school.lon,
            {
                "kind": "school",
                **school.model_dump(exclude={"lat", "lon"}),
                **result.summary.model_dump(),
            },
        )
    ]
    serves: dict[int, list[dict[str, Any]]] = {}
    listed: dict[int, Any] = {}
    for need in result.needs:
        for o in need.reaching:
            listed[o.offering_id] = o
            serves.setdefault(o.offering_id, []).append(
                {
                    "need_id": need.need_id,
                    "category": need.category,
                    "fit": o.fit,
                    "share": o.share,
                    "issue": o.issue,
                }
            )
    places = service.offering_places(session=session, offering_ids=sorted(listed))
    for offering_id in sorted(listed):
        o = listed[offering_id]
        lat, lon = places.get(offering_id, (None, None))
        properties = {
            "kind": "offering",
            "offering_id": offering_id,
            "title": o.title,
            "organization_id": o.organization_id,
            "organization_name": o.organization_name,
            "distance_km": o.distance_km,
            "via": o.via,
            "needs": serves[offering_id],
        }
        if lat is None:
            features.append(geo.feature(f"offering:{offering_id}", None, properties))
        else:
            features.append(geo.point_feature(f"offering:{offering_id}", lat, lon, properties))
    return _geojson(features, school_id=school.id)
