"""Use cases for offerings: what an organization provides to schools."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.orm import Session

from app.auth.principal import Principal, visibility_of
from app.db import unit_of_work
from app.domain_errors import Forbidden, NotFound
from app.filters import Area, OfferingFilters
from app.models import Offering
from app.pagination import Cursor
from app.repositories import offerings as repo
from app.repositories.catalog_changes import record_change
from app.schemas.offerings import OfferingCreate, OfferingUpdate
from app.services import audit, organizations
from app.services.catalog_rows import offering_row
from app.services.validation import offering_rules


def create(
    *, session: Session, principal: Principal, organization_id: int, data: OfferingCreate
) -> Offering:
    """Add an offering to an organization."""
    org = organizations.editable(
        session=session, principal=principal, organization_id=organization_id
    )
    offering = Offering(organization=org, **offering_row(data.model_dump()))
    _check(offering)
    with unit_of_work(session, conflict="An offering with this external_id already exists."):
        session.add(offering)
        session.flush()
        record_change(session, organization_id=org.id, offering_id=offering.id)
        audit.record(
            session,
            principal,
            action="create",
            resource_type="offering",
            resource_id=offering.id,
            fields=data.model_dump(exclude_unset=True),
        )
    return offering


def get(*, session: Session, offering_id: int) -> Offering:
    offering = repo.get(session, offering_id)
    if offering is None:
        raise NotFound(f"Offering {offering_id} does not exist.")
    return offering


def visible(*, session: Session, principal: Principal, offering_id: int) -> Offering:
    """The offering if the caller may see its organization; else it looks missing."""
    offering = repo.get(session, offering_id)
    if offering is None or not principal.sees_organization(
        offering.organization_id, offering.organization.verification
    ):
        raise NotFound(f"Offering {offering_id} does not exist.")
    return offering


def _editable(session: Session, principal: Principal, offering_id: int) -> Offering:
    offering = visible(session=session, principal=principal, offering_id=offering_id)
    if not principal.edits_organization(offering.organization_id):
        raise Forbidden(f"Only members of organization {offering.organization_id} may change it.")
    return offering


def update(
    *, session: Session, principal: Principal, offering_id: int, data: OfferingUpdate
) -> Offering:
    offering = _editable(session, principal, offering_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    for column, value in offering_row(changes).items():
        setattr(offering, column, value)
    _check(offering)
    with unit_of_work(session, conflict="The change conflicts with another offering."):
        record_change(session, organization_id=offering.organization_id, offering_id=offering.id)
        audit.record(
            session,
            principal,
            action="update",
            resource_type="offering",
            resource_id=offering.id,
            fields=changes,
        )
    return offering


def delete(*, session: Session, principal: Principal, offering_id: int) -> None:
    offering = _editable(session, principal, offering_id)
    with unit_of_work(session, conflict="The offering changed meanwhile."):
        record_change(session, organization_id=offering.organization_id, offering_id=offering.id)
        audit.record(
            session, principal, action="delete", resource_type="offering", resource_id=offering.id
        )
        session.delete(offering)


def list_page(
    *,
    session: Session,
    principal: Principal,
    filters: OfferingFilters,
    area: Area,
    cursor: Cursor | None,
    limit: int,
) -> list[tuple[Offering, float | None]]:
    filters = dataclasses.replace(filters, visibility=visibility_of(principal))
    return repo.list_page(session, filters, area, cursor, limit)


def _check(o: Offering) -> None:
    """Rules across fields, checked on the merged record so PATCH cannot break them either."""
    broken = offering_rules(o)
    if broken:
        raise broken[0].at(["body"])
