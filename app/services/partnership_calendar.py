"""iCalendar (RFC 5545) feeds of what is coming up in open partnerships (proposed, accepted,
active): goal target dates, agreement expiries and renewal dates, and the due dates of the next
steps agreed at check-ins; per school, organization or district.

Events are all-day. A UID names the record and the date it carries (`goal-7-target@…`), and
DTSTAMP is the partnership's last change, so the same data gives byte-identical feeds and a
calendar client updates events in place rather than duplicating them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from icalendar import Calendar, Event
from sqlalchemy import Row
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.domain_errors import Forbidden
from app.repositories import partnership_reports as repo
from app.services import districts, organizations, schools
from app.services.partnership_reports import OPEN

UID_DOMAIN = "partnermap.dev"
INDICATORS = {
    "attendance_rate": "attendance rate",
    "chronic_absence_pct": "chronic absence",
    "course_pass_rate": "course pass rate",
    "participation_count": "participation",
    "survey_score": "survey score",
}
AGREEMENTS = {"mou": "MOU", "dsa": "Data-sharing agreement"}


def school_feed(*, session: Session, principal: Principal, school_id: int) -> bytes:
    """The feed of a school's partnerships, for its staff, its district and the operator."""
    school = schools.readable(session=session, principal=principal, school_id=school_id)
    rows = repo.partnerships(session, statuses=OPEN, school_id=school.id)
    return _feed(session, rows, f"PartnerMap partnerships: {school.name}")


def organization_feed(*, session: Session, principal: Principal, organization_id: int) -> bytes:
    """An organization's partnerships: all for its members and the operator; a district's
    people get those with their own district's schools."""
    organization = organizations.get(session=session, organization_id=organization_id)
    if principal.is_admin or principal.member_of(organization.id):
        district_id = None
    elif principal.district_id is not None and principal.reads_district(principal.district_id):
        district_id = principal.district_id
    else:
        raise Forbidden(f"Organization {organization_id}'s partnerships are for its members.")
    rows = repo.partnerships(
        session, statuses=OPEN, organization_id=organization.id, district_id=district_id
    )
    return _feed(session, rows, f"PartnerMap partnerships: {organization.name}")


def district_feed(*, session: Session, principal: Principal, district_id: int) -> bytes:
    """Every open partnership of the district's schools, for its admins and keys."""
    district = districts.get(session=session, district_id=district_id)
    if not principal.reads_district(district.id):
        raise Forbidden(f"District {district_id}'s partnerships are for its own people.")
    rows = repo.partnerships(session, statuses=OPEN, district_id=district.id)
    return _feed(session, rows, f"PartnerMap partnerships: {district.name}")


def _feed(session: Session, rows: list[Row[Any]], name: str) -> bytes:
    by_id = {p.id: p for p in rows}
    calendar = Calendar()
    calendar.add("prodid", "-//PartnerMap//Partnerships//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    events: list[tuple[dt.date, str, Event]] = []

    def add(uid: str, day: dt.date, summary: str, p: Row[Any], description: str) -> None:
        event = Event()
        event.add("uid", f"{uid}@{UID_DOMAIN}")
        event.add("dtstamp", p.updated_at.astimezone(dt.UTC))
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        event.add("summary", f"{summary} ({p.school_name} / {p.organization_name})")
        event.add("description", f"{description}\nPartnership {p.id} ({p.status}).")
        event.add("categories", ["PartnerMap", "Partnership"])
        event.add("transp", "TRANSPARENT")
        events.append((day, uid, event))

    for goal in repo.goals(session, list(by_id)):
        label = goal.indicator_name or INDICATORS.get(goal.indicator, goal.indicator)
        add(
            f"goal-{goal.id}-target",
            goal.target_date,
            f"Goal target: {label} {goal.target_value:g} {goal.unit}",
            by_id[goal.partnership_id],
            f"From {goal.baseline_value:g} {goal.unit} on {goal.baseline_date.isoformat()}; "
            f"owner: {goal.owner}.",
        )
    for a in repo.agreements(session, list(by_id)):
        kind = AGREEMENTS.get(a.kind, a.kind)
        p = by_id[a.partnership_id]
        add(f"agreement-{a.id}-expiry", a.term_end, f"{kind} expires", p, f"Agreement {a.id}.")
        if a.renewal_date is not None:
            add(
                f"agreement-{a.id}-renewal",
                a.renewal_date,
                f"{kind} renewal date",
                p,
                f"Agreement {a.id}.",
            )
    for c in repo.check_ins(session, list(by_id)):
        add(
            f"check-in-{c.id}-next-step",
            c.next_step_due,
            f"Next step due: {c.next_step or 'follow up'}",
            by_id[c.partnership_id],
            f"Agreed at the check-in of {c.held_on.isoformat()}.",
        )
    for _, _, event in sorted(events, key=lambda e: (e[0], e[1])):
        calendar.add_component(event)
    return calendar.to_ical()
