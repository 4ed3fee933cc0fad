"""Small hand-written taxonomies, offerings and schools for the ranking tests."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from bench.synthetic import CONUS_BBOX, synthetic_offerings, synthetic_schools, synthetic_taxonomy
from geo.distance import EARTH_RADIUS_KM
from matching import (
    Need,
    OfferingIndex,
    OfferingRecord,
    OfferingTable,
    RankingConfig,
    SchoolQuery,
    SchoolTable,
)

TAXONOMY: dict[str, str | None] = {
    "mental_health_sel": None,
    "mental_health_sel.counseling": "mental_health_sel",
    "mental_health_sel.sel_curriculum": "mental_health_sel",
    "literacy": None,
    "literacy.reading_tutoring": "literacy",
    "literacy.library_programs": "literacy",
    "stem": None,
    "stem.robotics": "stem",
    "arts": None,
    "arts.music": "arts",
}
NAMES = {
    "mental_health_sel": "Mental health and SEL",
    "mental_health_sel.counseling": "Counseling",
    "mental_health_sel.sel_curriculum": "SEL curriculum",
    "literacy": "Literacy",
    "literacy.reading_tutoring": "Reading tutoring",
    "literacy.library_programs": "Library programs",
    "stem": "STEM",
    "stem.robotics": "Robotics",
    "arts": "Arts",
    "arts.music": "Music",
}

# Oakland City Hall; offsets below are exact great-circle kilometres due north.
SCHOOL_LAT, SCHOOL_LON = 37.8053, -122.2725
AS_OF = dt.date(2026, 3, 2)


def north(km: float) -> float:
    """Latitude km due north of the school (great-circle, same sphere as the ranker)."""
    return SCHOOL_LAT + math.degrees(km / EARTH_RADIUS_KM)


def offering(id: int, km: float = 2.0, **fields: Any) -> OfferingRecord:
    """A plain, fully compatible offering `km` north of the school; override any field."""
    values: dict[str, Any] = dict(
        id=id,
        organization_id=100 + id,
        lat=north(km),
        lon=SCHOOL_LON,
        categories=("mental_health_sel.counseling",),
        grade_low=-1,
        grade_high=12,
        schedule=frozenset({"after_school"}),
        delivery=frozenset({"at_partner_site"}),
        languages=frozenset({"en", "es"}),
        cost="free",
        text="School counseling for students and families",
        verified=True,
    )
    values.update(fields)
    return OfferingRecord(**values)


def school(**fields: Any) -> SchoolQuery:
    values: dict[str, Any] = dict(
        lat=SCHOOL_LAT,
        lon=SCHOOL_LON,
        school_id=1,
        locale="city",
        grade_low=6,
        grade_high=8,
        need_index=0.8,
        languages=frozenset({"en", "es"}),
        populations=frozenset({"english_learners", "low_income"}),
    )
    values.update(fields)
    return SchoolQuery(**values)


def need(category: str = "mental_health_sel.counseling", **fields: Any) -> Need:
    return Need(category=category, **fields)


def synthetic_index(
    n: int,
    seed: int,
    schools: int,
    bbox: tuple[float, float, float, float] = CONUS_BBOX,
) -> tuple[OfferingIndex, SchoolTable]:
    """An index of n seeded synthetic offerings (bench.synthetic) in bbox and `schools` synthetic
    schools there (seed + 1), on the synthetic taxonomy."""
    parents, names = synthetic_taxonomy()
    codes = list(parents)
    index = OfferingIndex.build(synthetic_offerings(n, seed, codes, bbox), parents, names=names)
    return index, synthetic_schools(schools, seed + 1, codes, bbox)


def build(*records: OfferingRecord, config: RankingConfig | None = None) -> OfferingIndex:
    return OfferingIndex.build(
        OfferingTable.from_records(list(records)), TAXONOMY, config, names=NAMES
    )


def table(*records: OfferingRecord) -> OfferingTable:
    return OfferingTable.from_records(list(records))
