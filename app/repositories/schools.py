"""SQL for schools and their needs assessments."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from app.filters import Area, SchoolFilters
from app.models import NeedsAssessment, School
from app.pagination import Cursor
from app.repositories.filtering import text_match
from app.repositories.spatial import bbox_clause, nearest_rows


def get(session: Session, school_id: int) -> School | None:
    return session.get(School, school_id)


def names(session: Session, school_ids: list[int]) -> dict[int, str]:
    rows = session.execute(select(School.id, School.name).where(School.id.in_(school_ids)))
    return {school_id: name for school_id, name in rows}


def in_district(session: Session, name: str | None, district_id: int | None) -> list[School]:
    """Schools of the district with this name and/or id (neither: every school), by id."""
    query = select(School)
    if name:
        query = query.where(School.district == name)
    if district_id is not None:
        query = query.where(School.district_id == district_id)
    return list(session.scalars(query.order_by(School.id)))


def id_by_nces(session: Session, nces_id: str) -> int | None:
    return session.scalar(select(School.id).where(School.nces_id == nces_id))


def _clauses(f: SchoolFilters) -> list:
    clauses = []
    if f.q:
        clauses.append(text_match(f.q, School.name, School.city))
    if f.district:
        clauses.append(School.district == f.district)
    if f.locales:
        clauses.append(School.locale.in_(f.locales))
    if f.grade is not None:
        clauses.append(and_(School.grade_low <= f.grade, School.grade_high >= f.grade))
    if f.title_i is not None:
        clauses.append(School.title_i.is_(f.title_i))
    if f.min_need_index is not None:
        clauses.append(School.need_index >= f.min_need_index)
    return clauses


def list_page(
    session: Session, f: SchoolFilters, area: Area, after: Cursor | None, limit: int
) -> list[tuple[School, float | None]]:
    clauses = _clauses(f)
    if area.bbox is not None:
        clauses.append(bbox_clause(School.lat, School.lon, area.bbox))
    if area.near is not None:
        candidates = select(
            School.id.label("owner_id"), School.lat.label("lat"), School.lon.label("lon")
        ).where(*clauses)
        return nearest_rows(
            session, School, candidates, table="schools", near=area.near, after=after, limit=limit
        )
    query = select(School).where(*clauses)
    if after is not None:
        query = query.where(School.id > after.id)
    return [(row, None) for row in session.scalars(query.order_by(School.id).limit(limit))]


def count(session: Session, f: SchoolFilters, area: Area) -> int:
    """How many schools `list_page` pages through (without `near`)."""
    clauses = _clauses(f)
    if area.bbox is not None:
        clauses.append(bbox_clause(School.lat, School.lon, area.bbox))
    return int(session.scalar(select(func.count()).select_from(School).where(*clauses)) or 0)


def extent(session: Session, district_id: int | None = None) -> tuple[float, ...] | None:
    """(min lon, min lat, max lon, max lat) of the schools (of one district), None if none."""
    query = select(
        func.min(School.lon), func.min(School.lat), func.max(School.lon), func.max(School.lat)
    )
    if district_id is not None:
        query = query.where(School.district_id == district_id)
    row = session.execute(query).one()
    return None if row[0] is None else tuple(float(v) for v in row)


def assessments_page(
    session: Session, school_id: int, after: Cursor | None, limit: int
) -> list[NeedsAssessment]:
    """Most recently filed first (history is never rewritten; see `latest_assessment`)."""
    query = select(NeedsAssessment).where(NeedsAssessment.school_id == school_id)
    if after is not None:
        query = query.where(NeedsAssessment.id < after.id)
    return list(session.scalars(query.order_by(NeedsAssessment.id.desc()).limit(limit)))


def has_example_assessment(session: Session, school_id: int, assessed_on: dt.date) -> bool:
    """Whether the school holds an example assessment of that date (the demo adds it once)."""
    found = session.scalar(
        select(NeedsAssessment.id).where(
            NeedsAssessment.school_id == school_id,
            NeedsAssessment.assessed_on == assessed_on,
            NeedsAssessment.is_example.is_(True),
        )
    )
    return found is not None


def latest_assessment(session: Session, school_id: int) -> NeedsAssessment | None:
    return session.scalar(
        select(NeedsAssessment)
        .where(NeedsAssessment.school_id == school_id)
        .order_by(NeedsAssessment.assessed_on.desc(), NeedsAssessment.id.desc())
        .limit(1)
    )


def latest_assessments(session: Session, school_ids: list[int]) -> dict[int, NeedsAssessment]:
    """Each school's latest assessment (newest date, then newest filed), in one query."""
    if not school_ids:
        return {}
    rows = session.scalars(
        select(NeedsAssessment)
        .where(NeedsAssessment.school_id.in_(school_ids))
        .order_by(NeedsAssessment.school_id, NeedsAssessment.assessed_on, NeedsAssessment.id)
    )
    return {row.school_id: row for row in rows}
