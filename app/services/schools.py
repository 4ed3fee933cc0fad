"""Use cases for schools and their needs assessments."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.filters import Area, SchoolFilters
from app.models import Need, NeedsAssessment, School
from app.pagination import Cursor
from app.repositories import schools as repo
from app.schemas.schools import NeedsAssessmentCreate, SchoolCreate, SchoolUpdate
from app.services.common import check_category, check_grades, unit_of_work


def create(*, session: Session, data: SchoolCreate) -> School:
    """Add a school; its need index is computed from the equity indicators given."""
    if data.nces_id and repo.id_by_nces(session, data.nces_id) is not None:
        raise Conflict(f"A school with NCES id {data.nces_id} already exists.")
    school = School(**data.model_dump())
    _check(school)
    with unit_of_work(
        session, conflict="A school with this NCES id or external_id already exists."
    ):
        session.add(school)
    return school


def get(*, session: Session, school_id: int) -> School:
    school = repo.get(session, school_id)
    if school is None:
        raise NotFound(f"School {school_id} does not exist.")
    return school


def update(*, session: Session, school_id: int, data: SchoolUpdate) -> School:
    school = get(session=session, school_id=school_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    new_nces = changes.get("nces_id")
    if new_nces and new_nces != school.nces_id and repo.id_by_nces(session, new_nces) is not None:
        raise Conflict(f"A school with NCES id {new_nces} already exists.")
    for field, value in changes.items():
        setattr(school, field, value)
    _check(school)
    with unit_of_work(session, conflict="A school with this NCES id already exists."):
        session.flush()
    return school


def list_page(
    *, session: Session, filters: SchoolFilters, area: Area, cursor: Cursor | None, limit: int
) -> list[tuple[School, float | None]]:
    return repo.list_page(session, filters, area, cursor, limit)


def add_assessment(
    *, session: Session, school_id: int, data: NeedsAssessmentCreate
) -> NeedsAssessment:
    """File a dated needs assessment; earlier ones are kept as history."""
    get(session=session, school_id=school_id)
    for n, need in enumerate(data.needs):
        check_category(need.category, ["body", "needs", n, "category"])
        check_grades(need.grade_low, need.grade_high, ["body", "needs", n])
    assessment = NeedsAssessment(
        school_id=school_id,
        assessed_on=data.assessed_on,
        notes=data.notes,
        is_example=data.is_example,
        needs=[Need(**need.model_dump()) for need in data.needs],
    )
    with unit_of_work(session, conflict="The assessment conflicts with existing data."):
        session.add(assessment)
    return assessment


def assessments_page(
    *, session: Session, school_id: int, cursor: Cursor | None, limit: int
) -> list[NeedsAssessment]:
    get(session=session, school_id=school_id)
    return repo.assessments_page(session, school_id, cursor, limit)


def latest_assessment(*, session: Session, school_id: int) -> NeedsAssessment:
    get(session=session, school_id=school_id)
    assessment = repo.latest_assessment(session, school_id)
    if assessment is None:
        raise NotFound(f"School {school_id} has no needs assessment yet.")
    return assessment


def compute_need_index(school: School) -> float | None:
    """The school's need index from its indicators (see matching.need_index)."""
    from matching.need_index import need_index

    value = need_index(
        np.array([_nan(school.frl_pct)]),
        np.array([_nan(None if school.title_i is None else float(school.title_i))]),
        np.array([_nan(school.el_pct)]),
        np.array([_nan(school.swd_pct)]),
        np.array([_nan(school.chronic_absence_pct)]),
        np.array([school.locale or ""], dtype=object),
    )[0]
    return None if math.isnan(value) else round(float(value), 4)


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _check(school: School) -> None:
    check_grades(school.grade_low, school.grade_high, ["body"])
    school.need_index = compute_need_index(school)
