"""SQL for partnerships and the records hanging off them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.principal import DISTRICT_ADMIN, KEY_READ, KEY_READ_WRITE, SCHOOL_STAFF, Principal
from app.models import (
    Agreement,
    CheckIn,
    GoalReading,
    Offering,
    Organization,
    Partnership,
    PartnershipGoal,
    PartnershipReview,
    School,
)

SERVING = ("active", "completed")


def get(session: Session, partnership_id: int) -> Partnership | None:
    return session.get(Partnership, partnership_id)


def reach_clause(principal: Principal):  # type: ignore[no-untyped-def]
    """The partnerships a caller may read: the operator all, district callers their district's
    schools', school staff their schools', members their organizations'."""
    if principal.is_admin:
        return None
    if principal.role in (DISTRICT_ADMIN, KEY_READ, KEY_READ_WRITE):
        district = select(School.id).where(School.district_id == principal.district_id)
        return Partnership.school_id.in_(district)
    if principal.role == SCHOOL_STAFF:
        return Partnership.school_id.in_(sorted(principal.school_ids))
    return Partnership.organization_id.in_(sorted(principal.organization_ids))


def list_page(
    session: Session,
    principal: Principal,
    *,
    school_id: int | None,
    organization_id: int | None,
    statuses: tuple[str, ...],
    after_id: int | None,
    limit: int,
) -> list[Partnership]:
    query = select(Partnership)
    reach = reach_clause(principal)
    if reach is not None:
        query = query.where(reach)
    if school_id is not None:
        query = query.where(Partnership.school_id == school_id)
    if organization_id is not None:
        query = query.where(Partnership.organization_id == organization_id)
    if statuses:
        query = query.where(Partnership.status.in_(statuses))
    if after_id is not None:
        query = query.where(Partnership.id > after_id)
    return list(session.scalars(query.order_by(Partnership.id).limit(limit)))


def names(session: Session, partnerships: list[Partnership]) -> dict[str, dict[int, str]]:
    """School and organization names for a page of partnerships, in two queries."""
    school_ids = {p.school_id for p in partnerships}
    org_ids = {p.organization_id for p in partnerships}
    schools = session.execute(select(School.id, School.name).where(School.id.in_(school_ids)))
    orgs = session.execute(
        select(Organization.id, Organization.name).where(Organization.id.in_(org_ids))
    )
    return {
        "school": {row_id: name for row_id, name in schools},
        "organization": {row_id: name for row_id, name in orgs},
    }


def offerings_of(session: Session, organization_id: int, offering_ids: list[int]) -> list[Offering]:
    return list(
        session.scalars(
            select(Offering).where(
                Offering.id.in_(offering_ids), Offering.organization_id == organization_id
            )
        )
    )


def live_renewal(session: Session, partnership_id: int) -> Partnership | None:
    """A renewal of this term that was not declined."""
    return session.scalar(
        select(Partnership).where(
            Partnership.renewal_of_id == partnership_id, Partnership.status != "declined"
        )
    )


def goals(session: Session, partnership_id: int) -> list[PartnershipGoal]:
    return list(
        session.scalars(
            select(PartnershipGoal)
            .where(PartnershipGoal.partnership_id == partnership_id)
            .order_by(PartnershipGoal.id)
        )
    )


def readings(session: Session, goal_ids: list[int]) -> list[GoalReading]:
    """Readings of these goals, oldest observation first."""
    return list(
        session.scalars(
            select(GoalReading)
            .where(GoalReading.goal_id.in_(goal_ids))
            .order_by(GoalReading.observed_on, GoalReading.id)
        )
    )


def agreements(session: Session, partnership_id: int) -> list[Agreement]:
    return list(
        session.scalars(
            select(Agreement)
            .where(Agreement.partnership_id == partnership_id)
            .order_by(Agreement.id)
        )
    )


def check_ins(session: Session, partnership_id: int) -> list[CheckIn]:
    return list(
        session.scalars(
            select(CheckIn)
            .where(CheckIn.partnership_id == partnership_id)
            .order_by(CheckIn.held_on.desc(), CheckIn.id.desc())
        )
    )


def reviews(session: Session, partnership_id: int) -> list[PartnershipReview]:
    return list(
        session.scalars(
            select(PartnershipReview)
            .where(PartnershipReview.partnership_id == partnership_id)
            .order_by(PartnershipReview.id)
        )
    )


def track_record(session: Session, organization_id: int) -> dict[str, int]:
    """Counts only: distinct schools served, active and completed terms."""
    serving = (Partnership.organization_id == organization_id, Partnership.status.in_(SERVING))
    schools = session.scalar(
        select(func.count(func.distinct(Partnership.school_id))).where(*serving)
    )
    rows = session.execute(
        select(Partnership.status, func.count()).where(*serving).group_by(Partnership.status)
    )
    by_status = {state: count for state, count in rows}
    return {
        "schools_served": int(schools or 0),
        "active_partnerships": int(by_status.get("active", 0)),
        "completed_partnerships": int(by_status.get("completed", 0)),
    }
