from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from app.schemas.common import (
    CategoryCode,
    Delivery,
    Grade,
    Language,
    Latitude,
    Locale,
    Longitude,
    Schedule,
    Strict,
    UniqueList,
    number,
)
from app.schemas.schools import NeedIn

Equity = number(float, ge=0, le=1)
NeedIndex = number(float, ge=0, le=1)
MaxDistanceKm = number(float, gt=0, le=1000)


class Contribution(BaseModel):
    component: str = Field(description="fit, reach, constraints, equity, history or priority")
    points: float
    detail: str


class NeedMet(BaseModel):
    category: str
    name: str
    priority: int
    credit: float = Field(description="1 for the same category, less for a related one")
    via: str = Field(description="The offering's category that earns the credit")
    primary: bool


class MatchOffering(BaseModel):
    id: int
    title: str
    organization_id: int
    organization_name: str
    verified: bool
    categories: list[str]
    cost: str | None
    delivery: list[str]


Grouping = Literal["offering", "organization"]
GROUPING_DOC = (
    "`offering` (the default): one item per offering, so one organization may hold several "
    "places. `organization`: one item per organization, its best offering, ranked by that "
    "offering's score; its other ranked offerings follow in `other_offerings`, best first, "
    "and `rank` is the organization's place."
)


class OtherOffering(BaseModel):
    """Another ranked offering of the item's organization (group=organization)."""

    id: int
    title: str
    rank: int = Field(description="Its place in the ranking of offerings")
    score: float
    reason: str


class OfferingMatch(BaseModel):
    rank: int
    score: float = Field(description="Sum of the contributions' points")
    offering: MatchOffering
    distance_km: float
    reason: str = Field(
        description=(
            "One line a principal can read, each part true of this offering: the need it "
            'meets ("Meets"), offers with a problem named after the dash ("Offers") or '
            'only relates to ("Related to ... (via ...)"); "and N more needs" counts only '
            'other needs in its categories; the distance ("about ... from an approximate '
            'location" when either location is an estimate); the cost when stated; the '
            "grades it serves; its track record when it has one; then any warnings."
        ),
        examples=[
            "Meets your top need: Counseling (Spanish), 3.2 km, free, serves grades 6\u20138"
        ],
    )
    contributions: list[Contribution]
    needs_met: list[NeedMet]
    warnings: list[str]
    other_offerings: list[OtherOffering] = Field(
        default_factory=list,
        description="group=organization: the organization's other ranked offerings; else empty",
    )


class OfferingMatches(BaseModel):
    group: Grouping = Field(default="offering", description=GROUPING_DOC)
    items: list[OfferingMatch]
    next_cursor: str | None
    limit: int
    equity: float
    model_version: str
    needs_assessment_id: int | None = None


class SchoolMatch(BaseModel):
    rank: int
    score: float
    school_id: int
    school_name: str
    offering_id: int = Field(description="The organization's offering that serves it best")
    need_index: float | None
    distance_km: float
    reason: str
    contributions: list[Contribution]
    needs_met: list[NeedMet]
    warnings: list[str]


class SchoolMatches(BaseModel):
    items: list[SchoolMatch]
    next_cursor: str | None
    limit: int
    equity: float
    model_version: str


class MatchFilters(Strict):
    """Hard filters; anything not asked for is a soft preference in the score instead."""

    categories: Annotated[list[CategoryCode], UniqueList] = Field(default_factory=list)
    grade_low: Grade | None = None
    grade_high: Grade | None = None
    schedule: Annotated[list[Schedule], UniqueList] = Field(default_factory=list)
    delivery: Annotated[list[Delivery], UniqueList] = Field(default_factory=list)
    languages: Annotated[list[Language], UniqueList] = Field(default_factory=list)
    free_only: bool = False
    verified_only: bool = False
    max_distance_km: MaxDistanceKm | None = None
    exclude_full: bool = False


class AdHocLocation(Strict):
    lat: Latitude
    lon: Longitude
    locale: Locale | None = None
    grade_low: Grade = -1
    grade_high: Grade = 12
    need_index: NeedIndex | None = None
    languages: Annotated[list[Language], UniqueList] = Field(default_factory=list)


class MatchRequest(Strict):
    """Needs plus where: a filed school (`school_id`) or an ad-hoc `location`."""

    school_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    location: AdHocLocation | None = None
    needs: list[NeedIn] = Field(min_length=1, max_length=50)
    filters: MatchFilters = Field(default_factory=MatchFilters)
    limit: int = Field(default=20, ge=1, le=100)
    equity: Equity | None = None
    group: Grouping = Field(default="offering", description=GROUPING_DOC)

    @model_validator(mode="after")
    def _one_place(self) -> MatchRequest:
        if (self.school_id is None) == (self.location is None):
            raise ValueError("give exactly one of school_id or location")
        return self

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "location": {
                        "lat": 37.7887,
                        "lon": -122.205,
                        "locale": "city",
                        "grade_low": "K",
                        "grade_high": 5,
                    },
                    "needs": [
                        {"category": "mental_health_sel", "priority": 1, "languages": ["es"]},
                        {"category": "literacy", "priority": 2},
                    ],
                    "limit": 10,
                }
            ]
        }
    }
