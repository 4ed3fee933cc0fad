"""HTTP for the community asset map: assets on the grid, gaps and deserts, a school's coverage.

Each answers JSON, CSV (`Accept: text/csv` or `format=csv`) or RFC 7946 GeoJSON
(`Accept: application/geo+json` or `format=geojson`); the asset map is GeoJSON by default.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

import geo
from app import representations as shown
from app.auth.principal import visibility_of
from app.deps import PrincipalDep, RankingIndexDep, SessionDep, SettingsDep
from app.domain_errors import InvalidInput
from app.representations import (
    ASSET_COLUMNS,
    ASSET_MAP_GEOJSON,
    CELL_COLUMNS,
    COVERAGE_COLUMNS,
    COVERAGE_GEOJSON,
    CSV,
    GAP_COLUMNS,
    GAPS_GEOJSON,
    GEOJSON,
    GeoJSONResponse,
)
from app.routers.params import BBOX_PATTERN, NO_NUL
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
        max_length=200,
        json_schema_extra={"pattern": BBOX_PATTERN},
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
        description="The district's slug or id (its exact name or NCES id work too), as in "
        "the CLI. Give this or `bbox`.",
        examples=["oakland-unified"],
    ),
]
CategoryParam = Annotated[
    list[CategoryCode],
    Query(max_length=20, description="Only these categories (a branch includes its children)"),
]


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
        raise geo.GeometryError(exc.reason, ("query", "bbox")) from exc


def _next_url(request: Request, cursor: str | None) -> str | None:
    return str(request.url.include_query_params(cursor=cursor)) if cursor else None


# --- asset map -------------------------------------------------------------------------------

ASSET_CURSOR = r"^[0-9]{1,15}(:[0-9]{1,12})?$"


@router.get(
    "/v1/asset-map",
    response_class=GeoJSONResponse,
    responses=shown.csv_and_geojson(ASSET_MAP_GEOJSON),
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
        rows = shown.asset_map_rows(result.mode, result.features)
        columns = CELL_COLUMNS if result.mode == "cells" else ASSET_COLUMNS
        return shown.csv_table(rows, columns, _next_url(request, result.next_cursor))
    return shown.geojson(
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


@router.get(
    "/v1/gaps",
    response_model=GapsOut,
    responses=shown.csv_and_geojson(GAPS_GEOJSON),
    summary="Unmet and thin needs of an area's schools, deserts, and a summary by category",
)
def gaps(
    request: Request,
    session: SessionDep,
    ranking_index: RankingIndexDep,
    principal: PrincipalDep,
    settings: SettingsDep,
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
        ranking_index=ranking_index,
        principal=principal,
        ranking=settings.ranking,
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
        return shown.csv_table(rows, GAP_COLUMNS, _next_url(request, report.next_cursor))
    if chosen == "geojson":
        return shown.gaps_geojson(report)
    return report


# --- one school ------------------------------------------------------------------------------


@router.get(
    "/v1/schools/{school_id}/coverage",
    response_model=SchoolCoverageOut,
    responses=shown.csv_and_geojson(COVERAGE_GEOJSON),
    tags=["schools"],
    summary="A school's current needs with the offerings that reach them",
)
def school_coverage(
    request: Request,
    session: SessionDep,
    ranking_index: RankingIndexDep,
    principal: PrincipalDep,
    settings: SettingsDep,
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
        session=session,
        ranking_index=ranking_index,
        principal=principal,
        ranking=settings.ranking,
        school_id=school_id,
        per_need=per_need,
    )
    if chosen == "csv":
        return shown.csv_table(shown.coverage_rows(result), COVERAGE_COLUMNS, None)
    if chosen == "geojson":
        listed = sorted({o.offering_id for need in result.needs for o in need.reaching})
        near = (result.school.lat, result.school.lon)
        places = service.offering_places(session=session, offering_ids=listed, near=near)
        return shown.coverage_geojson(result, places)
    return result
