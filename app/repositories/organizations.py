"""SQL for organizations and their locations."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.filters import Area, OrganizationFilters
from app.models import Location, Organization
from app.pagination import Cursor
from app.repositories.filtering import (
    has_offering_matching,
    tag_has_any,
    text_match,
    visibility_clause,
)
from app.repositories.spatial import bbox_clause, nearest_rows


def get(session: Session, organization_id: int) -> Organization | None:
    return session.get(Organization, organization_id)


def find_by_external_id(session: Session, source: str | None, external_id: str) -> int | None:
    return session.scalar(
        select(Organization.id).where(
            Organization.source.is_(None) if source is None else Organization.source == source,
            Organization.external_id == external_id,
        )
    )


def _clauses(f: OrganizationFilters) -> list:
    clauses = []
    if f.q:
        clauses.append(text_match(f.q, Organization.name, Organization.description))
    if f.types:
        clauses.append(Organization.type.in_(f.types))
    if f.verification:
        clauses.append(Organization.verification.in_(f.verification))
    if f.languages:
        clauses.append(tag_has_any(Organization.languages, f.languages))
    offering_clause = has_offering_matching(f.offerings)
    if offering_clause is not None:
        clauses.append(offering_clause)
    visible = visibility_clause(f.visibility)
    if visible is not None:
        clauses.append(visible)
    return clauses


def list_page(
    session: Session, f: OrganizationFilters, area: Area, after: Cursor | None, limit: int
) -> list[tuple[Organization, float | None]]:
    clauses = _clauses(f)
    if area.near is not None:
        candidates = (
            select(
                Organization.id.label("owner_id"),
                Location.lat.label("lat"),
                Location.lon.label("lon"),
            )
            .join(Location, Location.organization_id == Organization.id)
            .where(*clauses)
        )
        if area.bbox is not None:
            candidates = candidates.where(bbox_clause(Location.lat, Location.lon, area.bbox))
        return nearest_rows(
            session,
            Organization,
            candidates,
            table="locations",
            near=area.near,
            after=after,
            limit=limit,
        )

    query = select(Organization).where(*clauses)
    if area.bbox is not None:
        query = query.where(
            exists(
                select(Location.id).where(
                    Location.organization_id == Organization.id,
                    bbox_clause(Location.lat, Location.lon, area.bbox),
                )
            )
        )
    if after is not None:
        query = query.where(Organization.id > after.id)
    return [(row, None) for row in session.scalars(query.order_by(Organization.id).limit(limit))]
