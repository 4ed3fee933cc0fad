"""The district's view of its partnerships: what is active by category and need, agreements
coming up for expiry or renewal, goals off track, and schools whose top need no active
partnership addresses.

A goal is off track when its latest reading lags the straight line from baseline to target
(services.goals.progress), or when it has no reading and its target date has passed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.domain_errors import Forbidden
from app.models import GoalReading, PartnershipGoal
from app.repositories import partnership_reports as repo
from app.schemas.partnership_reports import (
    ActivePartnership,
    CategoryCount,
    DistrictPartnershipSummary,
    ExpiringAgreement,
    GoalOffTrack,
    NeedCount,
    SchoolWithoutTopNeedPartnership,
)
from app.services import districts, goals
from app.services.goals import Progress
from app.taxonomy import addresses, branch, load_taxonomy

# Partnerships whose agreements and goals still lie ahead.
OPEN = ("proposed", "accepted", "active")


def district_summary(
    *,
    session: Session,
    principal: Principal,
    district_id: int,
    within_days: int,
    today: dt.date | None = None,
) -> DistrictPartnershipSummary:
    """The district's partnerships as its admins need them (see the module docstring)."""
    district = districts.get(session=session, district_id=district_id)
    if not principal.reads_district(district.id):
        raise Forbidden(f"District {district_id}'s partnerships are for its own people.")
    today = today or dt.date.today()
    taxonomy = load_taxonomy()
    rows = repo.partnerships(session, statuses=OPEN, district_id=district.id)
    by_id = {p.id: p for p in rows}
    active = [p for p in rows if p.status == "active"]

    per_branch: dict[str, list] = defaultdict(list)
    for p in active:
        for code in sorted({branch(c) for c in p.need_categories}):
            per_branch[code].append(p)
    by_category = [
        CategoryCount(
            category=code,
            name=taxonomy.name(code),
            partnerships=len(members),
            schools=len({p.school_id for p in members}),
            organizations=len({p.organization_id for p in members}),
        )
        for code, members in sorted(per_branch.items())
    ]

    at_school: dict[int, list] = defaultdict(list)
    for p in active:
        at_school[p.school_id].append(p)
    needs = repo.current_needs(session, district.id)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    top: dict[int, object] = {}
    for n in needs:
        met = any(addresses(p.need_categories, n.category) for p in at_school[n.school_id])
        counts[n.category][0] += 1
        counts[n.category][1] += met
        if n.school_id not in top:
            top[n.school_id] = (n, met)
    by_need = [
        NeedCount(category=code, name=taxonomy.name(code), needs=c[0], met_by_partnership=c[1])
        for code, c in sorted(counts.items())
    ]
    uncovered = [
        SchoolWithoutTopNeedPartnership(
            school_id=n.school_id,
            school_name=n.school_name,
            need_id=n.need_id,
            category=n.category,
            category_name=taxonomy.name(n.category),
            priority=n.priority,
        )
        for n, met in top.values()  # type: ignore[misc]
        if not met
    ]

    expiring = []
    horizon = today + dt.timedelta(days=within_days)
    for a in repo.agreements(session, list(by_id)):
        p = by_id[a.partnership_id]
        for what, when in (("term_end", a.term_end), ("renewal_date", a.renewal_date)):
            if when is not None and today <= when <= horizon:
                expiring.append(
                    ExpiringAgreement(
                        agreement_id=a.id,
                        partnership_id=p.id,
                        kind=a.kind,
                        school_id=p.school_id,
                        school_name=p.school_name,
                        organization_id=p.organization_id,
                        organization_name=p.organization_name,
                        date=when,
                        what=what,  # type: ignore[arg-type]
                        days_left=(when - today).days,
                        signed_by_both=a.signatures >= 2,
                    )
                )
    expiring.sort(key=lambda e: (e.date, e.agreement_id, e.what))

    active_ids = [p.id for p in active]
    active_goals = repo.goals(session, active_ids)
    latest = repo.latest_readings(session, [g.id for g in active_goals])
    lagging = []
    for goal in active_goals:
        reading = latest.get(goal.id)
        behind = off_track(goal, reading, today)
        if behind is None:
            continue
        p = by_id[goal.partnership_id]
        lagging.append(
            GoalOffTrack(
                goal_id=goal.id,
                partnership_id=p.id,
                school_id=p.school_id,
                school_name=p.school_name,
                organization_id=p.organization_id,
                organization_name=p.organization_name,
                category=goal.category,
                indicator=goal.indicator_name or goal.indicator,
                unit=goal.unit,
                baseline_value=goal.baseline_value,
                target_value=goal.target_value,
                target_date=goal.target_date,
                latest_value=behind.latest_value,
                latest_on=behind.latest_on,
                progress=behind.fraction,
                expected=behind.expected_fraction,
            )
        )

    return DistrictPartnershipSummary(
        district_id=district.id,
        district_name=district.name,
        as_of=today,
        within_days=within_days,
        active=[
            ActivePartnership(
                partnership_id=p.id,
                school_id=p.school_id,
                school_name=p.school_name,
                organization_id=p.organization_id,
                organization_name=p.organization_name,
                categories=list(p.need_categories),
                term_start=p.term_start,
                term_end=p.term_end,
            )
            for p in active
        ],
        by_category=by_category,
        by_need=by_need,
        expiring_agreements=expiring,
        goals_off_track=lagging,
        schools_without_top_need_partnership=uncovered,
    )


def off_track(
    goal: PartnershipGoal, reading: GoalReading | None, today: dt.date
) -> Progress | None:
    """The goal's progress when it is off track (by services.goals' straight-line rule, or
    with no reading past its target date), None when it is on track or too early to say."""
    progress = goals.progress(goal, [reading] if reading else [])
    if progress.on_track is False or (progress.on_track is None and today > goal.target_date):
        return progress
    return None
