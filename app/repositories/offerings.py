"""SQL for offerings."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.filters import Area, OfferingFilters
from app.models import Location, Offering, Organization
from app.pagination import Cursor
from app.repositories.filtering import offering_clauses
from app.repositories.spatial import bbox_clause, nearest_rows


def get(session: Session, offering_id: int) -> Offering | None:
    return session.get(Offering, offering_id)


def by_ids(session: Session, offering_ids: list[int]) -> dict[int, Offering]:
    """The offerings that still exist among these ids, with their organizations."""
    rows = session.scalars(select(Offering).where(Offering.id.in_(offering_ids)))
    return {o.id: o for o in rows}


def list_page(
    session: Session, f: OfferingFilters, area: Area, after: Cursor | None, limit: int
) -> list[tuple[Offering, float | None]]:
    clauses = offering_clauses(f)
    if area.near is not None:
        candidates = (
            select(
                Offering.id.label("owner_id"),
                Location.lat.label("lat"),
                Location.lon.label("lon"),
            )
            .join(Organization, Organization.id == Offering.organization_id)
            .join(Location, Location.organization_id == Offering.organization_id)
            .where(*clauses)
        )
        if area.bbox is not None:
            candidates = candidates.where(bbox_clause(Location.lat, Location.lon, area.bbox))
        return nearest_rows(
            session,
            Offering,
            candidates,
            table="locations",
            near=area.near,
            after=after,
            limit=limit,
        )

    query = select(Offering).join(Organization, Organization.id == Offering.organization_id)
    query = query.where(*clauses)
    if area.bbox is not None:
        query = query.where(
            exists(
                select(Location.id).where(
                    Location.organization_id == Offering.organization_id,
                    bbox_clause(Location.lat, Location.lon, area.bbox),
                )
            )
        )
    if after is not None:
        query = query.where(Offering.id > after.id)
    query = query.order_by(Offering.id).limit(limit)
    return [(row, None) for row in session.scalars(query)]
