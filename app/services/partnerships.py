"""Use cases for partnerships: proposal, the state machine, renewal, and who acts for which side.

The state machine is one table, `TRANSITIONS`: from each state, the states it may move to and
which side moves it there. A proposal is answered (accepted or declined) by the side that did
not propose it; district callers and the operator act for either side.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.auth.principal import SCHOOL_STAFF, Principal
from app.db import unit_of_work
from app.domain_errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from app.models import Agreement, NeedsAssessment, Partnership, School
from app.repositories import partnerships as repo
from app.repositories.catalog_changes import record_change
from app.schemas.partnerships import PartnershipCreate, PartnershipUpdate, RenewalIn
from app.services import audit
from app.services import organizations as organization_service
from app.services import schools as school_service
from app.services.validation import check_categories, check_grades

SCHOOL, ORGANIZATION = "school", "organization"
BOTH = frozenset({SCHOOL, ORGANIZATION})
OTHER_SIDE = "other side"  # the side that did not propose
EITHER = "either side"
TRANSITIONS: dict[str, dict[str, str]] = {
    "proposed": {"accepted": OTHER_SIDE, "declined": OTHER_SIDE},
    "accepted": {"active": EITHER},
    "active": {"completed": EITHER, "ended": EITHER},
    "declined": {},
    "completed": {},
    "ended": {},
}
NEEDS_REASON = ("declined", "ended")
EDITABLE = ("proposed", "accepted", "active")
RENEWABLE = ("active", "completed")


def next_states(status: str) -> list[str]:
    return list(TRANSITIONS[status])


def sides(principal: Principal, partnership: Partnership, district_id: int | None) -> frozenset:
    """The sides of this partnership the caller acts for."""
    if principal.manages_district(district_id):
        return BOTH
    acts = set()
    if principal.role == SCHOOL_STAFF and partnership.school_id in principal.school_ids:
        acts.add(SCHOOL)
    if principal.member_of(partnership.organization_id):
        acts.add(ORGANIZATION)
    return frozenset(acts)


def district_of(session: Session, partnership: Partnership) -> int | None:
    school = session.get(School, partnership.school_id)
    return school.district_id if school else None


def readable(*, session: Session, principal: Principal, partnership_id: int) -> Partnership:
    """The partnership if the caller is one of its sides or reads its district; else 404."""
    partnership = repo.get(session, partnership_id)
    if partnership is None:
        raise NotFound(f"Partnership {partnership_id} does not exist.")
    district_id = district_of(session, partnership)
    if not (
        principal.reads_school(partnership.school_id, district_id)
        or principal.member_of(partnership.organization_id)
    ):
        raise NotFound(f"Partnership {partnership_id} does not exist.")
    return partnership


def actable(
    *, session: Session, principal: Principal, partnership_id: int
) -> tuple[Partnership, frozenset]:
    """The partnership and the sides the caller acts for; readers who act for none get 403."""
    partnership = readable(session=session, principal=principal, partnership_id=partnership_id)
    acting = sides(principal, partnership, district_of(session, partnership))
    if not acting:
        raise Forbidden(f"You may read partnership {partnership_id} but not change it.")
    return partnership, acting


def party_for(acting: frozenset, party: str | None, loc: list[str | int]) -> str:
    """The side a signature or review is for: the caller's own, or the one named."""
    if party is None:
        if len(acting) > 1:
            raise InvalidInput(loc, "Name the party (school or organization) you act for.")
        return next(iter(acting))
    if party not in acting:
        raise Forbidden(f"You do not act for the {party} side of this partnership.")
    return party


def record(
    session: Session,
    principal: Principal,
    partnership: Partnership,
    *,
    action: str,
    resource_type: str = "partnership",
    resource_id: object = None,
    fields: Any = (),
) -> None:
    """An audit event in the district of the partnership's school."""
    audit.record(
        session,
        principal,
        action=action,
        resource_type=resource_type,
        resource_id=partnership.id if resource_id is None else resource_id,
        district_id=district_of(session, partnership),
        fields=fields,
    )


def add_part(
    session: Session,
    principal: Principal,
    partnership: Partnership,
    row: Any,
    *,
    resource_type: str,
    fields: Any,
    conflict: str,
) -> None:
    """Store a record that belongs to the partnership (a goal, reading, agreement, check-in or
    review) and its audit event, in one transaction."""
    with unit_of_work(session, conflict=conflict):
        session.add(row)
        session.flush()
        record(
            session,
            principal,
            partnership,
            action="create",
            resource_type=resource_type,
            resource_id=row.id,
            fields=fields,
        )


def create(*, session: Session, principal: Principal, data: PartnershipCreate) -> Partnership:
    """Propose a partnership: school staff for their school, members for their organization,
    district callers for their district's schools (as either side)."""
    school = school_service.get(session=session, school_id=data.school_id)
    org = organization_service.visible(
        session=session, principal=principal, organization_id=data.organization_id
    )
    draft = Partnership(school_id=school.id, organization_id=org.id)
    acting = sides(principal, draft, school.district_id)
    if not acting:
        raise Forbidden(
            "Propose partnerships for your own school or your own organization, or as your "
            "district for its schools."
        )
    proposed_by = data.proposed_by or (SCHOOL if SCHOOL in acting else ORGANIZATION)
    if proposed_by not in acting:
        raise Forbidden(f"You do not act for the {proposed_by} side.")
    partnership = Partnership(
        school_id=school.id,
        organization_id=org.id,
        status="proposed",
        proposed_by=proposed_by,
        term_start=data.term_start,
        shares_student_data=data.shares_student_data,
    )
    changes = data.model_dump(exclude_unset=True)
    _apply(session, partnership, changes, ["body"])
    with unit_of_work(session, conflict="The partnership conflicts with an existing one."):
        session.add(partnership)
        session.flush()
        record(session, principal, partnership, action="create", fields=changes)
    return partnership


def update(
    *, session: Session, principal: Principal, partnership_id: int, data: PartnershipUpdate
) -> Partnership:
    """Change the terms while the partnership is proposed, accepted or active."""
    partnership, _ = actable(session=session, principal=principal, partnership_id=partnership_id)
    if partnership.status not in EDITABLE:
        raise Conflict(f"A {partnership.status} partnership is closed; renew it instead.")
    changes = data.model_dump(exclude_unset=True)
    if "shares_student_data" in changes and partnership.status == "active":
        raise Conflict("Data sharing is settled before activation; it cannot change now.")
    _apply(session, partnership, changes, ["body"])
    with unit_of_work(session, conflict="The partnership changed meanwhile."):
        session.flush()
        record(session, principal, partnership, action="update", fields=changes)
    return partnership


def _apply(
    session: Session, partnership: Partnership, changes: dict[str, Any], loc: list[str | int]
) -> None:
    for field in (
        "term_start",
        "term_end",
        "need_categories",
        "needs_assessment_id",
        "students_served",
        "grade_low",
        "grade_high",
        "schedule",
        "shares_student_data",
    ):
        if field in changes:
            setattr(partnership, field, changes[field])
    if changes.get("need_categories"):
        check_categories(changes["need_categories"], [*loc, "need_categories"])
    check_grades(partnership.grade_low, partnership.grade_high, loc)
    if partnership.term_end is not None and partnership.term_end < partnership.term_start:
        raise InvalidInput([*loc, "term_end"], "term_end is before term_start.")
    if changes.get("needs_assessment_id") is not None:
        assessment = session.get(NeedsAssessment, changes["needs_assessment_id"])
        if assessment is None or assessment.school_id != partnership.school_id:
            raise InvalidInput(
                [*loc, "needs_assessment_id"], "Not a needs assessment of this school."
            )
    if "offering_ids" in changes:
        ids = changes["offering_ids"] or []
        offerings = repo.offerings_of(session, partnership.organization_id, ids)
        found = {o.id for o in offerings}
        for n, offering_id in enumerate(ids):
            if offering_id not in found:
                raise InvalidInput(
                    [*loc, "offering_ids", n],
                    f"Offering {offering_id} is not one of this organization's.",
                )
        partnership.offerings = offerings


def transition(
    *, session: Session, principal: Principal, partnership_id: int, to: str, reason: str | None
) -> Partnership:
    """Move the partnership along the state machine; nothing changes when the move is refused."""
    partnership, acting = actable(
        session=session, principal=principal, partnership_id=partnership_id
    )
    allowed = TRANSITIONS[partnership.status]
    if to not in allowed:
        raise InvalidTransition("partnership", partnership.status, to, list(allowed))
    who = allowed[to]
    if who == OTHER_SIDE and partnership.proposed_by in BOTH:
        answering = next(iter(BOTH - {partnership.proposed_by}))
        if answering not in acting:
            raise Forbidden(
                f"The {partnership.proposed_by} proposed this partnership; the {answering} "
                f"(or the district) answers it."
            )
    if to in NEEDS_REASON and not (reason or "").strip():
        raise InvalidInput(["body", "reason"], f"Say why the partnership is {to}.")
    if to == "accepted" and partnership.term_end is None:
        raise InvalidInput(["body", "term_end"], "Set term_end (PATCH) before accepting.")
    if to == "active" and partnership.shares_student_data and not _dsa_signed(session, partnership):
        raise Conflict(
            "This partnership shares student data: its data-sharing agreement must be signed "
            "by both the school and the organization before it becomes active."
        )
    partnership.status = to
    partnership.status_reason = reason if to in NEEDS_REASON else None
    with unit_of_work(session, conflict="The partnership changed meanwhile."):
        session.flush()
        record(session, principal, partnership, action=to, fields=["status", "status_reason"])
        # A partner's track record is part of its ranking: every worker's index catches up.
        record_change(session, organization_id=partnership.organization_id)
    return partnership


def _dsa_signed(session: Session, partnership: Partnership) -> bool:
    return any(
        a.kind == "dsa" and fully_signed(a) for a in repo.agreements(session, partnership.id)
    )


def fully_signed(agreement: Agreement) -> bool:
    return {s.party for s in agreement.signatures} >= BOTH


def renew(
    *, session: Session, principal: Principal, partnership_id: int, data: RenewalIn
) -> Partnership:
    """A new proposed term linked to this active or completed one, carrying its terms over."""
    previous, acting = actable(session=session, principal=principal, partnership_id=partnership_id)
    if previous.status not in RENEWABLE:
        raise Conflict(
            f"Only an active or completed partnership can be renewed; this one is "
            f"{previous.status}."
        )
    if repo.live_renewal(session, previous.id) is not None:
        raise Conflict(f"Partnership {previous.id} already has a renewal.")
    if data.term_start <= previous.term_start:
        raise InvalidInput(["body", "term_start"], "A renewal starts after the term it renews.")
    if data.term_end is not None and data.term_end < data.term_start:
        raise InvalidInput(["body", "term_end"], "term_end is before term_start.")
    renewal = Partnership(
        school_id=previous.school_id,
        organization_id=previous.organization_id,
        status="proposed",
        proposed_by=SCHOOL if SCHOOL in acting else ORGANIZATION,
        term_start=data.term_start,
        term_end=data.term_end,
        need_categories=list(previous.need_categories),
        needs_assessment_id=previous.needs_assessment_id,
        students_served=previous.students_served,
        grade_low=previous.grade_low,
        grade_high=previous.grade_high,
        schedule=previous.schedule,
        shares_student_data=previous.shares_student_data,
        renewal_of_id=previous.id,
        offerings=list(previous.offerings),
    )
    with unit_of_work(session, conflict="The partnership changed meanwhile."):
        session.add(renewal)
        session.flush()
        record(session, principal, renewal, action="renew", fields=["renewal_of_id"])
    return renewal


def list_page(
    *,
    session: Session,
    principal: Principal,
    school_id: int | None,
    organization_id: int | None,
    statuses: tuple[str, ...],
    after_id: int | None,
    limit: int,
) -> list[Partnership]:
    """The partnerships within the caller's reach, by id."""
    return repo.list_page(
        session,
        principal,
        school_id=school_id,
        organization_id=organization_id,
        statuses=statuses,
        after_id=after_id,
        limit=limit,
    )


def names(*, session: Session, partnerships: list[Partnership]) -> dict[str, dict[int, str]]:
    return repo.names(session, partnerships)


def track_record(*, session: Session, principal: Principal, organization_id: int) -> dict:
    """How many schools a visible organization has served: counts, never school names."""
    org = organization_service.visible(
        session=session, principal=principal, organization_id=organization_id
    )
    return {"organization_id": org.id, **repo.track_record(session, org.id)}
