"""The need index: how much a school's students need partners, from its equity indicators.

    need_index = sum(w_i * x_i over present indicators) / sum(w_i over present indicators)

| indicator (input)                 | x_i in [0, 1]                        | weight |
|-----------------------------------|--------------------------------------|--------|
| free/reduced-price lunch, %       | frl_pct / 100                        | 0.45   |
| Title I school (1/0)              | 1 if Title I else 0                  | 0.15   |
| English learners, %               | min(el_pct / 40, 1)                  | 0.15   |
| students with disabilities, %     | min(swd_pct / 25, 1)                 | 0.10   |
| chronically absent, %             | min(chronic_absence_pct / 50, 1)     | 0.10   |
| locale                            | rural 1, town 0.5, suburb/city 0     | 0.05   |

Why: family poverty (FRL) is the best-measured and strongest predictor of unmet need, so it
carries almost half the weight; Title I status confirms poverty at school level and unlocks
partner programs. English learner and disability shares matter most where concentrated, so
they saturate at roughly twice the national mean (about 10 % EL, 15 % SWD) -- 40 % and 25 %.
Chronic absence saturates at 50 % (about twice the post-2020 national rate). Rural isolation
limits access to partners and is a small bonus; it is context, not need.

Missing indicators (NaN; locale None or "") drop out and the weights of those present are
renormalised. Locale alone says nothing about students, so a school with no student
indicator gets NaN (the ranker then uses RankingConfig.missing_need_index). Percentages are
0-100 and clipped to that range, so the index is always in [0, 1], and raising any indicator
never lowers it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

WEIGHTS = {
    "frl": 0.45,
    "title_i": 0.15,
    "el": 0.15,
    "swd": 0.10,
    "chronic_absence": 0.10,
    "locale": 0.05,
}
SATURATION_PCT = {"frl": 100.0, "el": 40.0, "swd": 25.0, "chronic_absence": 50.0}
LOCALE_SCORE = {"rural": 1.0, "town": 0.5, "suburb": 0.0, "city": 0.0}

# Thresholds at which a school counts as serving a population (populations_from_indicators).
LOW_INCOME_FRL_PCT = 50.0  # "mid-high poverty" in NCES terms
ENGLISH_LEARNERS_PCT = 20.0  # about twice the national share
DISABILITIES_PCT = 20.0


def need_index(
    frl_pct: Any,
    title_i: Any,
    el_pct: Any,
    swd_pct: Any,
    chronic_absence_pct: Any,
    locale: Any,
) -> np.ndarray:
    """Need index in [0, 1] per school (NaN when no student indicator is known); arrays in,
    array out. Percentages 0-100, NaN = missing; title_i 1/0 (NaN missing); locale strings."""
    frl = _percent(frl_pct, "frl")
    components = [
        (frl, WEIGHTS["frl"]),
        (_flag(title_i), WEIGHTS["title_i"]),
        (_percent(el_pct, "el"), WEIGHTS["el"]),
        (_percent(swd_pct, "swd"), WEIGHTS["swd"]),
        (_percent(chronic_absence_pct, "chronic_absence"), WEIGHTS["chronic_absence"]),
    ]
    students = np.zeros(frl.shape)
    total = np.zeros(frl.shape)
    weights = np.zeros(frl.shape)
    for values, weight in components:
        present = ~np.isnan(values)
        students += present
        total += np.where(present, values, 0.0) * weight
        weights += present * weight
    place = _locale(locale, frl.shape)
    present = ~np.isnan(place)
    total += np.where(present, place, 0.0) * WEIGHTS["locale"]
    weights += present * WEIGHTS["locale"]
    with np.errstate(invalid="ignore", divide="ignore"):
        index = total / weights
    return np.where(students > 0, np.clip(index, 0.0, 1.0), np.nan)


def populations_from_indicators(
    *,
    frl_pct: float | None = None,
    title_i: bool | None = None,
    el_pct: float | None = None,
    swd_pct: float | None = None,
    locale: str | None = None,
) -> frozenset[str]:
    """The priority populations a school serves, by the thresholds above (for SchoolQuery)."""
    found = set()
    if title_i:
        found.add("title_i")
    if _at_least(frl_pct, LOW_INCOME_FRL_PCT):
        found.add("low_income")
    if _at_least(el_pct, ENGLISH_LEARNERS_PCT):
        found.add("english_learners")
    if _at_least(swd_pct, DISABILITIES_PCT):
        found.add("students_with_disabilities")
    if locale == "rural":
        found.add("rural")
    return frozenset(found)


def _at_least(value: float | None, threshold: float) -> bool:
    return value is not None and not math.isnan(value) and value >= threshold


def _percent(values: Any, name: str) -> np.ndarray:
    pct = np.clip(np.asarray(values, dtype=np.float64), 0.0, 100.0)
    return np.minimum(pct / SATURATION_PCT[name], 1.0)


def _flag(values: Any) -> np.ndarray:
    """1.0 true, 0.0 false, NaN missing."""
    flags = np.asarray(values, dtype=np.float64)
    return np.where(np.isnan(flags), np.nan, (flags > 0).astype(np.float64))


def _locale(locale: Any, shape: tuple[int, ...]) -> np.ndarray:
    codes = np.broadcast_to(np.asarray(locale, dtype=object), shape)
    lookup = np.vectorize(lambda code: LOCALE_SCORE.get(code, math.nan), otypes=[np.float64])
    return lookup(codes) if codes.size else np.zeros(shape)
