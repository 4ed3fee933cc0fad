"""A principal's partnership pages: request a partnership from an offering or organization, and
follow it — status and the moves open to this side, goals with their progress, check-ins.
Thin around app/services/partnerships*.py and goals.py, which check who may do what."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from app.deps import SessionDep
from app.domain_errors import InvalidInput
from app.pages.forms import checked, number, posted, text, validated
from app.pages.session import CsrfCheckedDep, SignedInDep, admit
from app.pages.templating import redirect, render
from app.schemas.partnerships import CheckInCreate, PartnershipCreate, TransitionIn
from app.services import goals, offerings, organizations, partnership_log, partnerships, schools
from app.taxonomy import load_taxonomy

router = APIRouter(include_in_schema=False)
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1)]
QueryId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
CHANNELS = ("meeting", "call", "email", "visit", "video", "other")


@router.get("/schools/{school_id}/partnerships", response_class=HTMLResponse)
def school_partnerships(
    request: Request, school_id: RecordId, session: SessionDep, principal: SignedInDep
) -> HTMLResponse:
    """The school's partnerships, newest first, with their status."""
    admit(principal, "GET", "/v1/partnerships")
    school = schools.readable(session=session, principal=principal, school_id=school_id)
    rows = partnerships.list_page(
        session=session,
        principal=principal,
        school_id=school_id,
        organization_id=None,
        statuses=(),
        after_id=None,
        limit=200,
    )
    names = partnerships.names(session=session, partnerships=rows)
    return render(
        request,
        "school_partnerships.html",
        {"school": school, "partnerships": rows[::-1], "names": names},
    )


@router.get("/schools/{school_id}/partnerships/new", response_class=HTMLResponse)
def request_form(
    request: Request,
    school_id: RecordId,
    session: SessionDep,
    principal: SignedInDep,
    offering_id: QueryId = None,
    organization_id: QueryId = None,
) -> HTMLResponse:
    """Propose a partnership to an organization, for one of its offerings or in general."""
    admit(principal, "POST", "/v1/partnerships")
    context = _request_context(session, principal, school_id, offering_id, organization_id)
    return render(request, "partnership_new.html", context | {"errors": {}, "values": {}})


@router.post("/schools/{school_id}/partnerships/new", dependencies=[CsrfCheckedDep])
async def request_partnership(
    request: Request, school_id: RecordId, session: SessionDep, principal: SignedInDep
) -> Response:
    """File the proposal (POST /v1/partnerships) and show it."""
    admit(principal, "POST", "/v1/partnerships")
    form = await request.form()
    organization_id = number(form, "organization_id")
    offering_id = number(form, "offering_id")
    context = _request_context(
        session,
        principal,
        school_id,
        offering_id if isinstance(offering_id, int) else None,
        organization_id if isinstance(organization_id, int) else None,
    )

    def propose() -> Any:
        data = validated(PartnershipCreate, _proposal(form, school_id, context))
        return partnerships.create(session=session, principal=principal, data=data)

    def again(errors: dict[str, str], status: int) -> Response:
        values: dict[str, Any] = {k: form.get(k) for k in form}
        values["need_categories"] = checked(form, "need_categories")
        page = context | {"errors": errors, "values": values}
        return render(request, "partnership_new.html", page, status_code=status)

    return posted(
        propose, done=lambda partnership: redirect(f"/partnerships/{partnership.id}"), again=again
    )


def _request_context(
    session: Any, principal: Any, school_id: int, offering_id: int | None, org_id: int | None
) -> dict[str, Any]:
    school = schools.readable(session=session, principal=principal, school_id=school_id)
    offering = None
    if offering_id is not None:
        offering = offerings.visible(session=session, principal=principal, offering_id=offering_id)
        org_id = offering.organization_id
    if org_id is None:
        raise InvalidInput(["query", "organization_id"], "Name the organization to ask.")
    organization = organizations.visible(
        session=session, principal=principal, organization_id=org_id
    )
    latest = schools.assessments_page(
        session=session, principal=principal, school_id=school_id, cursor=None, limit=1
    )
    needs = (
        [n.category for n in sorted(latest[0].needs, key=lambda n: n.priority)] if latest else []
    )
    addressed = set(offering.categories) if offering is not None else set()
    return {
        "school": school,
        "organization": organization,
        "offering": offering,
        "needs": needs,
        "suggested": [
            n for n in needs if any(n.startswith(a) or a.startswith(n) for a in addressed)
        ],
        "assessment_id": latest[0].id if latest else None,
        "today": dt.date.today().isoformat(),
    }


def _proposal(form: FormData, school_id: int, context: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "school_id": school_id,
        "organization_id": context["organization"].id,
        "term_start": text(form, "term_start"),
        "need_categories": checked(form, "need_categories"),
        "shares_student_data": form.get("shares_student_data") == "yes",
    }
    if context["offering"] is not None:
        data["offering_ids"] = [context["offering"].id]
    if context["assessment_id"] is not None and data["need_categories"]:
        data["needs_assessment_id"] = context["assessment_id"]
    for name in ("term_end", "schedule"):
        if (value := text(form, name)) is not None:
            data[name] = value
    if (students := number(form, "students_served")) is not None:
        data["students_served"] = students
    return data


@router.get("/partnerships/{partnership_id}", response_class=HTMLResponse)
def partnership_page(
    request: Request, partnership_id: RecordId, session: SessionDep, principal: SignedInDep
) -> HTMLResponse:
    """One partnership: status and the moves open to this side, goals and progress,
    check-ins."""
    return _partnership(request, session, principal, partnership_id, {}, 200)


def _partnership(  # type: ignore[no-untyped-def]
    request: Request, session, principal, partnership_id: int, errors: dict, status: int
) -> HTMLResponse:
    admit(principal, "GET", "/v1/partnerships/{partnership_id}")
    partnership = partnerships.readable(
        session=session, principal=principal, partnership_id=partnership_id
    )
    names = partnerships.names(session=session, partnerships=[partnership])
    goal_rows = goals.goals_of(session=session, principal=principal, partnership_id=partnership_id)
    progress = {
        p.goal_id: p
        for p in goals.progress_of(
            session=session, principal=principal, partnership_id=partnership_id
        )
    }
    acting = partnerships.sides(
        principal, partnership, partnerships.district_of(session, partnership)
    )
    return render(
        request,
        "partnership.html",
        {
            "p": partnership,
            "school_name": names["school"].get(partnership.school_id, ""),
            "organization_name": names["organization"].get(partnership.organization_id, ""),
            "goals": [(g, progress.get(g.id)) for g in goal_rows],
            "check_ins": partnership_log.check_ins(
                session=session, principal=principal, partnership_id=partnership_id
            ),
            "moves": partnerships.next_states(partnership.status) if acting else [],
            "acting": acting,
            "channels": CHANNELS,
            "errors": errors,
            "today": dt.date.today().isoformat(),
            "taxonomy": load_taxonomy(),
        },
        status_code=status,
    )


@router.post("/partnerships/{partnership_id}/transitions", dependencies=[CsrfCheckedDep])
async def move(
    request: Request, partnership_id: RecordId, session: SessionDep, principal: SignedInDep
) -> Response:
    """Accept, decline, start, complete or end (the state machine says who may)."""
    admit(principal, "POST", "/v1/partnerships/{partnership_id}/transitions")
    form = await request.form()

    def transition() -> None:
        data = validated(TransitionIn, {"to": text(form, "to"), "reason": text(form, "reason")})
        partnerships.transition(
            session=session,
            principal=principal,
            partnership_id=partnership_id,
            to=data.to,
            reason=data.reason,
        )

    return _on_partnership(request, session, principal, partnership_id, transition)


@router.post("/partnerships/{partnership_id}/check-ins", dependencies=[CsrfCheckedDep])
async def check_in(
    request: Request, partnership_id: RecordId, session: SessionDep, principal: SignedInDep
) -> Response:
    """Log a meeting, call or message with its next step."""
    admit(principal, "POST", "/v1/partnerships/{partnership_id}/check-ins")
    form = await request.form()
    participants = [p.strip() for p in (text(form, "participants") or "").split(",") if p.strip()]

    def add() -> None:
        data = validated(
            CheckInCreate,
            {
                "held_on": text(form, "held_on"),
                "channel": text(form, "channel"),
                "participants": participants,
                "notes": text(form, "notes"),
                "next_step": text(form, "next_step"),
                "next_step_due": text(form, "next_step_due"),
            },
        )
        partnership_log.add_check_in(
            session=session, principal=principal, partnership_id=partnership_id, data=data
        )

    return _on_partnership(request, session, principal, partnership_id, add, "#check-ins")


def _on_partnership(  # type: ignore[no-untyped-def]
    request: Request,
    session,
    principal,
    partnership_id: int,
    action: Callable[[], None],
    anchor: str = "",
) -> Response:
    """A form of the partnership's page: back to the page (at `anchor`) once done, else the
    page again with the form's messages."""
    return posted(
        action,
        done=lambda _: redirect(f"/partnerships/{partnership_id}{anchor}"),
        again=lambda errors, status: _partnership(
            request, session, principal, partnership_id, errors, status
        ),
    )
