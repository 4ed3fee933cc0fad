"""The district's partnership view (GET /v1/districts/{id}/partnerships/summary)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

SummaryTable = Literal[
    "active",
    "by_category",
    "by_need",
    "expiring_agreements",
    "goals_off_track",
    "schools_without_top_need_partnership",
]


class ActivePartnership(BaseModel):
    partnership_id: int
    school_id: int
    school_name: str
    organization_id: int
    organization_name: str
    categories: list[str]
    term_start: dt.date
    term_end: dt.date | None


class CategoryCount(BaseModel):
    category: str = Field(description="Top-level taxonomy branch.")
    name: str
    partnerships: int = Field(description="Active partnerships addressing the branch.")
    schools: int
    organizations: int


class NeedCount(BaseModel):
    category: str = Field(description="A need category of the district's current needs.")
    name: str
    needs: int = Field(description="Current needs (latest assessments) in this category.")
    met_by_partnership: int = Field(
        description="Of those, needs an active partnership of the school addresses."
    )


class ExpiringAgreement(BaseModel):
    agreement_id: int
    partnership_id: int
    kind: Literal["mou", "dsa"]
    school_id: int
    school_name: str
    organization_id: int
    organization_name: str
    date: dt.date
    what: Literal["term_end", "renewal_date"]
    days_left: int
    signed_by_both: bool


class GoalOffTrack(BaseModel):
    goal_id: int
    partnership_id: int
    school_id: int
    school_name: str
    organization_id: int
    organization_name: str
    category: str
    indicator: str
    unit: str
    baseline_value: float
    target_value: float
    target_date: dt.date
    latest_value: float | None
    latest_on: dt.date | None
    progress: float | None = Field(
        description="Share of the way from baseline to target the latest reading has come."
    )
    expected: float | None = Field(
        description="Share of the time from baseline date to target date gone by at the latest "
        "reading (null when there is none)."
    )


class SchoolWithoutTopNeedPartnership(BaseModel):
    school_id: int
    school_name: str
    need_id: int
    category: str
    category_name: str
    priority: int


class DistrictPartnershipSummary(BaseModel):
    district_id: int
    district_name: str
    as_of: dt.date
    within_days: int
    active: list[ActivePartnership]
    by_category: list[CategoryCount]
    by_need: list[NeedCount]
    expiring_agreements: list[ExpiringAgreement] = Field(
        description="Agreements of proposed, accepted or active partnerships whose term ends "
        "or renewal date falls within `within_days` from today (today included)."
    )
    goals_off_track: list[GoalOffTrack]
    schools_without_top_need_partnership: list[SchoolWithoutTopNeedPartnership] = Field(
        description="Schools whose highest-priority current need no active partnership addresses."
    )
