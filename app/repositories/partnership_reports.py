"""SQL for the district's partnership view and the calendar feeds: partnerships in a scope (a
district, a school, an organization) with their goals and latest readings, agreements with
their signatures, check-ins, and the current needs of a district's schools."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from app.models import (
    Agreement,
    AgreementSignature,
    CheckIn,
    GoalReading,
    Need,
    NeedsAssessment,
    Organization,
    Partnership,
    PartnershipGoal,
    School,
)

CHUNK = 1000  # ids per IN list


def partnerships(
    session: Session,
    *,
    statuses: Sequence[str],
    district_id: int | None = None,
    school_id: int | None = None,
    organization_id: int | None = None,
) -> list[Row[Any]]:
    """Partnerships with these statuses in the scope given (each filter narrows it), with
    their school's and organization's names, in id order."""
    query = (
        select(
            Partnership.id,
            Partnership.status,
            Partnership.school_id,
            School.name.label("school_name"),
            Partnership.organization_id,
            Organization.name.label("organization_name"),
            Partnership.need_categories,
            Partnership.term_start,
            Partnership.term_end,
            Partnership.updated_at,
        )
        .join(School, School.id == Partnership.school_id)
        .join(Organization, Organization.id == Partnership.organization_id)
        .where(Partnership.status.in_(list(statuses)))
    )
    if district_id is not None:
        query = query.where(School.district_id == district_id)
    if school_id is not None:
        query = query.where(Partnership.school_id == school_id)
    if organization_id is not None:
        query = query.where(Partnership.organization_id == organization_id)
    return list(session.execute(query.order_by(Partnership.id)).all())


def _chunks(ids: Sequence[int]) -> list[list[int]]:
    wanted = sorted(set(ids))
    return [wanted[i : i + CHUNK] for i in range(0, len(wanted), CHUNK)]


def goals(session: Session, partnership_ids: Sequence[int]) -> list[PartnershipGoal]:
    """The goals of these partnerships, in id order."""
    out: list[PartnershipGoal] = []
    for chunk in _chunks(partnership_ids):
        out += session.scalars(
            select(PartnershipGoal).where(PartnershipGoal.partnership_id.in_(chunk))
        )
    return sorted(out, key=lambda g: g.id)


def latest_readings(session: Session, goal_ids: Sequence[int]) -> dict[int, GoalReading]:
    """Each goal's latest reading (newest date, then newest recorded)."""
    latest: dict[int, GoalReading] = {}
    for chunk in _chunks(goal_ids):
        rows = session.scalars(
            select(GoalReading)
            .where(GoalReading.goal_id.in_(chunk))
            .order_by(GoalReading.goal_id, GoalReading.observed_on, GoalReading.id)
        )
        for reading in rows:
            latest[reading.goal_id] = reading
    return latest


def agreements(session: Session, partnership_ids: Sequence[int]) -> list[Row[Any]]:
    """Agreements of these partnerships with the number of parties that signed, in id order."""
    signed = (
        select(AgreementSignature.agreement_id, func.count().label("signatures"))
        .group_by(AgreementSignature.agreement_id)
        .subquery()
    )
    out: list[Row[Any]] = []
    for chunk in _chunks(partnership_ids):
        out += session.execute(
            select(
                Agreement.id,
                Agreement.partnership_id,
                Agreement.kind,
                Agreement.term_end,
                Agreement.renewal_date,
                func.coalesce(signed.c.signatures, 0).label("signatures"),
            )
            .outerjoin(signed, signed.c.agreement_id == Agreement.id)
            .where(Agreement.partnership_id.in_(chunk))
        ).all()
    return sorted(out, key=lambda r: r.id)


def check_ins(session: Session, partnership_ids: Sequence[int]) -> list[Row[Any]]:
    """Check-ins of these partnerships that set a next step with a due date, in id order."""
    out: list[Row[Any]] = []
    for chunk in _chunks(partnership_ids):
        out += session.execute(
            select(
                CheckIn.id,
                CheckIn.partnership_id,
                CheckIn.held_on,
                CheckIn.next_step,
                CheckIn.next_step_due,
            ).where(CheckIn.partnership_id.in_(chunk), CheckIn.next_step_due.is_not(None))
        ).all()
    return sorted(out, key=lambda r: r.id)


def current_needs(session: Session, district_id: int) -> list[Row[Any]]:
    """The needs of the latest assessment of each of the district's schools, in (school,
    priority, need id) order."""
    ranked = (
        select(
            NeedsAssessment.id,
            NeedsAssessment.school_id,
            func.row_number()
            .over(
                partition_by=NeedsAssessment.school_id,
                order_by=(NeedsAssessment.assessed_on.desc(), NeedsAssessment.id.desc()),
            )
            .label("rn"),
        )
        .join(School, School.id == NeedsAssessment.school_id)
        .where(School.district_id == district_id)
        .subquery()
    )
    return list(
        session.execute(
            select(
                School.id.label("school_id"),
                School.name.label("school_name"),
                Need.id.label("need_id"),
                Need.category,
                Need.priority,
            )
            .join(ranked, ranked.c.school_id == School.id)
            .join(Need, Need.assessment_id == ranked.c.id)
            .where(ranked.c.rn == 1)
            .order_by(School.id, Need.priority, Need.id)
        ).all()
    )
