"""HTTP for /v1/organizations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.encoders import jsonable_encoder

from app.deps import SessionDep
from app.filters import OfferingFilters, OrganizationFilters
from app.models import Organization
from app.routers.offerings import offering_out
from app.routers.params import (
    GEOJSON_RESPONSE,
    NO_NUL,
    AreaDep,
    GeoJSONDep,
    PageDep,
    page_cursor,
)
from app.routers.responses import geojson_response, point_geometry
from app.schemas.common import (
    GRADE_QUERY_PATTERN,
    CategoryCode,
    Delivery,
    Language,
    OrganizationType,
    Schedule,
    Verification,
    grade_from_query,
)
from app.schemas.offerings import OfferingCreate, OfferingOut
from app.schemas.organizations import OrganizationCreate, OrganizationOut, OrganizationUpdate
from app.schemas.pages import Page
from app.services import offerings as offering_service
from app.services import organizations as service
from app.services.common import check_categories

router = APIRouter(prefix="/v1/organizations", tags=["organizations"])
OrgId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Organization id")]


def organization_out(org: Organization, distance_m: float | None = None) -> OrganizationOut:
    out = OrganizationOut.model_validate(
        {
            **_columns(org),
            "locations": org.locations,
            "service_area": service.service_area_out(org),
            "distance_m": distance_m,
        }
    )
    return out


def _columns(org: Organization) -> dict:
    return {c.key: getattr(org, c.key) for c in Organization.__mapper__.column_attrs}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganizationOut,
    summary="Register an organization",
)
def create_organization(data: OrganizationCreate, session: SessionDep, response: Response):
    org = service.create(session=session, data=data)
    response.headers["Location"] = f"/v1/organizations/{org.id}"
    return organization_out(org)


@router.get(
    "",
    response_model=Page[OrganizationOut],
    responses=GEOJSON_RESPONSE,
    summary="Search organizations",
)
def list_organizations(
    session: SessionDep,
    area: AreaDep,
    page: PageDep,
    geojson: GeoJSONDep,
    q: Annotated[
        str | None, Query(max_length=200, pattern=NO_NUL, description="Text in name or description")
    ] = None,
    type: Annotated[list[OrganizationType], Query()] = [],
    verification: Annotated[list[Verification], Query()] = [],
    category: Annotated[
        list[CategoryCode],
        Query(
            max_length=20,
            description="Has an offering in any of "
            "these categories (a branch includes its children)",
        ),
    ] = [],
    grade: Annotated[
        str | None,
        Query(
            pattern=GRADE_QUERY_PATTERN,
            description="Has an offering serving this grade (PK, TK, K, 1..12)",
        ),
    ] = None,
    schedule: Annotated[list[Schedule], Query()] = [],
    delivery: Annotated[list[Delivery], Query()] = [],
    language: Annotated[
        list[Language], Query(description="Organization works in any of these")
    ] = [],
    free: Annotated[bool, Query(description="Has a free offering")] = False,
):
    filters = OrganizationFilters(
        q=q,
        types=tuple(type),
        verification=tuple(verification),
        languages=tuple(language),
        offerings=OfferingFilters(
            categories=tuple(category),
            grade=grade_from_query(grade),
            schedule=tuple(schedule),
            delivery=tuple(delivery),
            free=free,
        ),
    )
    check_categories(category, ["query", "category"])
    near = area.near is not None
    rows = service.list_page(
        session=session,
        filters=filters,
        area=area,
        cursor=page.cursor(near=near),
        limit=page.limit + 1,
    )
    next_cursor = page_cursor(rows, page.limit, near=near)
    items = [organization_out(org, d) for org, d in rows[: page.limit]]
    if geojson:
        return geojson_response([_feature(o) for o in items], next_cursor)
    return Page[OrganizationOut](items=items, next_cursor=next_cursor, limit=page.limit)


def _feature(org: OrganizationOut) -> dict:
    properties = jsonable_encoder(org.model_dump(exclude={"locations"}))
    geometry = point_geometry([(loc.lat, loc.lon) for loc in org.locations])
    return {"type": "Feature", "id": org.id, "geometry": geometry, "properties": properties}


@router.get("/{organization_id}", response_model=OrganizationOut, summary="Get an organization")
def get_organization(organization_id: OrgId, session: SessionDep):
    return organization_out(service.get(session=session, organization_id=organization_id))


@router.patch(
    "/{organization_id}", response_model=OrganizationOut, summary="Change an organization"
)
def update_organization(organization_id: OrgId, data: OrganizationUpdate, session: SessionDep):
    org = service.update(session=session, organization_id=organization_id, data=data)
    return organization_out(org)


@router.delete(
    "/{organization_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an organization and its offerings",
)
def delete_organization(organization_id: OrgId, session: SessionDep) -> Response:
    service.delete(session=session, organization_id=organization_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{organization_id}/offerings",
    status_code=status.HTTP_201_CREATED,
    response_model=OfferingOut,
    tags=["offerings"],
    summary="Add an offering",
)
def create_offering(
    organization_id: OrgId, data: OfferingCreate, session: SessionDep, response: Response
):
    offering = offering_service.create(session=session, organization_id=organization_id, data=data)
    response.headers["Location"] = f"/v1/offerings/{offering.id}"
    return offering_out(offering)
