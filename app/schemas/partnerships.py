"""Request and response models for partnerships, their goals, check-ins and reviews."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StrictBool

from app.schemas.common import CategoryCode, Date, Grade, GradeOut, Out, Strict, UniqueList, number

Status = Literal["proposed", "accepted", "declined", "active", "completed", "ended"]
Party = Literal["school", "organization"]
ProposedBy = Literal["school", "organization", "import"]
Indicator = Literal[
    "attendance_rate",
    "chronic_absence_pct",
    "course_pass_rate",
    "participation_count",
    "survey_score",
    "custom",
]
Channel = Literal["meeting", "call", "email", "visit", "video", "other"]
Decision = Literal["renew", "change", "end"]
Value = number(float, ge=-1e12, le=1e12)
Students = number(int, ge=0, le=100_000)
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class PartnershipFields(Strict):
    term_end: Date | None = Field(
        default=None, description="Last day of the term; may stay open while proposed."
    )
    need_categories: Annotated[list[CategoryCode], UniqueList] = Field(
        default_factory=list, max_length=20, description="Taxonomy codes the partnership addresses"
    )
    needs_assessment_id: Id | None = Field(
        default=None, description="The school's needs assessment these needs come from"
    )
    offering_ids: Annotated[list[Id], UniqueList] = Field(
        default_factory=list, max_length=20, description="The organization's offerings involved"
    )
    students_served: Students | None = None
    grade_low: Grade | None = None
    grade_high: Grade | None = None
    schedule: str | None = Field(default=None, max_length=500, examples=["Tue/Thu 3-5 pm"])
    shares_student_data: StrictBool = Field(
        default=False,
        description="Student data changes hands: activation needs a DSA signed by both parties.",
    )


class PartnershipCreate(PartnershipFields):
    school_id: Id
    organization_id: Id
    term_start: Date
    proposed_by: Literal["school", "organization"] | None = Field(
        default=None,
        description="Which side proposes. School staff always propose as the school and "
        "organization members as the organization; district callers choose (default school).",
    )


class PartnershipUpdate(Strict):
    """Only the fields given change; a field the partnership always has cannot be null (the
    None defaults only mark a field as not given)."""

    term_start: Date = None
    term_end: Date | None = None
    need_categories: Annotated[list[CategoryCode], UniqueList] = Field(default=None, max_length=20)
    needs_assessment_id: Id | None = None
    offering_ids: Annotated[list[Id], UniqueList] = Field(default=None, max_length=20)
    students_served: Students | None = None
    grade_low: Grade | None = None
    grade_high: Grade | None = None
    schedule: str | None = Field(default=None, max_length=500)
    shares_student_data: StrictBool = None


class TransitionIn(Strict):
    to: Status = Field(description="The state to move to (see the state machine).")
    reason: Reason | None = Field(default=None, description="Required to decline or to end.")


class RenewalIn(Strict):
    term_start: Date
    term_end: Date | None = None


class PartnershipOut(Out):
    id: int
    school_id: int
    school_name: str
    organization_id: int
    organization_name: str
    status: Status
    proposed_by: ProposedBy
    term_start: dt.date
    term_end: dt.date | None
    need_categories: list[str]
    needs_assessment_id: int | None
    offering_ids: list[int]
    students_served: int | None
    grade_low: GradeOut | None
    grade_high: GradeOut | None
    schedule: str | None
    shares_student_data: bool
    status_reason: str | None
    renewal_of_id: int | None
    next_states: list[Status] = Field(description="States the state machine allows from here.")
    created_at: dt.datetime
    updated_at: dt.datetime


class GoalCreate(Strict):
    category: CategoryCode
    indicator: Indicator
    indicator_name: str | None = Field(
        default=None, max_length=200, description="Required for a custom indicator."
    )
    unit: str | None = Field(
        default=None,
        max_length=64,
        description="Catalogue indicators carry their unit; a custom indicator needs one.",
    )
    baseline_value: Value
    baseline_date: Date
    target_value: Value
    target_date: Date = Field(description="Inside the partnership's term.")
    owner: Text


class GoalUpdate(Strict):
    """Only the fields given change; a field required on create cannot be null."""

    category: CategoryCode = None
    indicator_name: str | None = Field(default=None, max_length=200)
    unit: str | None = Field(default=None, max_length=64)
    baseline_value: Value = None
    baseline_date: Date = None
    target_value: Value = None
    target_date: Date = None
    owner: Text = None


class GoalOut(Out):
    id: int
    partnership_id: int
    category: str
    indicator: Indicator
    indicator_name: str | None
    unit: str
    baseline_value: float
    baseline_date: dt.date
    target_value: float
    target_date: dt.date
    owner: str


class ReadingCreate(Strict):
    value: Value
    observed_on: Date
    note: str | None = Field(default=None, max_length=2000)


class ReadingOut(Out):
    id: int
    goal_id: int
    value: float
    observed_on: dt.date
    note: str | None


class ProgressOut(Out):
    goal_id: int
    indicator: Indicator
    unit: str
    baseline_value: float
    target_value: float
    latest_value: float | None
    latest_on: dt.date | None
    fraction: float | None = Field(
        description="(latest - baseline) / (target - baseline): 0 at baseline, 1 at target."
    )
    expected_fraction: float | None = Field(
        description="Where a straight line from baseline to target stands on `latest_on`."
    )
    on_track: bool | None = Field(description="fraction >= expected_fraction; null unread.")


class CheckInCreate(Strict):
    held_on: Date
    channel: Channel
    participants: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=200)]], UniqueList
    ] = Field(default_factory=list, max_length=50)
    notes: str | None = Field(default=None, max_length=10_000)
    next_step: str | None = Field(default=None, max_length=2000)
    next_step_due: Date | None = None


class CheckInOut(Out):
    id: int
    partnership_id: int
    held_on: dt.date
    channel: Channel
    participants: list[str]
    notes: str | None
    next_step: str | None
    next_step_due: dt.date | None


class ReviewCreate(Strict):
    party: Party | None = Field(
        default=None,
        description="The side reviewing; district callers must name it, others review as "
        "their own side.",
    )
    satisfaction: number(int, ge=1, le=5)  # type: ignore[valid-type]
    decision: Decision
    comments: str | None = Field(default=None, max_length=10_000)


class ReviewOut(Out):
    id: int
    partnership_id: int
    party: Party
    satisfaction: int
    decision: Decision
    comments: str | None


class TrackRecordOut(Out):
    organization_id: int
    schools_served: int = Field(description="Distinct schools with an active or completed term.")
    active_partnerships: int
    completed_partnerships: int
