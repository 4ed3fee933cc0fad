"""Use cases for offerings: what an organization provides to schools."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.errors import InvalidInput, NotFound
from app.filters import Area, OfferingFilters
from app.models import Offering
from app.pagination import Cursor
from app.repositories import offerings as repo
from app.schemas.offerings import OfferingCreate, OfferingUpdate
from app.services import organizations
from app.services.common import (
    check_categories,
    check_dates,
    check_grades,
    record_change,
    unit_of_work,
)


def create(*, session: Session, organization_id: int, data: OfferingCreate) -> Offering:
    """Add an offering to an organization."""
    org = organizations.get(session=session, organization_id=organization_id)
    offering = Offering(organization=org, **data.model_dump())
    _check(offering)
    with unit_of_work(session, conflict="An offering with this external_id already exists."):
        session.add(offering)
        session.flush()
        record_change(session, organization_id=org.id, offering_id=offering.id)
    return offering


def get(*, session: Session, offering_id: int) -> Offering:
    offering = repo.get(session, offering_id)
    if offering is None:
        raise NotFound(f"Offering {offering_id} does not exist.")
    return offering


def update(*, session: Session, offering_id: int, data: OfferingUpdate) -> Offering:
    offering = get(session=session, offering_id=offering_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        setattr(offering, field, value)
    _check(offering)
    with unit_of_work(session, conflict="The change conflicts with another offering."):
        record_change(session, organization_id=offering.organization_id, offering_id=offering.id)
    return offering


def delete(*, session: Session, offering_id: int) -> None:
    offering = get(session=session, offering_id=offering_id)
    record_change(session, organization_id=offering.organization_id, offering_id=offering.id)
    session.delete(offering)
    session.commit()


def list_page(
    *, session: Session, filters: OfferingFilters, area: Area, cursor: Cursor | None, limit: int
) -> list[tuple[Offering, float | None]]:
    return repo.list_page(session, filters, area, cursor, limit)


def _check(o: Offering) -> None:
    """Rules across fields, checked on the merged record so PATCH cannot break them either."""
    check_categories(o.categories, ["body", "categories"])
    check_grades(o.grade_low, o.grade_high, ["body"])
    check_dates(o.active_from, o.active_until, ["body"])
    if o.cost == "fee" and o.cost_amount is None:
        raise InvalidInput(["body", "cost_amount"], "cost 'fee' needs cost_amount.")
    if o.cost == "free" and o.cost_amount not in (None, 0):
        raise InvalidInput(["body", "cost_amount"], "A free offering cannot have a cost_amount.")
