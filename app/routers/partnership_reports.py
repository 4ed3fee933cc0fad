"""HTTP for the district's partnership view (JSON or CSV) and the partnership calendars
(iCalendar) of a school, an organization and a district."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from app.deps import PrincipalDep, SessionDep
from app.representations import CSV, csv_table
from app.schemas.partnership_reports import DistrictPartnershipSummary, SummaryTable
from app.services import partnership_calendar as calendars
from app.services import partnership_reports as service

router = APIRouter(tags=["partnerships"])
ICS = "text/calendar"
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
CALENDAR_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {ICS: {"schema": {"type": "string"}}},
        "description": "An iCalendar (RFC 5545) feed of all-day events.",
    }
}
COLUMNS: dict[str, tuple[str, ...]] = {
    "active": (
        "partnership_id",
        "school_id",
        "school_name",
        "organization_id",
        "organization_name",
        "categories",
        "term_start",
        "term_end",
    ),
    "by_category": ("category", "name", "partnerships", "schools", "organizations"),
    "by_need": ("category", "name", "needs", "met_by_partnership"),
    "expiring_agreements": (
        "agreement_id",
        "partnership_id",
        "kind",
        "school_id",
        "school_name",
        "organization_id",
        "organization_name",
        "date",
        "what",
        "days_left",
        "signed_by_both",
    ),
    "goals_off_track": (
        "goal_id",
        "partnership_id",
        "school_id",
        "school_name",
        "organization_id",
        "organization_name",
        "category",
        "indicator",
        "unit",
        "baseline_value",
        "target_value",
        "target_date",
        "latest_value",
        "latest_on",
        "progress",
        "expected",
    ),
    "schools_without_top_need_partnership": (
        "school_id",
        "school_name",
        "need_id",
        "category",
        "category_name",
        "priority",
    ),
}


@router.get(
    "/v1/districts/{district_id}/partnerships/summary",
    response_model=DistrictPartnershipSummary,
    responses={200: {"content": {CSV: {"schema": {"type": "string"}}}}},
    summary="The district's partnerships: active by category and need, expiring agreements, "
    "goals off track, schools whose top need has no partnership",
)
def district_summary(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    district_id: Id,
    within_days: Annotated[
        int, Query(ge=0, le=3650, description="Agreements ending or up for renewal this soon")
    ] = 60,
    format: Annotated[
        Literal["json", "csv"] | None, Query(description="Instead of the Accept header")
    ] = None,
    table: Annotated[
        SummaryTable, Query(description="The list a CSV answer holds (one per request)")
    ] = "active",
):
    """Open partnerships of the district's schools. `active` lists each active partnership;
    `by_category` counts them per top-level category; `by_need` counts the district's current
    needs (latest assessments) per category and those an active partnership of the school
    addresses (its category, parent or a child: the gap analysis counts them as met).
    `expiring_agreements`: MOUs and DSAs whose term ends or renewal date falls within
    `within_days`. `goals_off_track`: goals of active partnerships whose latest reading lags the
    straight line from baseline to target (or with no reading past the target date).
    `schools_without_top_need_partnership`: schools whose highest-priority need no active
    partnership addresses.

    CSV (`format=csv` or `Accept: text/csv`): the list named by `table`."""
    summary = service.district_summary(
        session=session, principal=principal, district_id=district_id, within_days=within_days
    )
    wants_csv = format == "csv" or (format is None and CSV in request.headers.get("accept", ""))
    if wants_csv:
        rows = [item.model_dump() for item in getattr(summary, table)]
        return csv_table(rows, COLUMNS[table], None)
    return summary


def _ics(body: bytes, name: str) -> Response:
    return Response(
        body,
        media_type=f"{ICS}; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{name}.ics"'},
    )


@router.get(
    "/v1/schools/{school_id}/partnerships.ics",
    response_class=Response,
    responses=CALENDAR_RESPONSE,
    summary="A school's partnership calendar (iCalendar)",
)
def school_calendar(session: SessionDep, principal: PrincipalDep, school_id: Id) -> Response:
    """Goal target dates, agreement expiries and renewal dates and check-in next steps of the
    school's proposed, accepted and active partnerships. Send a bearer token or an API key."""
    body = calendars.school_feed(session=session, principal=principal, school_id=school_id)
    return _ics(body, f"school-{school_id}-partnerships")


@router.get(
    "/v1/organizations/{organization_id}/partnerships.ics",
    response_class=Response,
    responses=CALENDAR_RESPONSE,
    summary="An organization's partnership calendar (iCalendar)",
)
def organization_calendar(
    session: SessionDep, principal: PrincipalDep, organization_id: Id
) -> Response:
    """As the school calendar, for the organization's partnerships; a district's callers get
    those with their own district's schools."""
    body = calendars.organization_feed(
        session=session, principal=principal, organization_id=organization_id
    )
    return _ics(body, f"organization-{organization_id}-partnerships")


@router.get(
    "/v1/districts/{district_id}/partnerships.ics",
    response_class=Response,
    responses=CALENDAR_RESPONSE,
    summary="A district's partnership calendar (iCalendar)",
)
def district_calendar(session: SessionDep, principal: PrincipalDep, district_id: Id) -> Response:
    """As the school calendar, for every school of the district."""
    body = calendars.district_feed(session=session, principal=principal, district_id=district_id)
    return _ics(body, f"district-{district_id}-partnerships")
