"""HTTP for /v1/partnerships: proposals, the state machine, renewals, goals and progress,
check-ins and reviews; and an organization's public track record."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status
from sqlalchemy.orm import Session

from app.deps import PrincipalDep, SessionDep
from app.representations import agreement_out, partnership_outs
from app.routers.params import PageDep
from app.schemas.agreements import AgreementCreate, AgreementOut
from app.schemas.pages import Page
from app.schemas.partnerships import (
    CheckInCreate,
    CheckInOut,
    GoalCreate,
    GoalOut,
    PartnershipCreate,
    PartnershipOut,
    PartnershipUpdate,
    ProgressOut,
    RenewalIn,
    ReviewCreate,
    ReviewOut,
    Status,
    TrackRecordOut,
    TransitionIn,
)
from app.services import agreements as agreement_service
from app.services import goals as goal_service
from app.services import partnership_log
from app.services import partnerships as service

router = APIRouter(prefix="/v1/partnerships", tags=["partnerships"])
track_records = APIRouter(prefix="/v1/organizations", tags=["partnerships"])
PartnershipId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Partnership id")]
Id = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


def _outs(session: Session, partnerships: list[Any]) -> list[PartnershipOut]:
    """Shaped with their sides' names, read by the service (two queries for a whole page)."""
    return partnership_outs(partnerships, service.names(session=session, partnerships=partnerships))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PartnershipOut,
    summary="Propose a partnership",
    responses={404: {"description": "`school_id`, `organization_id` or an offering names nothing"}},
)
def create_partnership(
    data: PartnershipCreate, session: SessionDep, principal: PrincipalDep, response: Response
):
    """School staff request a partner for their school (`proposed_by: school`); organization
    members offer one to a school (`proposed_by: organization`). The other side answers it
    through `POST /v1/partnerships/{id}/transitions`."""
    partnership = service.create(session=session, principal=principal, data=data)
    response.headers["Location"] = f"/v1/partnerships/{partnership.id}"
    return _outs(session, [partnership])[0]


@router.get("", response_model=Page[PartnershipOut], summary="List partnerships")
def list_partnerships(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    school_id: Id = None,
    organization_id: Id = None,
    status: Annotated[list[Status], Query()] = [],
):
    """Those within the caller's reach: its schools', its organizations', its district's."""
    cursor = page.cursor(near=False)
    rows = service.list_page(
        session=session,
        principal=principal,
        school_id=school_id,
        organization_id=organization_id,
        statuses=tuple(status),
        after_id=cursor.id if cursor else None,
        limit=page.limit + 1,
    )
    next_cursor = str(rows[page.limit - 1].id) if len(rows) > page.limit else None
    return Page[PartnershipOut](
        items=_outs(session, rows[: page.limit]),
        next_cursor=next_cursor,
        limit=page.limit,
    )


@router.get("/{partnership_id}", response_model=PartnershipOut, summary="Get a partnership")
def get_partnership(partnership_id: PartnershipId, session: SessionDep, principal: PrincipalDep):
    partnership = service.readable(
        session=session, principal=principal, partnership_id=partnership_id
    )
    return _outs(session, [partnership])[0]


@router.patch(
    "/{partnership_id}", response_model=PartnershipOut, summary="Change a partnership's terms"
)
def update_partnership(
    partnership_id: PartnershipId,
    data: PartnershipUpdate,
    session: SessionDep,
    principal: PrincipalDep,
):
    """While proposed, accepted or active; `shares_student_data` is settled before activation."""
    partnership = service.update(
        session=session, principal=principal, partnership_id=partnership_id, data=data
    )
    return _outs(session, [partnership])[0]


@router.post(
    "/{partnership_id}/transitions",
    response_model=PartnershipOut,
    summary="Move a partnership to its next state",
    responses={
        409: {"description": "Not allowed from the current state; `allowed` lists those that are"}
    },
)
def transition_partnership(
    partnership_id: PartnershipId, data: TransitionIn, session: SessionDep, principal: PrincipalDep
):
    """proposed → accepted | declined (by the side that did not propose; declining needs a
    `reason`; accepting needs a `term_end`), accepted → active (a partnership that shares
    student data needs its DSA signed by both parties), active → completed | ended (ending
    needs a `reason`). District callers act for either side. A refused move is a 409 whose
    `allowed` member lists the states allowed from the current one; nothing changes."""
    partnership = service.transition(
        session=session,
        principal=principal,
        partnership_id=partnership_id,
        to=data.to,
        reason=data.reason,
    )
    return _outs(session, [partnership])[0]


@router.post(
    "/{partnership_id}/renewals",
    status_code=status.HTTP_201_CREATED,
    response_model=PartnershipOut,
    summary="Propose the next term of an active or completed partnership",
)
def renew_partnership(
    partnership_id: PartnershipId,
    data: RenewalIn,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
):
    """A new proposed partnership (`renewal_of_id` = this one) with the same terms, answered
    by the other side like any proposal."""
    renewal = service.renew(
        session=session, principal=principal, partnership_id=partnership_id, data=data
    )
    response.headers["Location"] = f"/v1/partnerships/{renewal.id}"
    return _outs(session, [renewal])[0]


@router.post(
    "/{partnership_id}/goals",
    status_code=status.HTTP_201_CREATED,
    response_model=GoalOut,
    summary="Add a SMART goal",
)
def create_goal(
    partnership_id: PartnershipId,
    data: GoalCreate,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
):
    """Indicators: attendance_rate, chronic_absence_pct, course_pass_rate (%),
    participation_count (students), survey_score (points), or custom (`indicator_name` and
    `unit` required). The target differs from the baseline and falls inside the term."""
    goal = goal_service.create(
        session=session, principal=principal, partnership_id=partnership_id, data=data
    )
    response.headers["Location"] = f"/v1/goals/{goal.id}"
    return goal


@router.get(
    "/{partnership_id}/goals", response_model=list[GoalOut], summary="A partnership's goals"
)
def list_goals(partnership_id: PartnershipId, session: SessionDep, principal: PrincipalDep):
    return goal_service.goals_of(
        session=session, principal=principal, partnership_id=partnership_id
    )


@router.get(
    "/{partnership_id}/progress",
    response_model=list[ProgressOut],
    summary="Each goal's latest reading against its baseline and target",
)
def goal_progress(partnership_id: PartnershipId, session: SessionDep, principal: PrincipalDep):
    """`fraction` = (latest - baseline) / (target - baseline); on track when it is at least the
    straight-line expectation from baseline_date to target_date on the reading's date."""
    return goal_service.progress_of(
        session=session, principal=principal, partnership_id=partnership_id
    )


@router.post(
    "/{partnership_id}/agreements",
    status_code=status.HTTP_201_CREATED,
    response_model=AgreementOut,
    tags=["agreements"],
    summary="Record an MOU or a data-sharing agreement",
)
def create_agreement(
    partnership_id: PartnershipId,
    data: AgreementCreate,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
):
    agreement = agreement_service.create(
        session=session, principal=principal, partnership_id=partnership_id, data=data
    )
    response.headers["Location"] = f"/v1/agreements/{agreement.id}"
    return agreement_out(agreement)


@router.get(
    "/{partnership_id}/agreements",
    response_model=list[AgreementOut],
    tags=["agreements"],
    summary="A partnership's agreements",
)
def list_agreements(partnership_id: PartnershipId, session: SessionDep, principal: PrincipalDep):
    rows = agreement_service.of_partnership(
        session=session, principal=principal, partnership_id=partnership_id
    )
    return [agreement_out(a) for a in rows]


@router.post(
    "/{partnership_id}/check-ins",
    status_code=status.HTTP_201_CREATED,
    response_model=CheckInOut,
    summary="Log a check-in",
)
def create_check_in(
    partnership_id: PartnershipId, data: CheckInCreate, session: SessionDep, principal: PrincipalDep
):
    return partnership_log.add_check_in(
        session=session, principal=principal, partnership_id=partnership_id, data=data
    )


@router.get(
    "/{partnership_id}/check-ins", response_model=list[CheckInOut], summary="The check-in log"
)
def list_check_ins(partnership_id: PartnershipId, session: SessionDep, principal: PrincipalDep):
    """Newest first."""
    return partnership_log.check_ins(
        session=session, principal=principal, partnership_id=partnership_id
    )


@router.post(
    "/{partnership_id}/reviews",
    status_code=status.HTTP_201_CREATED,
    response_model=ReviewOut,
    summary="One side's end-of-term review",
)
def create_review(
    partnership_id: PartnershipId, data: ReviewCreate, session: SessionDep, principal: PrincipalDep
):
    """Once active: satisfaction 1 to 5 and renew / change / end; one review per side."""
    return partnership_log.add_review(
        session=session, principal=principal, partnership_id=partnership_id, data=data
    )


@router.get(
    "/{partnership_id}/reviews", response_model=list[ReviewOut], summary="Both sides' reviews"
)
def list_reviews(partnership_id: PartnershipId, session: SessionDep, principal: PrincipalDep):
    return partnership_log.reviews(
        session=session, principal=principal, partnership_id=partnership_id
    )


@track_records.get(
    "/{organization_id}/track-record",
    response_model=TrackRecordOut,
    summary="How many schools an organization has served",
)
def track_record(
    organization_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
    principal: PrincipalDep,
):
    """Counts of active and completed partnerships and distinct schools served; public for
    verified organizations, and never names a school."""
    return service.track_record(
        session=session, principal=principal, organization_id=organization_id
    )
