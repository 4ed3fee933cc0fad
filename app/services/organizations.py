"""Use cases for community organizations and their locations."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

import geo
from app.auth.principal import Principal, visibility_of
from app.db import unit_of_work
from app.domain_errors import Conflict, Forbidden, InvalidInput, NotFound
from app.filters import Area, OrganizationFilters
from app.models import Location, Organization
from app.pagination import Cursor
from app.repositories import organizations as repo
from app.repositories.catalog_changes import record_change
from app.schemas.organizations import OrganizationCreate, OrganizationUpdate
from app.services import audit
from app.services.accounts import add_membership
from app.services.catalog_rows import location_rows, organization_row


def create(*, session: Session, principal: Principal, data: OrganizationCreate) -> Organization:
    """Register an organization with its locations; it starts unverified, and a member who
    registers it becomes its member."""
    _check_unique_external_id(session, data.source, data.external_id)
    org = Organization(
        **_row(data),
        source=data.source,
        external_id=data.external_id,
        locations=[Location(**loc) for loc in location_rows(data.locations)],
    )
    with unit_of_work(session, conflict="An organization with this external_id already exists."):
        session.add(org)
        session.flush()
        add_membership(session, principal, org.id)
        record_change(session, organization_id=org.id)
        audit.record(
            session,
            principal,
            action="create",
            resource_type="organization",
            resource_id=org.id,
            fields=data.model_dump(exclude_unset=True),
        )
    return org


def get(*, session: Session, organization_id: int) -> Organization:
    org = repo.get(session, organization_id)
    if org is None:
        raise NotFound(f"Organization {organization_id} does not exist.")
    return org


def visible(*, session: Session, principal: Principal, organization_id: int) -> Organization:
    """The organization if the caller may see it; a hidden one looks like a missing one."""
    org = repo.get(session, organization_id)
    if org is None or not principal.sees_organization(org.id, org.verification):
        raise NotFound(f"Organization {organization_id} does not exist.")
    return org


def editable(*, session: Session, principal: Principal, organization_id: int) -> Organization:
    org = visible(session=session, principal=principal, organization_id=organization_id)
    if not principal.edits_organization(org.id):
        raise Forbidden(f"Only members of organization {org.id} may change it.")
    return org


def update(
    *, session: Session, principal: Principal, organization_id: int, data: OrganizationUpdate
) -> Organization:
    """Change the given fields; `locations`, when given, replaces the whole list."""
    org = editable(session=session, principal=principal, organization_id=organization_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    for column, value in _row(data, given_only=True).items():
        setattr(org, column, value)
    if "locations" in changes:
        org.locations = [Location(**loc) for loc in location_rows(data.locations or [])]
    with unit_of_work(session, conflict="The change conflicts with another organization."):
        record_change(session, organization_id=org.id)
        audit.record(
            session,
            principal,
            action="update",
            resource_type="organization",
            resource_id=org.id,
            fields=changes,
        )
    return org


def delete(*, session: Session, principal: Principal, organization_id: int) -> None:
    """Remove an organization with its locations and offerings."""
    org = editable(session=session, principal=principal, organization_id=organization_id)
    with unit_of_work(session, conflict="The organization changed meanwhile."):
        record_change(session, organization_id=org.id)
        audit.record(
            session, principal, action="delete", resource_type="organization", resource_id=org.id
        )
        session.delete(org)


def decide_verification(
    *, session: Session, principal: Principal, organization_id: int, state: str, reason: str | None
) -> Organization:
    """A district's decision on an organization that serves it (the operator's on any); a
    rejection says why."""
    org = visible(session=session, principal=principal, organization_id=organization_id)
    if not principal.is_admin and not serves(session, org, principal.district_id):
        raise Forbidden(
            f"Organization {org.id} serves none of your district's schools; its verification "
            "belongs to the districts it serves."
        )
    if state == "rejected" and not (reason or "").strip():
        raise InvalidInput(["body", "reason"], "Say why the organization is rejected.")
    org.verification = state
    org.verification_reason = reason
    org.verified_by_district_id = principal.district_id
    org.verified_at = dt.datetime.now(dt.UTC)
    with unit_of_work(session, conflict="The organization changed meanwhile."):
        record_change(session, organization_id=org.id)
        audit.record(
            session,
            principal,
            action=state,
            resource_type="organization",
            resource_id=org.id,
            district_id=principal.district_id,
            fields=["verification", "verification_reason"],
        )
    return org


# Reach of an organization that declares no service area: the gap analysis's farthest
# (two rural decay scales), so no district it could serve is left out.
UNDECLARED_REACH_KM = 80.0


def serves(session: Session, org: Organization, district_id: int | None) -> bool:
    """Whether one of the district's schools lies in the organization's service polygon, or
    within its service radius (else UNDECLARED_REACH_KM) of one of its locations."""
    if district_id is None:
        return False
    lats, lons = repo.school_points(session, district_id)
    if not lats:
        return False
    if org.service_area_kind == "polygon" and org.service_area:
        area = geo.parse_service_area(org.service_area)
        return bool(geo.covers(area, lats, lons).any())
    reach_km = org.service_radius_km or UNDECLARED_REACH_KM
    return any(
        bool((geo.haversine_km(loc.lat, loc.lon, lats, lons) <= reach_km).any())
        for loc in org.locations
        if loc.lat is not None and loc.lon is not None
    )


def first_places(*, session: Session, organization_ids: list[int]) -> dict[int, dict[str, float]]:
    """Where each of these organizations (already ranked for the caller) shows on a map."""
    return {
        org_id: {"lat": lat, "lon": lon}
        for org_id, (lat, lon) in repo.first_locations(session, organization_ids).items()
    }


def list_page(
    *,
    session: Session,
    principal: Principal,
    filters: OrganizationFilters,
    area: Area,
    cursor: Cursor | None,
    limit: int,
) -> list[tuple[Organization, float | None]]:
    filters = dataclasses.replace(filters, visibility=visibility_of(principal))
    return repo.list_page(session, filters, area, cursor, limit)


def _row(
    data: OrganizationCreate | OrganizationUpdate, *, given_only: bool = False
) -> dict[str, Any]:
    """The request's columns; an invalid polygon is a 422 naming the coordinate at fault."""
    try:
        return organization_row(data, given_only=given_only)
    except geo.GeometryError as exc:
        raise InvalidInput(
            ["body", "service_area", "geometry", *exc.path], exc.reason, kind="invalid_geometry"
        ) from exc


def _check_unique_external_id(session: Session, source: str | None, external_id: str | None):  # type: ignore[no-untyped-def]
    if external_id and repo.find_by_external_id(session, source, external_id) is not None:
        raise Conflict(
            f"An organization with external_id '{external_id}' from source "
            f"'{source}' already exists."
        )
