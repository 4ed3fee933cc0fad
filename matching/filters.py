"""Hard filters a user asks for: an offering failing one is not ranked at all."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from matching.columns import OfferingColumns
from matching.taxonomy import CategoryTree
from matching.vocab import (
    COST_FREE,
    DELIVERIES,
    SCHEDULES,
    VIRTUAL_BIT,
    LanguageCodes,
    any_overlap,
    bitmask,
)


@dataclass(frozen=True)
class Filters:
    """Each set field keeps offerings offering at least one of its values. An offering that
    leaves schedule or delivery unspecified does not pass a filter on it; one that lists no
    language counts as English. None / False = no filter."""

    grades: tuple[int, int] | None = None  # serves at least one grade in [low, high]
    schedule: frozenset[str] | None = None
    delivery: frozenset[str] | None = None
    languages: frozenset[str] | None = None
    categories: frozenset[str] | None = None  # has one of these categories or a child of one
    free_only: bool = False  # cost is "free" (unknown cost does not pass)
    max_distance_km: float | None = None  # in-person within this distance; virtual ones pass
    active_on: dt.date | None = None  # active on this date (open-ended dates pass)
    exclude_full: bool = False  # drop offerings with no school or student capacity left
    verified_only: bool = False


def filter_mask(
    off: OfferingColumns,
    distance_km: np.ndarray,
    filters: Filters,
    tree: CategoryTree,
    languages: LanguageCodes,
) -> np.ndarray:
    """True for the offerings that pass every filter."""
    keep = np.ones(len(off), dtype=bool)
    f = filters
    if f.grades is not None:
        low, high = f.grades
        keep &= (off.grade_low <= high) & (off.grade_high >= low)
    if f.schedule is not None:
        keep &= (off.schedule & bitmask(f.schedule, SCHEDULES, "schedule")) != 0
    if f.delivery is not None:
        keep &= (off.delivery & bitmask(f.delivery, DELIVERIES, "delivery")) != 0
    if f.languages is not None:
        keep &= any_overlap(off.languages, languages.mask(f.languages))
    if f.categories is not None:
        keep &= tree.within(f.categories)[off.categories].any(axis=1)
    if f.free_only:
        keep &= off.cost == COST_FREE
    if f.max_distance_km is not None:
        keep &= (distance_km <= f.max_distance_km) | ((off.delivery & VIRTUAL_BIT) != 0)
    if f.active_on is not None:
        day = f.active_on.toordinal()
        keep &= (off.active_from <= day) & (day <= off.active_until)
    if f.exclude_full:
        keep &= ~((off.schools_left <= 0) | (off.students_left <= 0))
    if f.verified_only:
        keep &= off.verified
    return keep
