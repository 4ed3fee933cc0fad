"""SQL for organizations and their locations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Row, func, or_, select, update
from sqlalchemy.orm import Session

from app.filters import Area, OrganizationFilters, Visibility
from app.models import Location, Organization, School
from app.pagination import Cursor
from app.repositories.filtering import (
    has_offering_matching,
    tag_has_any,
    text_match,
    visibility_clause,
)
from app.repositories.spatial import bbox_clause, located_page
from geo import BBox


def get(session: Session, organization_id: int) -> Organization | None:
    return session.get(Organization, organization_id)


def first_locations(
    session: Session, organization_ids: list[int]
) -> dict[int, tuple[float, float]]:
    """Each organization's first location (lat, lon), in one query: where a result sits on a
    map."""
    rows = session.execute(
        select(Location.organization_id, Location.lat, Location.lon)
        .where(Location.organization_id.in_(set(organization_ids)))
        .order_by(Location.organization_id, Location.id)
    )
    first: dict[int, tuple[float, float]] = {}
    for org_id, lat, lon in rows:
        first.setdefault(org_id, (lat, lon))
    return first


def verify_unverified(session: Session, *, source: str, reason: str, district_id: int) -> None:
    """Mark a source's organizations verified by a district, unless a decision is stored."""
    session.execute(
        update(Organization)
        .where(
            Organization.source == source,
            or_(Organization.verification.is_(None), Organization.verification == "unverified"),
        )
        .values(
            verification="verified",
            verification_reason=reason,
            verified_by_district_id=district_id,
            verified_at=dt.datetime.now(dt.UTC),
        )
    )


def school_points(session: Session, district_id: int) -> tuple[list[float], list[float]]:
    """Latitudes and longitudes of a district's schools."""
    rows = session.execute(
        select(School.lat, School.lon).where(School.district_id == district_id)
    ).all()
    return [r.lat for r in rows], [r.lon for r in rows]


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
    return located_page(
        session, Organization, Organization.id, lambda q: q.where(*clauses), area, after, limit
    )


def _locations(columns: tuple, bbox: BBox | None, visibility: Visibility) -> Any:
    """Locations (in the box) of the organizations the caller may see."""
    query = (
        select(*columns)
        .join(Organization, Organization.id == Location.organization_id)
        .where(Location.lat.is_not(None))  # a location kept without a point is no feature
    )
    visible = visibility_clause(visibility)
    if visible is not None:
        query = query.where(visible)
    if bbox is not None:
        query = query.where(bbox_clause(Location.lat, Location.lon, bbox))
    return query


LOCATION_COLUMNS = (
    Location.id,
    Location.organization_id,
    Organization.name.label("organization_name"),
    Organization.type.label("organization_type"),
    Organization.verification,
    Location.name,
    Location.address,
    Location.city,
    Location.state,
    Location.postal_code,
    Location.lat,
    Location.lon,
    Location.precision,
)


def location_page(
    session: Session,
    bbox: BBox | None,
    visibility: Visibility,
    after_id: int | None,
    limit: int,
    location_id: int | None = None,
) -> list[Row[Any]]:
    """Locations with their organization, keyset-paged on location id (or just one)."""
    query = _locations(LOCATION_COLUMNS, bbox, visibility)
    if after_id is not None:
        query = query.where(Location.id > after_id)
    if location_id is not None:
        query = query.where(Location.id == location_id)
    return list(session.execute(query.order_by(Location.id).limit(limit)).all())


def location_count(session: Session, bbox: BBox | None, visibility: Visibility) -> int:
    return int(session.scalar(_locations((func.count(Location.id),), bbox, visibility)) or 0)


def location_extent(session: Session, visibility: Visibility) -> tuple[float, ...] | None:
    """(min lon, min lat, max lon, max lat) of the locations the caller may see."""
    columns = (
        func.min(Location.lon),
        func.min(Location.lat),
        func.max(Location.lon),
        func.max(Location.lat),
    )
    row = session.execute(_locations(columns, None, visibility)).one()
    return None if row[0] is None else tuple(float(v) for v in row)
