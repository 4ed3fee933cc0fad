"""Use cases for community organizations and their locations."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

import geo
from app.errors import Conflict, InvalidInput, NotFound
from app.filters import Area, OrganizationFilters
from app.models import Location, Organization
from app.pagination import Cursor
from app.repositories import organizations as repo
from app.schemas.organizations import (
    LocationIn,
    NoServiceArea,
    OrganizationCreate,
    OrganizationUpdate,
    PolygonServiceArea,
    RadiusServiceArea,
    RegionServiceArea,
    ServiceArea,
    ServiceAreaOut,
)
from app.services.common import record_change, unit_of_work


def create(*, session: Session, data: OrganizationCreate) -> Organization:
    """Register an organization with its locations; it starts unverified."""
    _check_unique_external_id(session, data.source, data.external_id)
    org = Organization(
        name=data.name,
        type=data.type,
        description=data.description,
        website=str(data.website) if data.website else None,
        email=data.email,
        phone=data.phone,
        contact_name=data.contact_name,
        languages=data.languages,
        source=data.source,
        external_id=data.external_id,
        locations=[_location(loc) for loc in data.locations],
    )
    _apply_service_area(org, data.service_area, ["body", "service_area"])
    with unit_of_work(session, conflict="An organization with this external_id already exists."):
        session.add(org)
        session.flush()
        record_change(session, organization_id=org.id)
    return org


def get(*, session: Session, organization_id: int) -> Organization:
    org = repo.get(session, organization_id)
    if org is None:
        raise NotFound(f"Organization {organization_id} does not exist.")
    return org


def update(*, session: Session, organization_id: int, data: OrganizationUpdate) -> Organization:
    """Change the given fields; `locations`, when given, replaces the whole list."""
    org = get(session=session, organization_id=organization_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    for field in (
        "name",
        "type",
        "description",
        "email",
        "phone",
        "contact_name",
        "languages",
        "verification",
    ):
        if field in changes:
            setattr(org, field, changes[field])
    if "website" in changes:
        org.website = str(data.website) if data.website else None
    if "locations" in changes:
        org.locations = [_location(loc) for loc in data.locations or []]
    if "service_area" in changes:
        _apply_service_area(
            org, data.service_area or NoServiceArea(kind="none"), ["body", "service_area"]
        )
    with unit_of_work(session, conflict="The change conflicts with another organization."):
        record_change(session, organization_id=org.id)
    return org


def delete(*, session: Session, organization_id: int) -> None:
    """Remove an organization with its locations and offerings."""
    org = get(session=session, organization_id=organization_id)
    record_change(session, organization_id=org.id)
    session.delete(org)
    session.commit()


def list_page(
    *,
    session: Session,
    filters: OrganizationFilters,
    area: Area,
    cursor: Cursor | None,
    limit: int,
) -> list[tuple[Organization, float | None]]:
    return repo.list_page(session, filters, area, cursor, limit)


def _location(loc: LocationIn) -> Location:
    return Location(**loc.model_dump())


def _apply_service_area(org: Organization, area: ServiceArea, loc: list[str | int]) -> None:
    org.service_area_kind = area.kind
    org.service_area = None
    org.service_radius_km = None
    org.service_region = None
    if isinstance(area, PolygonServiceArea):
        try:
            shape = geo.parse_service_area(area.geometry.model_dump())
        except geo.GeometryError as exc:
            raise InvalidInput(
                [*loc, "geometry", *exc.path], exc.reason, kind="invalid_geometry"
            ) from exc
        # Dense edges make shapely's straight lon/lat edges and PostGIS's great-circle arcs
        # agree to about a metre, so coverage answers match on both backends.
        org.service_area = geo.to_geojson(geo.densify_edges(shape))
    elif isinstance(area, RadiusServiceArea):
        org.service_radius_km = area.radius_km
    elif isinstance(area, RegionServiceArea):
        org.service_region = area.region


def _check_unique_external_id(session: Session, source: str | None, external_id: str | None):  # type: ignore[no-untyped-def]
    if external_id and repo.find_by_external_id(session, source, external_id) is not None:
        raise Conflict(
            f"An organization with external_id '{external_id}' from source "
            f"'{source}' already exists."
        )


def service_area_out(org: Organization) -> ServiceAreaOut:
    return ServiceAreaOut(
        kind=org.service_area_kind,
        geometry=org.service_area,
        radius_km=org.service_radius_km,
        region=org.service_region,
    )
