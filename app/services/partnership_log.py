"""A partnership's running record: the check-in log and each side's end-of-term review."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.db import unit_of_work
from app.domain_errors import Conflict, InvalidInput
from app.models import CheckIn, PartnershipReview
from app.repositories import partnerships as repo
from app.schemas.partnerships import CheckInCreate, ReviewCreate
from app.services import partnerships

LOGGED_STATES = ("proposed", "accepted", "active", "completed", "ended")
REVIEWED_STATES = ("active", "completed", "ended")


def add_check_in(
    *, session: Session, principal: Principal, partnership_id: int, data: CheckInCreate
) -> CheckIn:
    """Log a meeting, call or message, with the next step and when it is due."""
    partnership, _ = partnerships.actable(
        session=session, principal=principal, partnership_id=partnership_id
    )
    if partnership.status not in LOGGED_STATES:
        raise Conflict(f"A {partnership.status} partnership keeps no log.")
    if data.next_step_due is not None and data.next_step_due < data.held_on:
        raise InvalidInput(["body", "next_step_due"], "next_step_due is before the check-in.")
    if data.next_step_due is not None and not data.next_step:
        raise InvalidInput(["body", "next_step"], "Say what the next step due then is.")
    check_in = CheckIn(partnership_id=partnership.id, **data.model_dump())
    partnerships.add_part(
        session,
        principal,
        partnership,
        check_in,
        resource_type="check_in",
        fields=data.model_dump(exclude_unset=True),
        conflict="The check-in conflicts with existing data.",
    )
    return check_in


def check_ins(*, session: Session, principal: Principal, partnership_id: int) -> list[CheckIn]:
    """Newest first."""
    partnerships.readable(session=session, principal=principal, partnership_id=partnership_id)
    return repo.check_ins(session, partnership_id)


def add_review(
    *, session: Session, principal: Principal, partnership_id: int, data: ReviewCreate
) -> PartnershipReview:
    """One review per side, once the partnership has run: satisfaction and renew/change/end."""
    partnership, acting = partnerships.actable(
        session=session, principal=principal, partnership_id=partnership_id
    )
    if partnership.status not in REVIEWED_STATES:
        raise Conflict(f"A {partnership.status} partnership has not run yet; review it later.")
    party = partnerships.party_for(acting, data.party, ["body", "party"])
    if any(r.party == party for r in repo.reviews(session, partnership.id)):
        raise Conflict(f"The {party} has already reviewed partnership {partnership.id}.")
    review = PartnershipReview(
        partnership_id=partnership.id, **data.model_dump(exclude={"party"}), party=party
    )
    with unit_of_work(session, conflict=f"The {party} has already reviewed this partnership."):
        session.add(review)
        session.flush()
        partnerships.record(
            session,
            principal,
            partnership,
            action="create",
            resource_type="partnership_review",
            resource_id=review.id,
            fields=data.model_dump(exclude_unset=True),
        )
    return review


def reviews(
    *, session: Session, principal: Principal, partnership_id: int
) -> list[PartnershipReview]:
    partnerships.readable(session=session, principal=principal, partnership_id=partnership_id)
    return repo.reviews(session, partnership_id)
