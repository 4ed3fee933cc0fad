"""HTTP for /v1/offerings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from app import representations as shown
from app.deps import PrincipalDep, SessionDep
from app.routers.params import (
    GEOJSON_RESPONSE,
    AreaDep,
    GeoJSONDep,
    OfferingSearchDep,
    PageDep,
    page_cursor,
)
from app.schemas.offerings import OfferingOut, OfferingUpdate
from app.schemas.pages import Page
from app.services import offerings as service

router = APIRouter(prefix="/v1/offerings", tags=["offerings"])
OfferingId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Offering id")]


@router.get(
    "", response_model=Page[OfferingOut], responses=GEOJSON_RESPONSE, summary="Search offerings"
)
def list_offerings(
    session: SessionDep,
    principal: PrincipalDep,
    filters: OfferingSearchDep,
    area: AreaDep,
    page: PageDep,
    geojson: GeoJSONDep,
):
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
