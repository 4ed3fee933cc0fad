"""HTTP for /v1/organizations."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from app import representations as shown
from app.deps import PrincipalDep, SessionDep
from app.filters import OrganizationFilters
from app.routers.params import (
    GEOJSON_RESPONSE,
    NO_NUL,
    AreaDep,
    GeoJSONDep,
    OrganizationOfferingsDep,
    PageDep,
    page_cursor,
)
from app.schemas.common import OrganizationType, Verification
from app.schemas.offerings import OfferingCreate, OfferingOut
from app.schemas.organizations import (
    OrganizationCreate,
    OrganizationOut,
    OrganizationUpdate,
    VerificationIn,
)
from app.schemas.pages import Page
from app.services import offerings as offering_service
from app.services import organizations as service

router = APIRouter(prefix="/v1/organizations", tags=["organizations"])
OrgId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Organization id")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganizationOut,
    summary="Register an organization",
)
def create_organization(
    data: OrganizationCreate, session: SessionDep, principal: PrincipalDep, response: Response
):
    """Registered organizations start unverified: listed for their members and districts
    until a district verifies them (`POST /v1/organizations/{id}/verification`)."""
    org = service.create(session=session, principal=principal, data=data)
    response.headers["Location"] = f"/v1/organizations/{org.id}"
    return shown.organization_out(org, principal)


@router.get(
    "",
    response_model=Page[OrganizationOut],
    responses=GEOJSON_RESPONSE,
    summary="Search organizations",
)
def list_organizations(
    session: SessionDep,
    principal: PrincipalDep,
    offerings: OrganizationOfferingsDep,
    area: AreaDep,
    page: PageDep,
    geojson: GeoJSONDep,
    q: Annotated[
        str | None, Query(max_length=200, pattern=NO_NUL, description="Text in name or description")
    ] = None,
    type: Annotated[list[OrganizationType], Query()] = [],
    verification: Annotated[list[Verification], Query()] = [],
):
    filters = OrganizationFilters(
        q=q,
        types=tuple(type),
        verification=tuple(verification),
        languages=offerings.languages,
        offerings=replace(offerings, languages=()),
    )
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
    items = [shown.organization_out(org, principal, d) for org, d in rows[: page.limit]]
    if geojson:
        return shown.geojson(
            [shown.organization_feature(o) for o in items], next_cursor=next_cursor
        )
    return Page[OrganizationOut](items=items, next_cursor=next_cursor, limit=page.limit)


@router.get("/{organization_id}", response_model=OrganizationOut, summary="Get an organization")
def get_organization(organization_id: OrgId, session: SessionDep, principal: PrincipalDep):
    org = service.visible(session=session, principal=principal, organization_id=organization_id)
    return shown.organization_out(org, principal)


@router.patch(
    "/{organization_id}", response_model=OrganizationOut, summary="Change an organization"
)
def update_organization(
    organization_id: OrgId, data: OrganizationUpdate, session: SessionDep, principal: PrincipalDep
):
    org = service.update(
        session=session, principal=principal, organization_id=organization_id, data=data
    )
    return shown.organization_out(org, principal)


@router.delete(
    "/{organization_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an organization and its offerings",
)
def delete_organization(
    organization_id: OrgId, session: SessionDep, principal: PrincipalDep
) -> Response:
    service.delete(session=session, principal=principal, organization_id=organization_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{organization_id}/verification",
    response_model=OrganizationOut,
    summary="Verify or reject a registered organization (district admins)",
)
def decide_verification(
    organization_id: OrgId, data: VerificationIn, session: SessionDep, principal: PrincipalDep
):
    """Verified organizations and their offerings are public and ranked for everyone; a
    rejection needs a `reason`. The decision is recorded with the deciding district."""
    org = service.decide_verification(
        session=session,
        principal=principal,
        organization_id=organization_id,
        state=data.state,
        reason=data.reason,
    )
    return shown.organization_out(org, principal)


@router.post(
    "/{organization_id}/offerings",
    status_code=status.HTTP_201_CREATED,
    response_model=OfferingOut,
    tags=["offerings"],
    summary="Add an offering",
)
def create_offering(
    organization_id: OrgId,
    data: OfferingCreate,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
):
    offering = offering_service.create(
        session=session, principal=principal, organization_id=organization_id, data=data
    )
    response.headers["Location"] = f"/v1/offerings/{offering.id}"
    return shown.offering_out(offering)
