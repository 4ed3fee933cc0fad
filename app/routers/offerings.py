"""HTTP for /v1/offerings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from app import representations as shown
from app.deps import PrincipalDep, SessionDep
from app.filters import OfferingFilters
from app.routers.params import (
    GEOJSON_RESPONSE,
    NO_NUL,
    AreaDep,
    GeoJSONDep,
    PageDep,
    page_cursor,
)
from app.schemas.common import (
    GRADE_QUERY_PATTERN,
    CategoryCode,
    Delivery,
    Language,
    OrganizationType,
    Schedule,
    grade_from_query,
)
from app.schemas.offerings import OfferingOut, OfferingUpdate
from app.schemas.pages import Page
from app.services import offerings as service
from app.services.validation import check_categories

router = APIRouter(prefix="/v1/offerings", tags=["offerings"])
OfferingId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Offering id")]


@router.get(
    "", response_model=Page[OfferingOut], responses=GEOJSON_RESPONSE, summary="Search offerings"
)
def list_offerings(
    session: SessionDep,
    principal: PrincipalDep,
    area: AreaDep,
    page: PageDep,
    geojson: GeoJSONDep,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=NO_NUL,
            description="Text in title, description or organization name",
        ),
    ] = None,
    type: Annotated[list[OrganizationType], Query(description="Organization type")] = [],
    category: Annotated[
        list[CategoryCode],
        Query(
            max_length=20, description="Any of these categories (a branch includes its children)"
        ),
    ] = [],
    grade: Annotated[
        str | None,
        Query(pattern=GRADE_QUERY_PATTERN, description="Serves this grade (PK, TK, K, 1..12)"),
    ] = None,
    schedule: Annotated[list[Schedule], Query()] = [],
    delivery: Annotated[list[Delivery], Query()] = [],
    language: Annotated[list[Language], Query()] = [],
    free: Annotated[bool, Query(description="Free offerings only")] = False,
    verified: Annotated[bool, Query(description="From verified organizations only")] = False,
    organization_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
):
    filters = OfferingFilters(
        q=q,
        org_types=tuple(type),
        categories=tuple(category),
        grade=grade_from_query(grade),
        schedule=tuple(schedule),
        delivery=tuple(delivery),
        languages=tuple(language),
        free=free,
        verified_only=verified,
        organization_id=organization_id,
    )
    check_categories(category, ["query", "category"])
    near = area.near is not None
    rows = service.list_page(
        session=session,
        principal=principal,
        filters=filters,
        area=area,
        cursor=page.cursor(near=near),
        limit=page.limit + 1,
    )
    next_cursor = page_cursor(rows, page.limit, near=near)
    pairs = rows[: page.limit]
    items = [shown.offering_out(o, d) for o, d in pairs]
    if geojson:
        features = [
            shown.offering_feature(o, item) for (o, _), item in zip(pairs, items, strict=True)
        ]
        return shown.geojson(features, next_cursor=next_cursor)
    return Page[OfferingOut](items=items, next_cursor=next_cursor, limit=page.limit)


@router.get("/{offering_id}", response_model=OfferingOut, summary="Get an offering")
def get_offering(offering_id: OfferingId, session: SessionDep, principal: PrincipalDep):
    return shown.offering_out(
        service.visible(session=session, principal=principal, offering_id=offering_id)
    )


@router.patch("/{offering_id}", response_model=OfferingOut, summary="Change an offering")
def update_offering(
    offering_id: OfferingId, data: OfferingUpdate, session: SessionDep, principal: PrincipalDep
):
    offering = service.update(
        session=session, principal=principal, offering_id=offering_id, data=data
    )
    return shown.offering_out(offering)


@router.delete(
    "/{offering_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove an offering"
)
def delete_offering(
    offering_id: OfferingId, session: SessionDep, principal: PrincipalDep
) -> Response:
    service.delete(session=session, principal=principal, offering_id=offering_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
