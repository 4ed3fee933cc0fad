"""SQL for offerings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.filters import Area, OfferingFilters
from app.models import Offering, Organization
from app.pagination import Cursor
from app.repositories.filtering import offering_clauses
from app.repositories.spatial import located_page


def get(session: Session, offering_id: int) -> Offering | None:
    return session.get(Offering, offering_id)


@dataclass(frozen=True)
class OfferingBrief:
    """An offering as a ranked or coverage result shows it, with its organization's name."""

    id: int
    title: str
    organization_id: int
    organization_name: str
    verified: bool
    categories: list[str]
    cost: str | None
    delivery: list[str]
    capacity_schools: int | None
    capacity_students: int | None


def briefs(session: Session, offering_ids: Sequence[int]) -> dict[int, OfferingBrief]:
    """The offerings that still exist among these ids, as results show them (one query)."""
    if not offering_ids:
        return {}
    rows = session.execute(
        select(
            Offering.id,
            Offering.title,
            Offering.organization_id,
            Organization.name,
            Organization.verification,
            Offering.categories,
            Offering.cost,
            Offering.delivery,
            Offering.capacity_schools,
            Offering.capacity_students,
        )
        .join(Organization, Organization.id == Offering.organization_id)
        .where(Offering.id.in_(sorted(set(offering_ids))))
    )
    return {
        row[0]: OfferingBrief(
            id=row[0],
            title=row[1],
            organization_id=row[2],
            organization_name=row[3],
            verified=row[4] == "verified",
            categories=list(row[5]),
            cost=row[6],
            delivery=list(row[7]),
            capacity_schools=row[8],
            capacity_students=row[9],
        )
        for row in rows
    }


def any_of_organization(session: Session, organization_id: int) -> bool:
    """Whether the organization has at least one offering."""
    found = session.scalar(
        select(Offering.id).where(Offering.organization_id == organization_id).limit(1)
    )
    return found is not None


def list_page(
    session: Session, f: OfferingFilters, area: Area, after: Cursor | None, limit: int
) -> list[tuple[Offering, float | None]]:
    clauses = offering_clauses(f)

    def scoped(query: Select) -> Select:
        return query.join(Organization, Organization.id == Offering.organization_id).where(*clauses)

    return located_page(session, Offering, Offering.organization_id, scoped, area, after, limit)
