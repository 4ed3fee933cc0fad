"""SMART goals of a partnership, their indicator readings, and progress against the target.

Progress rule: `fraction` = (latest reading - baseline) / (target - baseline), so 0 is the
baseline and 1 the target whichever way the indicator should move. The expected fraction on
the latest reading's date is the straight line from baseline_date (0) to target_date (1),
clamped to [0, 1]. A goal is on track when fraction >= expected; with no reading it is unknown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.db import unit_of_work
from app.domain_errors import Conflict, InvalidInput, NotFound
from app.models import GoalReading, Partnership, PartnershipGoal
from app.repositories import partnerships as repo
from app.schemas.partnerships import GoalCreate, GoalUpdate, ReadingCreate
from app.services import partnerships
from app.services.validation import check_category

# The indicator catalogue: code -> (unit, what it measures).
INDICATORS: dict[str, tuple[str, str]] = {
    "attendance_rate": ("%", "Share of enrolled school days attended"),
    "chronic_absence_pct": ("%", "Students missing 10% or more of school days"),
    "course_pass_rate": ("%", "Share of course enrolments passed"),
    "participation_count": ("students", "Students taking part"),
    "survey_score": ("points", "Mean score on the partnership's survey"),
}
PERCENT = "%"
GOAL_STATES = ("proposed", "accepted", "active")
READING_STATES = ("active", "completed", "ended")


@dataclass(frozen=True)
class Progress:
    goal_id: int
    indicator: str
    unit: str
    baseline_value: float
    target_value: float
    latest_value: float | None
    latest_on: dt.date | None
    fraction: float | None
    expected_fraction: float | None
    on_track: bool | None


def progress(goal: PartnershipGoal, readings: list[GoalReading]) -> Progress:
    """Where the goal stands by its latest reading (see the module docstring for the rule)."""
    latest = max(readings, key=lambda r: (r.observed_on, r.id), default=None)
    fraction = expected = on_track = None
    if latest is not None:
        fraction = (latest.value - goal.baseline_value) / (goal.target_value - goal.baseline_value)
        span = (goal.target_date - goal.baseline_date).days
        elapsed = (latest.observed_on - goal.baseline_date).days
        expected = min(1.0, max(0.0, elapsed / span))
        on_track = fraction >= expected
        fraction, expected = round(fraction, 4), round(expected, 4)
    return Progress(
        goal_id=goal.id,
        indicator=goal.indicator,
        unit=goal.unit,
        baseline_value=goal.baseline_value,
        target_value=goal.target_value,
        latest_value=latest.value if latest else None,
        latest_on=latest.observed_on if latest else None,
        fraction=fraction,
        expected_fraction=expected,
        on_track=on_track,
    )


def create(
    *, session: Session, principal: Principal, partnership_id: int, data: GoalCreate
) -> PartnershipGoal:
    """Add a goal; it must be measurable (see `_check`)."""
    partnership, _ = partnerships.actable(
        session=session, principal=principal, partnership_id=partnership_id
    )
    _open_for_goals(partnership)
    goal = PartnershipGoal(partnership_id=partnership.id, **data.model_dump())
    goal.unit = _unit(data.indicator, data.unit, data.indicator_name)
    _check(partnership, goal)
    partnerships.add_part(
        session,
        principal,
        partnership,
        goal,
        resource_type="partnership_goal",
        fields=data.model_dump(exclude_unset=True),
        conflict="The goal conflicts with existing data.",
    )
    return goal


def readable(*, session: Session, principal: Principal, goal_id: int) -> PartnershipGoal:
    goal = session.get(PartnershipGoal, goal_id)
    if goal is None:
        raise NotFound(f"Goal {goal_id} does not exist.")
    partnerships.readable(session=session, principal=principal, partnership_id=goal.partnership_id)
    return goal


def _actable(
    session: Session, principal: Principal, goal_id: int
) -> tuple[PartnershipGoal, Partnership]:
    goal = readable(session=session, principal=principal, goal_id=goal_id)
    partnership, _ = partnerships.actable(
        session=session, principal=principal, partnership_id=goal.partnership_id
    )
    return goal, partnership


def update(
    *, session: Session, principal: Principal, goal_id: int, data: GoalUpdate
) -> PartnershipGoal:
    goal, partnership = _actable(session, principal, goal_id)
    _open_for_goals(partnership)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        setattr(goal, field, value)
    if "unit" in changes or "indicator_name" in changes:
        goal.unit = _unit(goal.indicator, changes.get("unit", goal.unit), goal.indicator_name)
    _check(partnership, goal)
    with unit_of_work(session, conflict="The goal changed meanwhile."):
        session.flush()
        partnerships.record(
            session,
            principal,
            partnership,
            action="update",
            resource_type="partnership_goal",
            resource_id=goal.id,
            fields=changes,
        )
    return goal


def delete(*, session: Session, principal: Principal, goal_id: int) -> None:
    goal, partnership = _actable(session, principal, goal_id)
    _open_for_goals(partnership)
    with unit_of_work(session, conflict="The goal changed meanwhile."):
        partnerships.record(
            session,
            principal,
            partnership,
            action="delete",
            resource_type="partnership_goal",
            resource_id=goal.id,
        )
        session.delete(goal)


def goals_of(
    *, session: Session, principal: Principal, partnership_id: int
) -> list[PartnershipGoal]:
    partnerships.readable(session=session, principal=principal, partnership_id=partnership_id)
    return repo.goals(session, partnership_id)


def add_reading(
    *, session: Session, principal: Principal, goal_id: int, data: ReadingCreate
) -> GoalReading:
    """Record one observation of the goal's indicator."""
    goal, partnership = _actable(session, principal, goal_id)
    if partnership.status not in READING_STATES:
        raise Conflict(
            f"Readings are recorded once the partnership is active; this one is "
            f"{partnership.status}."
        )
    if data.observed_on < goal.baseline_date:
        raise InvalidInput(["body", "observed_on"], "The reading is older than the baseline.")
    _check_value(goal.unit, data.value, ["body", "value"])
    reading = GoalReading(goal_id=goal.id, **data.model_dump())
    partnerships.add_part(
        session,
        principal,
        partnership,
        reading,
        resource_type="goal_reading",
        fields=data.model_dump(exclude_unset=True),
        conflict="The reading conflicts with existing data.",
    )
    return reading


def readings_of(*, session: Session, principal: Principal, goal_id: int) -> list[GoalReading]:
    goal = readable(session=session, principal=principal, goal_id=goal_id)
    return repo.readings(session, [goal.id])


def progress_of(*, session: Session, principal: Principal, partnership_id: int) -> list[Progress]:
    """Progress of every goal of the partnership, in two queries."""
    goals = goals_of(session=session, principal=principal, partnership_id=partnership_id)
    by_goal: dict[int, list[GoalReading]] = {g.id: [] for g in goals}
    for reading in repo.readings(session, list(by_goal)):
        by_goal[reading.goal_id].append(reading)
    return [progress(goal, by_goal[goal.id]) for goal in goals]


def _open_for_goals(partnership: Partnership) -> None:
    if partnership.status not in GOAL_STATES:
        raise Conflict(
            f"Goals are set before a partnership closes; this one is {partnership.status}."
        )


def _unit(indicator: str, unit: str | None, name: str | None) -> str:
    """Catalogue indicators carry their unit; a custom one must name itself and its unit."""
    if indicator != "custom":
        own = INDICATORS[indicator][0]
        if unit is not None and unit != own:
            raise InvalidInput(["body", "unit"], f"{indicator} is measured in '{own}'.")
        if name is not None:
            raise InvalidInput(["body", "indicator_name"], "Only a custom indicator has a name.")
        return own
    if not (name or "").strip():
        raise InvalidInput(["body", "indicator_name"], "Name the custom indicator.")
    if not (unit or "").strip():
        raise InvalidInput(["body", "unit"], "A custom indicator needs a unit.")
    return unit  # type: ignore[return-value]


def _check(partnership: Partnership, goal: PartnershipGoal) -> None:
    """Measurable: a known category the partnership addresses, values in the unit's range, a
    target that differs from the baseline, a target date after the baseline and in the term."""
    check_category(goal.category, ["body", "category"])
    if partnership.need_categories and goal.category not in partnership.need_categories:
        raise InvalidInput(
            ["body", "category"],
            "The goal's category is not one of the partnership's need_categories "
            f"({', '.join(partnership.need_categories)}).",
        )
    _check_value(goal.unit, goal.baseline_value, ["body", "baseline_value"])
    _check_value(goal.unit, goal.target_value, ["body", "target_value"])
    if goal.target_value == goal.baseline_value:
        raise InvalidInput(["body", "target_value"], "The target equals the baseline.")
    if goal.target_date <= goal.baseline_date:
        raise InvalidInput(["body", "target_date"], "target_date is not after baseline_date.")
    if partnership.term_end is None:
        raise InvalidInput(
            ["body", "target_date"],
            "The partnership's term has no end yet; set term_end before its goals.",
        )
    if not partnership.term_start <= goal.target_date <= partnership.term_end:
        raise InvalidInput(
            ["body", "target_date"],
            f"target_date is outside the term ({partnership.term_start} to "
            f"{partnership.term_end}).",
        )


def _check_value(unit: str, value: float, loc: list[str | int]) -> None:
    if unit == PERCENT and not 0 <= value <= 100:
        raise InvalidInput(loc, "A percentage is between 0 and 100.")
