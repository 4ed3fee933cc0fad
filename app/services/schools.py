"""Use cases for schools and their needs assessments."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.db import unit_of_work
from app.domain_errors import Conflict, Forbidden, InvalidInput, NotFound
from app.filters import Area, SchoolFilters
from app.models import Need, NeedsAssessment, School
from app.pagination import Cursor
from app.repositories import schools as repo
from app.schemas.schools import NeedsAssessmentCreate, SchoolCreate, SchoolUpdate
from app.services import audit, districts, school_links
from app.services.validation import check_category, check_grades
from matching.need_index import need_index

PLACEMENT = ("district", "district_id")


def create(*, session: Session, principal: Principal, data: SchoolCreate) -> School:
    """Add a school to a district; its need index is computed from the equity indicators."""
    if data.nces_id and repo.id_by_nces(session, data.nces_id) is not None:
        raise Conflict(f"A school with NCES id {data.nces_id} already exists.")
    school = School(**data.model_dump(exclude=set(PLACEMENT)))
    _place(session, principal, school, data.district, data.district_id)
    school.field_sources = school_links.person_edited(None, list(data.model_fields_set))
    _check(school)
    with unit_of_work(
        session, conflict="A school with this NCES id or external_id already exists."
    ):
        session.add(school)
        session.flush()
        audit.record(
            session,
            principal,
            action="create",
            resource_type="school",
            resource_id=school.id,
            district_id=school.district_id,
            fields=data.model_dump(exclude_unset=True),
        )
    return school


def _place(
    session: Session,
    principal: Principal,
    school: School,
    name: str | None,
    district_id: int | None,
) -> None:
    """Put the school in the district named by id or name. Only the operator chooses freely
    (a new name adds the district); everyone else's schools stay in their own district."""
    if principal.is_admin:
        by_name = district_id is None and bool(name)
        if by_name and name:
            district_id = districts.ids_for_names(session, [name])[name]  # aliases too
        districts.assign(session, school, district_id)
        if name and not by_name and school.district != name:
            raise InvalidInput(["body", "district"], f"District {district_id} is not '{name}'.")
        return
    own = principal.district_id
    districts.assign(session, school, own)
    if (district_id is not None and district_id != own) or (name and name != school.district):
        raise Forbidden("Schools can be added to or kept in your own district only.")


def readable(*, session: Session, principal: Principal, school_id: int) -> School:
    """The school, for callers who may read its needs (its staff, its district, the operator)."""
    school = get(session=session, school_id=school_id)
    if not principal.reads_school(school.id, school.district_id):
        raise Forbidden(f"The needs of school {school_id} are private to it and its district.")
    return school


def _editable(session: Session, principal: Principal, school_id: int) -> School:
    school = get(session=session, school_id=school_id)
    if not principal.edits_school(school.id, school.district_id):
        raise Forbidden(f"Only school {school_id}'s staff and district may change it.")
    return school


def get(*, session: Session, school_id: int) -> School:
    school = repo.get(session, school_id)
    if school is None:
        raise NotFound(f"School {school_id} does not exist.")
    return school


def update(*, session: Session, principal: Principal, school_id: int, data: SchoolUpdate) -> School:
    school = _editable(session, principal, school_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    new_nces = changes.get("nces_id")
    if new_nces and new_nces != school.nces_id and repo.id_by_nces(session, new_nces) is not None:
        raise Conflict(f"A school with NCES id {new_nces} already exists.")
    school.field_sources = school_links.person_edited(school.field_sources, list(changes))
    moving = any(field in changes for field in PLACEMENT)
    for field, value in changes.items():
        if field not in PLACEMENT:
            setattr(school, field, value)
    if moving and not principal.is_admin:
        same = changes.get("district_id", school.district_id) == school.district_id and (
            changes.get("district", school.district) == school.district
        )
        if not same:
            raise Forbidden("Only the operator moves a school to another district.")
    elif moving:
        _place(session, principal, school, changes.get("district"), changes.get("district_id"))
    _check(school)
    with unit_of_work(session, conflict="A school with this NCES id already exists."):
        session.flush()
        audit.record(
            session,
            principal,
            action="update",
            resource_type="school",
            resource_id=school.id,
            district_id=school.district_id,
            fields=changes,
        )
    return school


def list_page(
    *, session: Session, filters: SchoolFilters, area: Area, cursor: Cursor | None, limit: int
) -> list[tuple[School, float | None]]:
    return repo.list_page(session, filters, area, cursor, limit)


def add_assessment(
    *, session: Session, principal: Principal, school_id: int, data: NeedsAssessmentCreate
) -> NeedsAssessment:
    """File a dated needs assessment; earlier ones are kept as history."""
    school = _editable(session, principal, school_id)
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
        session.flush()
        audit.record(
            session,
            principal,
            action="create",
            resource_type="needs_assessment",
            resource_id=assessment.id,
            district_id=school.district_id,
            fields=data.model_dump(exclude_unset=True),
        )
    return assessment


def assessments_page(
    *, session: Session, principal: Principal, school_id: int, cursor: Cursor | None, limit: int
) -> list[NeedsAssessment]:
    readable(session=session, principal=principal, school_id=school_id)
    return repo.assessments_page(session, school_id, cursor, limit)


def latest_assessment(*, session: Session, principal: Principal, school_id: int) -> NeedsAssessment:
    readable(session=session, principal=principal, school_id=school_id)
    assessment = repo.latest_assessment(session, school_id)
    if assessment is None:
        raise NotFound(f"School {school_id} has no needs assessment yet.")
    return assessment


INDICATORS = ("frl_pct", "title_i", "el_pct", "swd_pct", "chronic_absence_pct", "locale")


def compute_need_index(school: School) -> float | None:
    """The school's need index from its indicators (see matching.need_index)."""
    return need_indexes([{key: getattr(school, key) for key in INDICATORS}])[0]


def need_indexes(values: Sequence[Mapping[str, Any]]) -> list[float | None]:
    """The need index of each school's indicators, computed for a whole batch at once; the API
    and the importers store it the same way (rounded to 4 places, None when unknown)."""
    if not values:
        return []

    def column(key: str) -> np.ndarray:
        return np.array(
            [math.nan if v.get(key) is None else float(v[key]) for v in values], dtype=float
        )

    index = need_index(
        column("frl_pct"),
        column("title_i"),
        column("el_pct"),
        column("swd_pct"),
        column("chronic_absence_pct"),
        np.array([v.get("locale") or "" for v in values], dtype=object),
    )
    return [None if math.isnan(x) else round(float(x), 4) for x in index]


def _check(school: School) -> None:
    check_grades(school.grade_low, school.grade_high, ["body"])
    school.need_index = compute_need_index(school)
