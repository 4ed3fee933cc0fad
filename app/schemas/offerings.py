from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from app.schemas.common import (
    CategoryCode,
    CostKind,
    Date,
    Delivery,
    DisplayName,
    Grade,
    GradeOut,
    Language,
    Out,
    Population,
    Schedule,
    Strict,
    UniqueList,
    number,
)

Categories = Annotated[list[CategoryCode], UniqueList]
CostAmount = number(float, ge=0, le=10_000_000)
SchoolCapacity = number(int, ge=0, le=100_000)
StudentCapacity = number(int, ge=0, le=10_000_000)


class OfferingFields(Strict):
    description: str | None = Field(default=None, max_length=20_000)
    cost_amount: CostAmount | None = Field(
        default=None,
        description="Fee in USD per school-year (required when cost is 'fee').",
    )
    cost_note: str | None = Field(default=None, max_length=500)
    capacity_schools: SchoolCapacity | None = Field(
        default=None, description="Schools it can serve per year."
    )
    capacity_students: StudentCapacity | None = Field(
        default=None,
        description="Students it can serve per year.",
    )
    active_from: Date | None = None
    active_until: Date | None = None


class OfferingCreate(OfferingFields):
    title: DisplayName = Field(
        min_length=1, max_length=300, examples=["After-school robotics club"]
    )
    categories: Categories = Field(min_length=1, max_length=20, examples=[["stem"]])
    grade_low: Grade
    grade_high: Grade
    schedule: Annotated[list[Schedule], UniqueList] = Field(default_factory=list)
    delivery: Annotated[list[Delivery], UniqueList] = Field(default_factory=list)
    languages: Annotated[list[Language], UniqueList] = Field(default_factory=list, max_length=50)
    cost: CostKind | None = Field(default=None, description="null when unknown")
    populations: Annotated[list[Population], UniqueList] = Field(default_factory=list)
    source: str | None = Field(default=None, max_length=64)
    external_id: str | None = Field(default=None, max_length=200)

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "title": "After-school robotics club",
                    "description": "Weekly build sessions with volunteer engineers.",
                    "categories": ["stem"],
                    "grade_low": 6,
                    "grade_high": 8,
                    "schedule": ["after_school"],
                    "delivery": ["at_school"],
                    "languages": ["en", "es"],
                    "cost": "free",
                    "capacity_schools": 4,
                    "populations": ["title_i"],
                }
            ]
        }
    }


class OfferingUpdate(OfferingFields):
    """Only the fields given change; a field that is required on create cannot be null."""

    title: DisplayName = Field(default=None, min_length=1, max_length=300)
    categories: Categories = Field(default=None, min_length=1, max_length=20)
    grade_low: Grade = None
    grade_high: Grade = None
    schedule: Annotated[list[Schedule], UniqueList] = None
    delivery: Annotated[list[Delivery], UniqueList] = None
    languages: Annotated[list[Language], UniqueList] = Field(default=None, max_length=50)
    cost: CostKind | None = None
    populations: Annotated[list[Population], UniqueList] = None


class OrganizationSummary(Out):
    id: int
    name: str
    type: str
    verification: str


class OfferingOut(Out):
    id: int
    organization: OrganizationSummary
    title: str
    description: str | None
    categories: list[str]
    grade_low: GradeOut
    grade_high: GradeOut
    schedule: list[str]
    delivery: list[str]
    languages: list[str]
    cost: str | None
    cost_amount: float | None
    cost_note: str | None
    capacity_schools: int | None
    capacity_students: int | None
    populations: list[str]
    active_from: dt.date | None
    active_until: dt.date | None
    source: str | None
    external_id: str | None
    distance_m: float | None = Field(
        default=None,
        description="Geodesic metres to the organization's nearest location (near queries only).",
    )
    created_at: dt.datetime
    updated_at: dt.datetime
