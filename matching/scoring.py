"""The model, vectorized: score R (offering, school) rows against each row's needs.

Needs come laid out as (G, J) arrays (G = 1 school in forward ranking, one group per school in
reverse ranking; short groups padded with weight 0). Row r uses group `group[r]`. Per row and
need j:

    credit[r, j]  taxonomy credit (1 same, branch_credit parent/child, sibling_credit same branch)
    f[r, j]       credit * (1 - text_blend + text_blend * text cosine)
    m[r, j]       priority weight * f
    soft, demote  constraint penalties of the offering against need j (an unknown language,
                  schedule, delivery, cost or capacity is a small soft penalty, never a demotion)

The offering's primary need j* maximizes (1 - breadth) * fit_weight * m - constraints_weight *
soft - demotion * demote: the need it serves best once constraints count. Then

    fit         = fit_weight * ((1 - breadth) * m[j*] + breadth * sum_j m / sum_j weight)
    reach       = reach_weight * reach
    constraints = constraints_weight * (1 - soft[j*] - soft_offering) - demotion * any demotion
    equity      = strength * need_index * value   (value: affordability / populations / language
                                                   forward, blended with the organization's
                                                   record with high-need schools when the
                                                   district has partnership history; 1 in
                                                   reverse: the school's need)
    score       = fit + reach + constraints + equity, summed in this order; forward rankings
                  then add history (matching.history: track record and schools like this one).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt

from matching.columns import OfferingColumns, all_true, any_true
from matching.config import RankingConfig
from matching.results import direct_init
from matching.tables import SchoolTable
from matching.vocab import (
    AT_SCHOOL_BIT,
    COST_FEE,
    COST_FREE,
    COST_SLIDING,
    COST_UNKNOWN,
    POPULATIONS,
    VIRTUAL_BIT,
    LanguageCodes,
    any_overlap,
    encode_sets,
)

T = TypeVar("T")


@dataclass(frozen=True)
class NeedArrays:
    """Needs of G schools as (G, J) arrays; a padded slot has valid False and weight 0."""

    credit_row: np.ndarray  # intp row of the credit table
    weight: np.ndarray  # float64 priority weight
    grade_low: np.ndarray  # int
    grade_high: np.ndarray
    schedule: np.ndarray  # uint8 bitmask, 0 = no preference
    delivery: np.ndarray  # uint8
    languages: np.ndarray  # (G, J, WORDS) uint64
    has_languages: np.ndarray  # bool: the need prefers languages
    students: np.ndarray  # float, NaN unknown
    valid: np.ndarray  # bool


@direct_init
@dataclass(frozen=True)
class Place:
    """Per row: where the school is relative to the offering, and who the school is."""

    distance_km: np.ndarray
    scale_km: np.ndarray  # decay scale of the school's locale
    covered: np.ndarray  # bool: a polygon service area covers the school
    coverage_known: np.ndarray  # bool: the service reported polygon coverage for this school
    need_index: np.ndarray  # float in [0, 1], missing already filled
    populations: np.ndarray  # uint16 bitmask of the school's populations
    languages: np.ndarray  # (R, WORDS) uint64: non-English languages of its families


def school_need_index(value: npt.ArrayLike | None, config: RankingConfig) -> np.ndarray:
    """Need index as the model reads it: clipped to [0, 1], unknown (None/NaN) read as
    config.missing_need_index. Broadcasts over arrays of schools."""
    known = np.asarray(math.nan if value is None else value, dtype=np.float64)
    return np.clip(np.where(np.isnan(known), config.missing_need_index, known), 0.0, 1.0)


def one_need_index(value: float | None, config: RankingConfig) -> float:
    """school_need_index of one school, in plain Python (the same value: clipping a float64
    is min/max)."""
    known = config.missing_need_index if value is None or math.isnan(value) else float(value)
    return min(max(known, 0.0), 1.0)


def family_languages(languages: LanguageCodes, codes: Iterable[str]) -> np.ndarray:
    """Mask of the non-English languages a school's families speak (Place.languages)."""
    return languages.mask(code for code in codes if code != "en")


@dataclass(frozen=True)
class SchoolPlaces:
    """Per school, the fields of a Place that do not depend on the offering."""

    scale_km: np.ndarray
    need_index: np.ndarray
    populations: np.ndarray
    languages: np.ndarray  # (schools, WORDS)

    def place(
        self,
        school: np.ndarray,
        distance_km: np.ndarray,
        covered: np.ndarray,
        coverage_known: np.ndarray,
    ) -> Place:
        """The Place of each row, row r being at school `school[r]` of these."""
        return Place(
            distance_km=distance_km,
            scale_km=self.scale_km[school],
            covered=covered,
            coverage_known=coverage_known,
            need_index=self.need_index[school],
            populations=self.populations[school],
            languages=self.languages[school],
        )


def school_places(
    schools: SchoolTable, rows: np.ndarray, languages: LanguageCodes, config: RankingConfig
) -> SchoolPlaces:
    """The offering-independent Place fields of these rows of the school table."""
    picked = rows.tolist()
    family = [family_languages(languages, schools.languages[i]) for i in picked]
    return SchoolPlaces(
        scale_km=np.array([config.scale_km(schools.locale[i]) for i in picked], dtype=np.float64),
        need_index=school_need_index(schools.need_index[rows], config),
        populations=encode_sets(
            [schools.populations[i] for i in picked], POPULATIONS, "populations", np.uint16
        ),
        languages=np.stack(family) if family else np.zeros((0, LanguageCodes.WORDS), np.uint64),
    )


@direct_init
@dataclass(frozen=True)
class Reach:
    value: np.ndarray  # [0, 1]
    eligible: np.ndarray  # bool: within reach at all
    virtual: np.ndarray  # bool
    in_area: np.ndarray  # bool: a declared service area or radius covers the school
    outside_area: np.ndarray  # bool: a declared area or radius does not cover the school


def reach_of(off: OfferingColumns, place: Place, config: RankingConfig) -> Reach:
    """Reach of each offering from its school and whether it is within reach at all."""
    return reach_at(
        off, place.distance_km, place.scale_km, place.covered, place.coverage_known, config
    )


def reach_at(
    off: OfferingColumns,
    distance_km: np.ndarray,
    scale_km: np.ndarray | float,
    covered: np.ndarray | None,
    coverage_known: np.ndarray | bool,
    config: RankingConfig,
) -> Reach:
    """reach_of, from the geometric fields of a Place alone (scale and coverage_known per row,
    or one value for every row; covered None: no row's polygon area covers its school)."""
    virtual = (off.delivery & VIRTUAL_BIT) != 0
    travel = max(config.at_school_travel_factor, 1.0)
    scale = scale_km * np.where((off.delivery & AT_SCHOOL_BIT) != 0, travel, 1.0)
    decay = np.exp(-distance_km / scale)
    in_radius = distance_km <= off.service_radius_km  # False where there is none (NaN)
    in_area = in_radius if covered is None else in_radius | covered
    outside = ~(np.isnan(off.service_radius_km) | in_radius)  # a radius not reaching
    if coverage_known.any() if isinstance(coverage_known, np.ndarray) else coverage_known:
        # declared polygon areas count where coverage was computed (np.any costs more)
        outside |= off.has_service_area & coverage_known & ~in_area
    if covered is not None:  # else outside already excludes in_area (= in_radius)
        outside &= ~in_area
    near = np.where(outside, decay * config.outside_area_factor, decay)
    value = np.where(in_area, np.maximum(decay, config.covered_reach), near)
    value = np.where(virtual, np.maximum(value, config.virtual_reach), value)
    within = distance_km <= scale * config.reach_cutoff_scales
    return Reach(value, virtual | in_area | within, virtual, in_area, outside)


@direct_init
@dataclass(frozen=True)
class Scored:
    """Every intermediate of the model for R rows, kept so results can be explained."""

    score: np.ndarray
    fit: np.ndarray  # contributions (points)
    reach: np.ndarray
    constraints: np.ndarray
    equity: np.ndarray
    primary: np.ndarray  # intp need slot j*
    credit: np.ndarray  # (R, J)
    text: np.ndarray  # (R, J) cosine
    grade_share: np.ndarray  # (R, J) share of the need's grades the offering serves
    schedule_issue: np.ndarray  # (R, J) 0 ok, 1 unknown, 2 mismatch
    delivery_issue: np.ndarray  # (R, J)
    language_miss: np.ndarray  # (R, J) bool: lists languages, none of those the need asks for
    language_unknown: np.ndarray  # (R, J) bool: the need asks for languages, it lists none
    capacity_short: np.ndarray  # (R, J) share of students_affected it cannot take
    full: np.ndarray  # bool
    inactive: np.ndarray  # bool
    demoted: np.ndarray  # bool
    equity_value: np.ndarray  # [0, 1] (1 in reverse ranking)
    population_match: np.ndarray  # bool
    language_access: np.ndarray  # bool
    # matching.history per row, added last to score (None: not scored, as in reverse ranking)
    history: np.ndarray | None = None
    served: np.ndarray | None = None  # schools the organization served
    like: np.ndarray | None = None
    # matching.priority: points lifting the best top-priority row to first (forward only)
    priority: np.ndarray | None = None


def score_rows(
    off: OfferingColumns,
    needs: NeedArrays,
    group: np.ndarray | None,
    credit_table: np.ndarray,
    text: np.ndarray,
    place: Place | None,
    reach: np.ndarray,
    *,
    as_of: int,
    equity: float,
    reverse: bool,
    config: RankingConfig,
    terms: OfferingTerms | None = None,
    record: np.ndarray | None = None,
    grade_key: np.ndarray | None = None,
) -> Scored:
    """Score R rows (offering off[r] for the school of group[r]); see the module docstring.

    terms: the rows' offering_terms, when the caller has computed them already (then place,
    which they are computed from, is not needed). record: see offering_terms. grade_key:
    the rows' FixedTerms.grade_key, when the caller has them (one school only).
    """
    c = config

    def per_row(values: np.ndarray) -> np.ndarray:
        # One school: its (1, J) needs broadcast against every row without copying.
        return values if group is None else values[group]

    valid = per_row(needs.valid)
    weight = per_row(needs.weight)
    # Taxonomy credit: best over the offering's categories (padding id -1 reads credit 0).
    if group is None:  # one school: rows of its (categories, J) credit, by category id
        by_category = np.ascontiguousarray(credit_table[needs.credit_row[0]].T)
        credit = best_over_slots(by_category, off.categories)
    else:
        need_rows = per_row(needs.credit_row)
        credit = best_per_row(off.categories, lambda ids: credit_table[need_rows, ids[:, None]])
    if not all_true(valid):
        credit = np.where(valid, credit, 0.0)
    m = weight * credit * ((1 - c.text_blend) + c.text_blend * text)

    # Grades: share of the need's span the offering serves; none at all demotes.
    if group is None:  # one school: looked up by the offering's grade cell, as _grade_bound
        spans = (tuple(needs.grade_low[0].tolist()), tuple(needs.grade_high[0].tolist()))
        by_cell = _grade_share_tables(spans, c.grade_partial_penalty)
        key = grade_cell(off) if grade_key is None else grade_key
        grade_share, soft, ungraded = (table.take(key, axis=0) for table in by_cell)
    else:
        low, high = per_row(needs.grade_low), per_row(needs.grade_high)
        overlap = np.minimum(off.grade_high[:, None], high) - np.maximum(
            off.grade_low[:, None], low
        )
        grade_share = _share(overlap, high - low)
        soft = c.grade_partial_penalty * (1 - grade_share)
        ungraded = grade_share <= 0
    shape = credit.shape
    tables = _tables(c)
    # Each soft penalty below is added only where some need can incur it: adding an all-zero
    # term changes no value (every term is >= +0.0), and most needs state no preference.
    schedule_issue = _preference_issue(off.schedule[:, None], per_row(needs.schedule))
    if schedule_issue is not None:
        soft = soft + tables.schedule_penalty[schedule_issue]
    delivery_issue = _preference_issue(off.delivery[:, None], per_row(needs.delivery))
    if delivery_issue is not None:
        soft = soft + tables.delivery_penalty[delivery_issue]
    if schedule_issue is None or delivery_issue is None:  # no issue anywhere: one array of 0
        no_issue = np.zeros(shape, dtype=np.intp)
        schedule_issue = no_issue if schedule_issue is None else schedule_issue
        delivery_issue = no_issue if delivery_issue is None else delivery_issue
    students = per_row(needs.students)
    stated = students > 0
    if any_true(stated):
        # Dividing by NaN where no count is stated (not by 0: no floating-point warning to
        # silence) leaves NaN there, read as no shortfall like an unknown capacity left.
        left = off.students_left[:, None]
        short = 1 - left / np.where(stated, students, np.nan)
        short = np.minimum(np.maximum(short, 0.0), 1.0)
        capacity_short = np.where(np.isnan(short), 0.0, short)
        soft = soft + c.capacity_short_penalty * capacity_short
    else:  # no need says how many students it affects
        capacity_short = np.zeros(credit.shape)
    has_languages = per_row(needs.has_languages)
    if any_true(has_languages):
        offered = any_overlap(off.languages[:, None, :], per_row(needs.languages))
        # Unknown is not wrong: an offering that lists no languages is not "not offered in
        # Spanish"; it pays a small penalty, below a confirmed match, and is never demoted.
        listed = off.languages_listed[:, None]
        language_miss = has_languages & ~offered & listed
        language_unknown = has_languages & ~listed
        soft = soft + c.language_unknown_penalty * language_unknown
        demote = ungraded | language_miss
    else:  # the common case: no need asks for a language
        language_miss = np.zeros(credit.shape, dtype=bool)
        language_unknown = language_miss
        demote = ungraded

    utility = (1 - c.breadth_share) * c.fit_weight * m - c.constraints_weight * soft
    utility = np.where(credit > 0, utility - c.demotion * demote, -np.inf)
    primary = utility.argmax(axis=1)
    # Entry (r, primary[r]) of each (R, J) array: a take on the flat array (cheaper than
    # indexing it with two arrays).
    at_primary = np.arange(0, shape[0] * shape[1], shape[1]) + primary

    total_weight = np.maximum(np.add.reduce(weight, axis=1), 1e-12)
    fit = c.fit_weight * (
        (1 - c.breadth_share) * m.reshape(-1).take(at_primary)
        + c.breadth_share * np.add.reduce(m, axis=1) / total_weight
    )

    if terms is None:
        if place is None:
            raise ValueError("score_rows needs the place or the offering terms")
        terms = offering_terms(
            off,
            place.need_index,
            place.populations,
            place.languages,
            as_of=as_of,
            equity=equity,
            reverse=reverse,
            config=c,
            record=record,
        )
    demoted = demote.reshape(-1).take(at_primary) | terms.full | terms.inactive
    constraints = c.constraints_weight * (1 - soft.reshape(-1).take(at_primary) - terms.soft)
    constraints = constraints - c.demotion * demoted
    reach_points = c.reach_weight * reach
    score = fit + reach_points + constraints + terms.equity
    return Scored(
        score=score,
        fit=fit,
        reach=reach_points,
        constraints=constraints,
        equity=terms.equity,
        primary=primary,
        credit=credit,
        text=text,
        grade_share=grade_share,
        schedule_issue=schedule_issue,
        delivery_issue=delivery_issue,
        language_miss=language_miss,
        language_unknown=language_unknown,
        capacity_short=capacity_short,
        full=terms.full,
        inactive=terms.inactive,
        demoted=demoted,
        equity_value=terms.value,
        population_match=terms.population_match,
        language_access=terms.language_access,
    )


@direct_init
@dataclass(frozen=True)
class OfferingTerms:
    """The parts of a score that depend on the offering and school, not on a need."""

    soft: np.ndarray  # soft penalties: cost, verification
    full: np.ndarray  # bool: no capacity left
    inactive: np.ndarray  # bool: not active on the ranking date
    value: np.ndarray  # equity value in [0, 1]
    population_match: np.ndarray
    language_access: np.ndarray
    equity: np.ndarray  # equity points


@dataclass(frozen=True)
class FixedTerms:
    """Per offering, the parts of offering_terms and upper_bound that depend on neither the
    school, its needs nor the date (only on the configuration), so an index can compute them
    once for all its rows and gather them per ranking (Snapshot.fixed_terms)."""

    soft: np.ndarray  # float64: OfferingTerms.soft
    full: np.ndarray  # bool: OfferingTerms.full
    grade_key: np.ndarray  # intp: the offering's (grade_low, grade_high) cell (_grade_bound)

    def take(self, rows: np.ndarray) -> FixedTerms:
        return FixedTerms(*(values.take(rows) for values in vars(self).values()))

    @staticmethod
    def concat(first: FixedTerms, second: FixedTerms) -> FixedTerms:
        """Rows of first then second."""
        pairs = zip(vars(first).values(), vars(second).values(), strict=True)
        return FixedTerms(*(np.concatenate(pair) for pair in pairs))


def fixed_terms(off: OfferingColumns, config: RankingConfig) -> FixedTerms:
    """The FixedTerms of these offerings."""
    c = config
    tables = _tables(c)
    return FixedTerms(
        soft=tables.cost_penalty[off.cost] + np.where(off.verified, 0.0, c.unverified_penalty),
        full=(off.schools_left <= 0) | (off.students_left <= 0),
        grade_key=grade_cell(off),
    )


def grade_cell(off: OfferingColumns) -> np.ndarray:
    """The (grade_low, grade_high) cell of each offering's offered grades (intp): the row of
    the lookup tables of _grade_tables and _grade_share_tables (FixedTerms.grade_key)."""
    return (off.grade_low.astype(np.intp) + 1) * len(_GRADES) + (off.grade_high + 1)


def offering_terms(
    off: OfferingColumns,
    need_index: np.ndarray | float,
    populations: np.ndarray | int,
    languages: np.ndarray,
    *,
    as_of: int,
    equity: float,
    reverse: bool,
    config: RankingConfig,
    record: np.ndarray | None = None,
    fixed: FixedTerms | None = None,
) -> OfferingTerms:
    """record: per row, the organization's equity record (matching.history.high_need_record:
    mean need index of the schools it served), blended into a forward equity value with
    config.equity_record_share; None (no partnership history) leaves the value as it is.
    fixed: the rows' fixed_terms, when the caller has them (computed if None)."""
    c = config
    tables = _tables(c)
    if fixed is None:
        fixed = fixed_terms(off, c)
    soft, full = fixed.soft, fixed.full
    inactive = (as_of < off.active_from) | (as_of > off.active_until)
    population_match = (off.populations & populations) != 0
    language_access = any_overlap(off.languages, languages)
    if reverse:
        value = np.ones(len(off))
    else:
        value = (
            c.equity_cost_share * tables.affordability[off.cost]
            + c.equity_population_share * population_match
            + c.equity_language_share * language_access
        )
        if record is not None:
            value = (1 - c.equity_record_share) * value + c.equity_record_share * record
    points = equity * need_index * value
    return OfferingTerms(soft, full, inactive, value, population_match, language_access, points)


def upper_bound(
    off: OfferingColumns,
    needs: NeedArrays,
    credit_table: np.ndarray,
    terms: OfferingTerms,
    reach: np.ndarray,
    config: RankingConfig,
    grade_key: np.ndarray | None = None,
    history: np.ndarray | None = None,
) -> np.ndarray:
    """A score no row can exceed, from its columns alone (no text, one school's needs).

    Text similarity <= 1 and the other per-need soft penalties >= 0, so fit and constraints are
    bounded by their values at those extremes; reach and equity (terms: the rows' offering_terms
    for the school) are exact. Grades are read from the columns: whichever need is primary,
    its grade penalty is at least the smallest over the needs, and a row serving the grades of
    none of them is demoted (score_rows computes the same grade shares). Used to skip the exact
    scoring (and the text rows) of offerings that cannot reach the top k. grade_key: the
    rows' FixedTerms.grade_key, when the caller has them. history: the rows' history points
    (matching.history.history_points), which a score adds scaled by its fit share
    (fitted_history, non-decreasing in fit): bounded by the same scaling of the fit's bound.
    """
    c = config
    grade_penalty, serves_none = _grade_bound(off, needs, c, grade_key)
    weighted = (needs.weight[0] * needs.valid[0])[:, None] * credit_table[needs.credit_row[0]]
    best = best_over_slots(np.maximum.reduce(weighted, axis=0), off.categories)  # >= max_j
    total = max(float(np.add.reduce(needs.weight[0])), 1e-12)
    earned = np.add.reduce(weighted, axis=0)
    breadth = sum_over_slots(earned, off.categories)
    breadth = np.minimum(breadth, total) / total
    fit = c.fit_weight * ((1 - c.breadth_share) * best + c.breadth_share * breadth)
    constraints = c.constraints_weight * (1 - grade_penalty - terms.soft)
    constraints = constraints - c.demotion * (serves_none | terms.full | terms.inactive)
    bound = fit + c.reach_weight * reach + constraints + terms.equity
    if history is not None and c.fit_weight:
        bound += history * np.minimum(np.maximum(fit / c.fit_weight, 0.0), 1.0)
    return bound


def _grade_bound(
    off: OfferingColumns, needs: NeedArrays, c: RankingConfig, key: np.ndarray | None = None
) -> tuple[np.ndarray | float, np.ndarray | bool]:
    """Per row: the smallest grade penalty over one school's needs, and whether it serves the
    grades of none of them (then it is demoted whichever need is primary). Offered grades are
    -1..12 (matching.columns.encode clips them), so both are computed once per (low, high)
    pair of offered grades (`_grade_tables`) and looked up per row."""
    valid = needs.valid[0]
    if not valid.any():
        return 0.0, False
    spans = (tuple(needs.grade_low[0][valid].tolist()), tuple(needs.grade_high[0][valid].tolist()))
    penalty, serves_none = _grade_tables(spans, c.grade_partial_penalty)
    if key is None:
        key = grade_cell(off)
    return penalty.take(key), serves_none.take(key)


@functools.lru_cache(maxsize=1024)
def _grade_tables(
    spans: tuple[tuple[int, ...], tuple[int, ...]], partial_penalty: float
) -> tuple[np.ndarray, np.ndarray]:
    """_grade_bound's two lookup tables, by (low, high) cell of offered grades, for the needs'
    grade spans (lows, highs). Needs' grades come from a small set (a school's span or a
    narrower one), so these repeat across rankings: kept, read-only."""
    _, penalty, ungraded = _grade_share_tables(spans, partial_penalty)
    penalty = penalty.min(axis=1)
    serves_none = np.logical_and.reduce(ungraded, axis=1)
    penalty.flags.writeable = False
    serves_none.flags.writeable = False
    return penalty, serves_none


@functools.lru_cache(maxsize=1024)
def _grade_share_tables(
    spans: tuple[tuple[int, ...], tuple[int, ...]], partial_penalty: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """By (low, high) cell of offered grades (grade_key) and need: the share of the need's
    grade span (spans: the needs' lows and highs) served, its penalty and whether none is
    served, as score_rows computes them per row (the same values: elementwise). Read-only."""
    low, high = np.array(spans[0], dtype=np.int64), np.array(spans[1], dtype=np.int64)
    overlap = np.minimum(_GRID_HIGH[:, None], high) - np.maximum(_GRID_LOW[:, None], low)
    share = _share(overlap, high - low)
    tables = (share, partial_penalty * (1 - share), share <= 0)
    for table in tables:
        table.flags.writeable = False
    return tables


def _share(overlap: np.ndarray, span: np.ndarray) -> np.ndarray:
    """Share of a need's grades (span: high - low) that an overlap (high - low of the grades
    served) covers, in [0, 1]."""
    return np.minimum(np.maximum((overlap + 1) / (span + 1), 0.0), 1.0)


_GRADES = np.arange(-1, 13)  # PK (-1) .. 12, the range offerings' grades are encoded in
_GRID_LOW = np.repeat(_GRADES, len(_GRADES))
_GRID_HIGH = np.tile(_GRADES, len(_GRADES))


# Offerings have a few category slots (padding -1 reads the tables' last, neutral entry). These
# run over the slots, never along a short last axis, which numpy reduces slowly.
def best_per_row(categories: np.ndarray, lookup: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Per row, the largest lookup(category id) over its category slots, one slot at a time
    (for lookups that read a row's own table: reverse ranking; else best_over_slots)."""
    best = lookup(categories[:, 0])
    for slot in range(1, categories.shape[1]):
        best = np.maximum(best, lookup(categories[:, slot]))
    return best


def best_over_slots(values: np.ndarray, categories: np.ndarray) -> np.ndarray:
    """Per row, the largest values[category id] (values: by category id along its first
    axis) over its category slots: one gather of every slot (slots first), one reduce over
    them. Cheapest where each slot of `categories` is contiguous (Snapshot.candidates)."""
    return np.maximum.reduce(values.take(categories.T, axis=0), axis=0)


def sum_over_slots(values: np.ndarray, categories: np.ndarray) -> np.ndarray:
    """Per row, the sum of values[category id] over its category slots, in slot order (a
    reduce over the first axis adds its slices one after the other)."""
    return np.add.reduce(values.take(categories.T), axis=0)


def _preference_issue(offered: np.ndarray, preferred: np.ndarray) -> np.ndarray | None:
    """0 no preference or met, 1 offering unspecified, 2 offering offers none preferred (intp);
    None when no need states a preference (all 0: no penalty to look up)."""
    if not any_true(preferred):  # no need states a preference
        return None
    unmet = (preferred != 0) & ((offered & preferred) == 0)
    return np.where(unmet, np.where(offered == 0, 1, 2), 0).astype(np.intp)


@dataclass(frozen=True)
class _Tables:
    """Lookup tables of one configuration, indexed by COST_* code or preference issue."""

    cost_penalty: np.ndarray
    affordability: np.ndarray
    schedule_penalty: np.ndarray
    delivery_penalty: np.ndarray


def _tables(c: RankingConfig) -> _Tables:
    """The lookup tables of this configuration, kept per configuration object: by identity,
    which hashing the ~50 fields of the key (as a cache by value would, ~3 us) costs nothing.
    An entry holds its configuration, so no other object takes its id while it is kept."""
    entry = _TABLES.get(id(c))
    if entry is None:
        if len(_TABLES) >= 16:
            _TABLES.clear()
        entry = _TABLES[id(c)] = (c, _tables_of(c))
    return entry[1]


_TABLES: dict[int, tuple[RankingConfig, _Tables]] = {}


def _tables_of(c: RankingConfig) -> _Tables:
    tables = _Tables(
        cost_penalty=_by_cost(c.cost_unknown_penalty, 0.0, c.sliding_scale_penalty, c.fee_penalty),
        affordability=_by_cost(
            c.affordability_unknown,
            c.affordability_free,
            c.affordability_sliding_scale,
            c.affordability_fee,
        ),
        schedule_penalty=np.array([0.0, c.schedule_unknown_penalty, c.schedule_mismatch_penalty]),
        delivery_penalty=np.array([0.0, c.delivery_unknown_penalty, c.delivery_mismatch_penalty]),
    )
    for table in vars(tables).values():
        table.flags.writeable = False  # shared between rankings
    return tables


def _by_cost(unknown: float, free: float, sliding: float, fee: float) -> np.ndarray:
    """Lookup table indexed by COST_* code."""
    by_code = {COST_UNKNOWN: unknown, COST_FREE: free, COST_SLIDING: sliding, COST_FEE: fee}
    return np.array([by_code[code] for code in range(len(by_code))])


def take_rows(obj: T, rows: np.ndarray) -> T:
    """A dataclass of per-row arrays (Place, Reach, OfferingTerms) restricted to these rows."""
    data: Any = obj
    names = _FIELDS.get(type(data))
    if names is None:
        names = _FIELDS[type(data)] = tuple(f.name for f in fields(data))
    return cast(T, type(data)(*[getattr(data, name).take(rows, axis=0) for name in names]))


_FIELDS: dict[type, tuple[str, ...]] = {}  # field names of the dataclasses take_rows meets


def top_pool(score: np.ndarray, k: int) -> np.ndarray:
    """Rows whose score reaches the k-th best (every row tied with it included), unordered."""
    n = len(score)
    if n == 0 or k <= 0:
        return np.zeros(0, dtype=np.intp)
    if n > k:
        kth = score.copy()
        kth.partition(n - k)
        return (score >= kth[n - k]).nonzero()[0]
    return np.arange(n)


def top_rows(score: np.ndarray, ids: np.ndarray, k: int) -> np.ndarray:
    """Rows of the k best scores, best first; equal scores in ascending id (deterministic)."""
    pool = top_pool(score, k)
    order = np.lexsort((ids[pool], -score[pool]))
    return pool[order[:k]]
