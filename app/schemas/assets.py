"""Responses of the asset map, gap analysis and school coverage (JSON; CSV and GeoJSON carry
the same fields, see app/routers/assets.py)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["unmet", "thin", "met"]
Via = Literal["distance", "service_area", "virtual"]
Issue = Literal["full", "inactive", "grades", "language"]


class Thresholds(BaseModel):
    """The documented constants every status and desert was decided with."""

    min_fit: float = Field(description="Fit an offering needs to count for a need at all.")
    met: float = Field(description="Effective coverage at or above which a need is met.")
    thin: float = Field(description="Effective coverage at or above which a need is thin.")
    reach_scales: float = Field(
        description="In-person reach, in decay scales of the school's locale "
        "(5 km city, 10 suburb, 20 town, 40 rural; x1.5 when the partner comes to the school)."
    )
    high_need: float = Field(description="Need index at or above which a school is high-need.")
    desert_far_scales: float = Field(
        description="A high-need school farther than this many decay scales from every "
        "in-person asset of a category is in a desert of it."
    )
    estimated_schools: float = Field(
        description="Schools per year an offering declaring no school capacity is estimated "
        "to serve (capacity is never taken as unlimited)."
    )


class SchoolBrief(BaseModel):
    id: int
    name: str
    district: str | None
    lat: float
    lon: float
    locale: str | None
    need_index: float | None
    enrollment: int | None


class ReachingOffering(BaseModel):
    """An offering that reaches the school and fits the need (fit >= min_fit)."""

    offering_id: int
    title: str
    organization_id: int
    organization_name: str
    categories: list[str]
    fit: float = Field(description="The ranking model's fit for this need, 0..1.")
    share: float = Field(
        description="Share of the offering this school gets once its capacity is split among "
        "every school it counts for: min(1, capacity left / schools), and likewise for "
        "students; 0 when it cannot serve the need (see `issue`)."
    )
    contribution: float = Field(description="fit * share: what it adds to effective coverage.")
    distance_km: float = Field(description="Great-circle km from the school (virtual: ignored).")
    via: Via = Field(description="How it reaches the school.")
    capacity_schools: int | None
    capacity_students: int | None
    capacity_estimated: bool = Field(
        description="True when the offering declares no school capacity and its share uses "
        "the estimate `thresholds.estimated_schools`."
    )
    schools_counting_on_it: int = Field(
        description="Schools (anywhere) with a current need it counts for and within its reach."
    )
    issue: Issue | None = Field(
        description="Why it cannot serve this need: no capacity left, not active today, "
        "no grade in common, or none of the languages asked for."
    )


class PartnershipMet(BaseModel):
    """The active partnership that meets a need, whatever the offerings around."""

    partnership_id: int
    organization_id: int
    organization_name: str


class NeedCoverage(BaseModel):
    need_id: int
    category: str
    category_name: str
    priority: int
    students_affected: int | None
    status: Status
    effective_coverage: float = Field(description="Sum of the reaching offerings' contributions.")
    offerings: int = Field(description="Offerings that reach the school and fit the need.")
    best_fit: float
    capacity_estimated: bool = Field(
        description="True when a counting offering's capacity is estimated, not declared: "
        "the status rests on that estimate."
    )
    met_by_partnership: PartnershipMet | None = Field(
        default=None,
        description="An active partnership of the school addressing this need's category "
        "(or its parent or child): the need is met by it.",
    )
    reaching: list[ReachingOffering] = Field(
        description="The offerings, largest contribution first (at most `per_need`)."
    )


class StatusCounts(BaseModel):
    needs: int
    met: int
    thin: int
    unmet: int


class SchoolCoverageOut(BaseModel):
    school: SchoolBrief
    needs_assessment_id: int
    assessed_on: dt.date
    model_version: str
    thresholds: Thresholds
    summary: StatusCounts
    needs: list[NeedCoverage]


class GapRow(BaseModel):
    """One current need of one school with its coverage, in gap order."""

    rank: int
    school_id: int
    school_name: str
    district: str | None
    lat: float
    lon: float
    need_index: float | None
    enrollment: int | None
    need_id: int
    category: str
    category_name: str
    priority: int
    students_affected: int | None
    status: Status
    effective_coverage: float
    offerings: int
    best_fit: float
    capacity_estimated: bool = Field(
        description="True when a counting offering's capacity is estimated, not declared: "
        "the status rests on that estimate."
    )
    met_by_partnership: PartnershipMet | None = None


class SchoolGaps(BaseModel):
    """A school of the area with the status of each of its current needs."""

    school_id: int
    school_name: str
    lat: float
    lon: float
    need_index: float | None
    enrollment: int | None
    assessed: bool
    needs: int
    met: int
    thin: int
    unmet: int


class CategoryGaps(BaseModel):
    category: str = Field(description="Top-level taxonomy branch.")
    name: str
    needs: int
    met: int
    thin: int
    unmet: int
    schools_with_gaps: int
    students_in_gaps: int = Field(description="Students affected by thin or unmet needs (known).")
    desert_cells: int


class DesertOut(BaseModel):
    """A grid cell where high-need schools sit far from every in-person asset of a category."""

    cell: str = Field(description="Grid cell id level/x/y (Web Mercator map tile).")
    category: str
    category_name: str
    bbox: list[float] = Field(description="[west, south, east, north] of the cell.")
    school_ids: list[int]
    high_need_schools: int
    enrollment: int = Field(description="Total enrollment of those schools (where known).")
    max_need_index: float
    nearest_asset_km: float | None = Field(
        description="Km from the least isolated of those schools to the nearest in-person "
        "asset of the category; null when there is none within reach of the search."
    )


class GapSummary(BaseModel):
    schools: int = Field(description="Schools in the area.")
    assessed_schools: int
    needs: int
    met: int
    thin: int
    unmet: int
    students_in_gaps: int
    desert_cells: int


class AreaOut(BaseModel):
    district: str | None = None
    bbox: list[float] | None = None


class GapsOut(BaseModel):
    area: AreaOut
    model_version: str
    thresholds: Thresholds
    grid_level: int
    summary: GapSummary
    by_category: list[CategoryGaps]
    deserts: list[DesertOut]
    schools: list[SchoolGaps]
    items: list[GapRow] = Field(description="Needs with the requested statuses, in gap order.")
    next_cursor: str | None
    limit: int


class AssetCell(BaseModel):
    """Properties of one grid cell of the asset map."""

    kind: Literal["cell"] = "cell"
    cell: str
    assets: int = Field(description="Offerings x locations of their organization in the cell.")
    offerings: int
    organizations: int
    virtual: int = Field(description="Assets whose offering is delivered virtually.")
    by_category: dict[str, int] = Field(description="Assets per top-level category branch.")


class AssetPoint(BaseModel):
    """Properties of one asset: an offering at one location of its organization."""

    kind: Literal["asset"] = "asset"
    offering_id: int
    location_id: int
    organization_id: int
    organization_name: str
    verified: bool
    title: str
    categories: list[str]
    branches: list[str]
    delivery: list[str]
    virtual: bool
    cost: str | None
    capacity_schools: int | None
    capacity_students: int | None
    location_precision: str
    service_area: Literal["none", "polygon", "radius", "region"]
    service_radius_km: float | None


class ServiceAreaFeature(BaseModel):
    """Properties of an organization's declared service area (fine resolution)."""

    kind: Literal["service_area"] = "service_area"
    organization_id: int
    organization_name: str
    area_kind: Literal["polygon", "radius"]
    radius_km: float | None


class AssetSummary(BaseModel):
    assets: int
    offerings: int
    organizations: int
    virtual: int
    by_category: dict[str, int]
