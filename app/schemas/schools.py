from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, StrictBool

from app.schemas.common import (
    CategoryCode,
    Date,
    Delivery,
    DisplayName,
    Grade,
    GradeOut,
    Language,
    Latitude,
    Locale,
    Longitude,
    Out,
    Percent,
    Precision,
    Schedule,
    Strict,
    UniqueList,
    number,
)

Enrollment = number(int, ge=0, le=100_000)
Priority = number(int, ge=1, le=5)


class SchoolFields(Strict):
    nces_id: str | None = Field(
        default=None,
        pattern=r"^\d{12}$",
        description="12-digit NCES school id",
        examples=["060177000041"],
    )
    state_id: str | None = Field(default=None, max_length=32)
    district: str | None = Field(
        default=None,
        max_length=300,
        examples=["Oakland Unified School District"],
        description="The district by name (a new name adds a district; operator only). "
        "District admins' schools always go to their own district.",
    )
    district_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    address: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=120)
    state: str | None = Field(default=None, max_length=64)
    postal_code: str | None = Field(default=None, max_length=20)
    enrollment: Enrollment | None = None
    frl_pct: Percent | None = Field(
        default=None, description="Free/reduced-price lunch eligible, %"
    )
    title_i: StrictBool | None = None
    el_pct: Percent | None = Field(default=None, description="English learners, %")
    swd_pct: Percent | None = Field(default=None, description="Students with disabilities, %")
    chronic_absence_pct: Percent | None = None
    locale: Locale | None = None


class SchoolCreate(SchoolFields):
    name: DisplayName = Field(min_length=1, max_length=300, examples=["Allendale Elementary"])
    lat: Latitude
    lon: Longitude
    location_precision: Precision = "exact"
    grade_low: Grade
    grade_high: Grade
    languages: Annotated[list[Language], UniqueList] = Field(
        default_factory=list, description="Languages spoken by families"
    )
    source: str | None = Field(default=None, max_length=64)
    external_id: str | None = Field(default=None, max_length=200)

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "name": "Allendale Elementary",
                    "district": "Oakland Unified School District",
                    "address": "3670 Penniman Ave",
                    "city": "Oakland",
                    "state": "CA",
                    "postal_code": "94619",
                    "lat": 37.7887,
                    "lon": -122.205,
                    "grade_low": "K",
                    "grade_high": 5,
                    "enrollment": 420,
                    "frl_pct": 87.5,
                    "title_i": True,
                    "el_pct": 38.0,
                    "locale": "city",
                    "languages": ["en", "es"],
                }
            ]
        }
    }


class SchoolUpdate(SchoolFields):
    """Only the fields given change; a field that is required on create cannot be null."""

    name: DisplayName = Field(default=None, min_length=1, max_length=300)
    lat: Latitude = None
    lon: Longitude = None
    location_precision: Precision = None
    grade_low: Grade = None
    grade_high: Grade = None
    languages: Annotated[list[Language], UniqueList] = None


class SchoolOut(Out):
    id: int
    name: str
    nces_id: str | None
    state_id: str | None
    district: str | None
    district_id: int | None
    address: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    lat: float
    lon: float
    location_precision: str
    grade_low: GradeOut
    grade_high: GradeOut
    enrollment: int | None
    frl_pct: float | None
    title_i: bool | None
    el_pct: float | None
    swd_pct: float | None
    chronic_absence_pct: float | None
    locale: str | None
    languages: list[str]
    need_index: float | None = Field(
        description="0 (least) .. 1 (most under-resourced), from the equity indicators; "
        "see README 'Need index'. null when no indicator is known."
    )
    source: str | None
    external_id: str | None
    distance_m: float | None = None
    created_at: dt.datetime
    updated_at: dt.datetime


class NeedIn(Strict):
    category: CategoryCode
    priority: number(int, ge=1, le=5) = Field(description="1 = most important", examples=[1])
    grade_low: Grade | None = None
    grade_high: Grade | None = None
    students_affected: Enrollment | None = None
    schedule: Annotated[list[Schedule], UniqueList] = Field(default_factory=list)
    delivery: Annotated[list[Delivery], UniqueList] = Field(default_factory=list)
    languages: Annotated[list[Language], UniqueList] = Field(default_factory=list)
    notes: str | None = Field(default=None, max_length=5000)


class NeedOut(Out):
    id: int
    category: str
    priority: int
    grade_low: GradeOut | None
    grade_high: GradeOut | None
    students_affected: int | None
    schedule: list[str]
    delivery: list[str]
    languages: list[str]
    notes: str | None


class NeedsAssessmentCreate(Strict):
    assessed_on: Date = Field(examples=["2026-09-15"])
    notes: str | None = Field(default=None, max_length=10_000)
    is_example: StrictBool = False
    needs: list[NeedIn] = Field(min_length=1, max_length=50)

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "assessed_on": "2026-09-15",
                    "needs": [
                        {
                            "category": "mental_health_sel",
                            "priority": 1,
                            "grade_low": 6,
                            "grade_high": 8,
                            "students_affected": 120,
                            "languages": ["es"],
                            "schedule": ["during_school"],
                        },
                        {"category": "stem", "priority": 3, "schedule": ["after_school"]},
                    ],
                }
            ]
        }
    }


class NeedsAssessmentOut(Out):
    id: int
    school_id: int
    assessed_on: dt.date
    notes: str | None
    is_example: bool
    needs: list[NeedOut]
    created_at: dt.datetime
