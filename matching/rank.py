"""Ranking in both directions: offerings for a school, schools for an organization's offerings.

Both use the same model (matching.scoring) and return explained results whose contributions
add up to their score. Results are deterministic. Offerings with equal scores are ordered by
what a principal would look at next (`best_rows`): the longer track record (schools served on
record), then the nearer partner (distance is not scored for virtual offerings, and an in-area
or capped reach can tie), then more capacity left (schools, then students; unstated last), and
only then the lower offering id. Schools with equal scores go by ascending id.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from geo.distance import EARTH_RADIUS_KM, haversine_km
from matching.columns import OfferingColumns, all_true, any_true
from matching.config import RankingConfig
from matching.errors import RankingInputError
from matching.explain import (
    Context,
    RowFacts,
    SchoolFacts,
    explain_row,
    offering_reason_of,
    school_reason,
)
from matching.filters import Filters, filter_mask
from matching.history import History, fitted_history, high_need_record, history_points
from matching.index import OfferingIndex, Snapshot, query_radius_km
from matching.needs import credited_categories, layout_needs
from matching.priority import priority_lift
from matching.results import RankedOffering, RankedSchool, replaced
from matching.scoring import (
    Reach,
    Scored,
    best_over_slots,
    family_languages,
    offering_terms,
    one_need_index,
    reach_at,
    school_places,
    score_rows,
    take_rows,
    top_pool,
    top_rows,
    upper_bound,
)
from matching.tables import Need, SchoolQuery, SchoolTable
from matching.vocab import (
    POPULATIONS,
    VIRTUAL_BIT,
    bitmask,
)

# Margin for rounding between the bound and the exact score (both float64, ~1e-16 apart).
BOUND_SLACK = 1e-9
# Rows scored exactly before the bound is consulted: max(8 * k, FIRST_BATCH). For k = 20 on
# the synthetic benchmark (100,000 offerings), the rows whose bound reaches the 20th exact
# score number p50 111, p95 164, at most 223 (200 schools), so one batch of 224 settles the
# ranking without a second pass.
FIRST_BATCH = 224


def rank_offerings(
    index: OfferingIndex,
    school: SchoolQuery,
    needs: Sequence[Need],
    *,
    k: int = 20,
    equity: float | None = None,
    filters: Filters | None = None,
    config: RankingConfig | None = None,
    as_of: dt.date | None = None,
    explained: range | None = None,
) -> list[RankedOffering]:
    """The k offerings that best meet the school's needs, best first, each explained.

    equity: strength in [0, 1] (None = config.equity; 0 = pure fit + reach + constraints).
    as_of: the date offerings must be active on (None = today); inactive ones are demoted.
    explained: the positions (0-based) whose results are explained, e.g. the page shown of a
    deeper ranking (None = all); the others have no contributions, needs met, reason or
    warnings, and are for counting, not showing.
    """
    cfg = config or index.config
    strength = _strength(equity, cfg)
    if not needs:
        raise RankingInputError("rank_offerings needs at least one need", ("needs",))
    day = as_of or dt.date.today()
    snap = index.snapshot()
    slots = sorted(needs, key=lambda n: n.priority)
    tree = snap.tree.extended(n.category for n in slots)
    layout = layout_needs(
        [slots], [(school.grade_low, school.grade_high)], tree, snap.languages, cfg
    )
    relevant = np.maximum.reduce(layout.credit_table[:-1], axis=0) > 0  # last: unassessed
    covered = np.array(sorted(school.covered_by or ()), dtype=np.int64)
    off, base_rows, buffer_rows = snap.candidates(
        school.lat, school.lon, query_radius_km(cfg, school.locale), relevant, covered
    )
    # Reach decides which candidates are eligible at all: the others (a few in-person rows in
    # the grid cells' corners, usually) are bounded at -inf, so they are never scored, rather
    # than gathered out of the candidates again.
    candidate_reach, distance = _candidate_reach(
        school, off, covered, cfg, distances=filters is not None
    )
    reach_value, keep = candidate_reach.value, candidate_reach.eligible
    if filters is not None:
        assert distance is not None
        keep = keep & filter_mask(off, distance, filters, tree, snap.languages)
    need_index = one_need_index(school.need_index, cfg)
    record = high_need_record(index.history, off.organization_ids, cfg)
    # The index's config: its rows' fixed terms are kept (another config computes its own).
    fixed = snap.fixed_terms(base_rows, buffer_rows, cfg) if cfg is index.config else None
    terms = offering_terms(
        off,
        need_index,
        bitmask(school.populations, POPULATIONS, "populations"),
        family_languages(snap.languages, school.languages),
        as_of=day.toordinal(),
        equity=strength,
        reverse=False,
        config=cfg,
        record=record,
        fixed=fixed,
    )
    history, served, like = history_points(
        index.history, school.lat, school.lon, slots, off.organization_ids, cfg
    )
    # With no more candidates than the first batch, every eligible one is scored exactly at
    # once and no bound can add a row (an ineligible one is bounded at -inf): none is computed.
    batch = max(8 * k, FIRST_BATCH)
    bound = None
    if len(off) > batch:
        bound = upper_bound(
            off, layout.needs, layout.credit_table, terms, reach_value, cfg,
            None if fixed is None else fixed.grade_key,
            history if len(index.history) else None,
        )  # fmt: skip
        bound = np.where(keep, bound, -np.inf)
    # The needs of the top priority: the first slots (sorted by priority).
    top = sum(n.priority == slots[0].priority for n in slots)
    queries = snap.query_text.terms(layout.texts)

    def exact(rows: np.ndarray) -> tuple[OfferingColumns, Scored]:
        if len(buffer_rows):  # rows are ascending: base rows first, as in the gather
            split = rows.searchsorted(len(base_rows))
            similarity = snap.similarity(
                base_rows[rows[:split]], buffer_rows[rows[split:] - len(base_rows)], queries
            )
        else:
            similarity = snap.similarity(base_rows.take(rows), buffer_rows, queries)
        sub_off = off.take(rows)
        scored = score_rows(
            sub_off,
            layout.needs,
            None,
            layout.credit_table,
            np.minimum(np.maximum(similarity, 0.0), 1.0),
            None,
            reach_value.take(rows),
            as_of=day.toordinal(),
            equity=strength,
            reverse=False,
            config=cfg,
            terms=take_rows(terms, rows),
            grade_key=None if fixed is None else fixed.grade_key.take(rows),
        )
        if not len(index.history):  # no partnership records: the model without history
            return sub_off, scored
        points = fitted_history(history[rows], scored.fit, cfg)
        scored = replaced(
            scored,
            score=scored.score + points,
            history=points,
            served=served[rows],
            like=like[rows],
        )
        return sub_off, scored

    # Score exactly the most promising rows first; then every row whose bound still reaches
    # the k-th best exact score (nothing else can enter the top k).
    if bound is None:
        first = keep.nonzero()[0]
    else:
        first = _best_by(bound, batch)
        first = first[keep[first]]  # fewer eligible candidates than the batch: all of them
    top_off, scored = exact(first)
    if bound is not None and len(first) >= k:
        kth = scored.score.copy()
        kth.partition(len(first) - k)
        more = (bound >= kth[len(first) - k] - BOUND_SLACK).nonzero()[0]
        if len(more) > len(first):
            first = more
            top_off, scored = exact(more)
    # Priority at the top (matching.priority): the best row meeting a top-priority need must
    # be scored exactly, so score every such row whose bound reaches the best one found.
    # (Without a bound every eligible candidate is scored already; other > -inf: some row
    # meets no top-priority need.)
    meets_top = _meets_top(scored, top)
    found, other = _best_scores(scored.score, meets_top)
    if bound is not None and other > -np.inf and other >= found:
        top_credit = layout.credit_table[layout.needs.credit_row[0][:top]].max(axis=0)
        may_meet_top = best_over_slots(top_credit, off.categories) > 0
        extra = np.flatnonzero(keep & may_meet_top & (bound >= found - BOUND_SLACK))
        if len(np.setdiff1d(extra, first)):
            first = np.union1d(first, extra)
            top_off, scored = exact(first)
            meets_top = _meets_top(scored, top)
            found, other = _best_scores(scored.score, meets_top)
    lift = _priority_lift(scored.score, top_off.ids, meets_top, found, other)
    if lift is not None:  # else no row moves (Scored.priority None: no contribution)
        scored = replaced(scored, score=scored.score + lift, priority=lift)
    off = top_off
    ctx = Context(
        tree, snap.languages, layout.credit_table, cfg, strength, day, reverse=False,
        school_estimated=school.location_estimated,
    )  # fmt: skip
    school_facts = SchoolFacts(
        slots, (school.grade_low, school.grade_high), school.languages, school.populations,
        need_index,
    )  # fmt: skip
    partners_here = _partners_of(index.history, school.school_id)
    # Distance and reach of the rows that can rank, for the tie-breaks and the explanations.
    pool = top_pool(scored.score, k)
    distance = haversine_km(school.lat, school.lon, off.lat[pool], off.lon[pool])
    reach = take_rows(candidate_reach, first.take(pool))
    order = best_rows(scored, pool, off, distance, k)
    rows = pool[order]
    facts = RowFacts(
        off, reach, distance, rows, scored, order,
        credit_table=layout.credit_table, need_rows=layout.slot_rows[0],
    )  # fmt: skip
    ids = off.ids[rows].tolist()
    organizations = off.organization_ids[rows].tolist()
    scores = scored.score[rows].tolist()
    results = []
    # RankedOffering's fields in order: called by keyword, its __init__ takes them as a dict
    # (about twice the cost of a positional call).
    for i, organization in enumerate(organizations):
        if explained is not None and i not in explained:  # counted, not shown: no words
            results.append(
                RankedOffering(
                    ids[i], organization, i + 1, scores[i], (), (), "", facts.distance[i], (),
                    cfg.version,
                )
            )  # fmt: skip
            continue
        why = explain_row(ctx, facts, i, school_facts, organization in partners_here)
        reason = offering_reason_of(ctx, facts, i, why, slots[0].priority)
        results.append(
            RankedOffering(
                ids[i], organization, i + 1, scores[i], why.contributions, why.needs_met, reason,
                facts.distance[i], why.warnings, cfg.version,
            )
        )  # fmt: skip
    return results


def _meets_top(scored: Scored, top: int) -> np.ndarray:
    """Rows meeting a need of the top priority (credit > 0 in one of the first `top` slots)
    without a dominant problem."""
    if top == 1:  # the usual case: one need has the top priority
        return (scored.credit[:, 0] > 0) & ~scored.demoted
    return np.logical_or.reduce(scored.credit[:, :top] > 0, axis=1) & ~scored.demoted


def _best_scores(score: np.ndarray, meets_top: np.ndarray) -> tuple[float, float]:
    """The best score of the rows meeting a top-priority need and that of the others (-inf
    where there is none; scores are finite)."""
    found = np.maximum.reduce(score, where=meets_top, initial=-np.inf)
    other = np.maximum.reduce(score, where=~meets_top, initial=-np.inf)
    return float(found), float(other)


def _priority_lift(
    score: np.ndarray, ids: np.ndarray, meets_top: np.ndarray, found: float, other: float
) -> np.ndarray | None:
    """matching.priority.priority_lift of every row; None for its all-zero answer when the
    best row meeting a top-priority need already leads (or no row meets one, or every row
    does), told by the two best scores (_best_scores) without the call. (Adding those zeros
    would change no score: a score is never -0.0, its reach points being >= +0.0.)"""
    if found > -np.inf and other > -np.inf and not found > other:
        return priority_lift(score, ids, meets_top, np.ones(len(score), dtype=bool))
    return None


# How many offerings rank_organizations ranks at most to find k organizations.
MAX_ORGANIZATION_DEPTH = 5000


def rank_organizations(
    index: OfferingIndex,
    school: SchoolQuery,
    needs: Sequence[Need],
    *,
    k: int = 20,
    **options: Any,
) -> list[RankedOffering]:
    """The k organizations whose best offering ranks highest for the school, best first: each
    is that offering (`rank` = the organization's place) with the organization's other ranked
    offerings nested in `others`, best first. Options are rank_offerings'.

    Offerings are ranked deep enough to find k organizations (4k, then 4x more while an
    organization crowds them, up to MAX_ORGANIZATION_DEPTH); `others` holds an
    organization's offerings among those ranked.
    """
    depth = 4 * k
    while True:
        ranked = rank_offerings(index, school, needs, k=depth, **options)
        found = len({r.organization_id for r in ranked})
        if found >= k or len(ranked) < depth or depth >= MAX_ORGANIZATION_DEPTH:
            break
        depth = min(4 * depth, MAX_ORGANIZATION_DEPTH)
    groups: dict[int, list[RankedOffering]] = {}
    for result in ranked:
        groups.setdefault(result.organization_id, []).append(result)
    return [
        dataclasses.replace(best, rank=rank, others=tuple(rest))
        for rank, (best, *rest) in enumerate(list(groups.values())[:k], start=1)
    ]


def _partners_of(history: History, school_id: int | None) -> frozenset[int]:
    """Organizations the history records as partners of this school."""
    if school_id is None or not len(history):
        return frozenset()
    return frozenset(history.organization_ids[history.school_ids == school_id].tolist())


def _candidate_reach(
    school: SchoolQuery,
    off: OfferingColumns,
    covered: np.ndarray,
    cfg: RankingConfig,
    *,
    distances: bool,
) -> tuple[Reach, np.ndarray | None]:
    """Every candidate's reach, as `_reach` gives it; and, when `distances` (filters read
    them), the candidates' distances, +inf for the far virtual rows below (a distance filter
    passes every virtual offering, so theirs is never read), else None.

    Virtual offerings are most of a ranking's candidates, always within reach, and their reach
    is max(value, virtual_reach) (matching.scoring.reach_at). Where the distance in latitude
    alone (a lower bound of the great-circle distance) already decays value below
    virtual_reach at the widest scale, and no service radius or polygon can cover the school
    (value is then at most the decay), the reach is exactly virtual_reach: the haversine and
    reach_at of those rows are left out. Their flags follow as reach_at sets them for a
    virtual row out of every area: not in area; outside where it declares a radius (one that
    does not reach), or a polygon area when the school's coverage is known.
    """
    n = len(off)
    far = np.zeros(n, dtype=bool)
    vr = cfg.virtual_reach
    if 0 < vr < 1 and cfg.outside_area_factor <= 1:
        virtual = (off.delivery & VIRTUAL_BIT) != 0
        scale = cfg.scale_km(school.locale) * max(cfg.at_school_travel_factor, 1.0)
        limit = scale * math.log(1.0 / vr) * (1 + FAR_MARGIN) + FAR_MARGIN
        # EARTH_RADIUS_KM * |latitude difference in radians|, a little shortened for rounding.
        lower = np.abs(off.lat - school.lat) * (_KM_PER_DEGREE * (1 - FAR_MARGIN))
        # Beyond the limit and any radius (fmax skips NaN: no radius; float64 like lower).
        far = virtual & (lower > np.fmax(off.service_radius_km, np.float64(limit)))
        if len(covered):
            far &= ~np.isin(off.ids, covered)
    if not any_true(far):
        distance = haversine_km(school.lat, school.lon, off.lat, off.lon)
        return _reach(school, off, distance, covered, cfg), distance
    near = (~far).nonzero()[0]
    value = np.full(n, vr)
    eligible = np.ones(n, dtype=bool)
    in_area = np.zeros(n, dtype=bool)
    outside = off.service_radius_km == off.service_radius_km  # not NaN: declares a radius
    if school.covered_by is not None:
        outside |= off.has_service_area
    known_km = np.full(n, np.inf) if distances else None
    if len(near):
        sub = off.take(near)
        near_km = haversine_km(school.lat, school.lon, sub.lat, sub.lon)
        reach = _reach(school, sub, near_km, covered, cfg)
        value[near] = reach.value
        eligible[near] = reach.eligible
        in_area[near] = reach.in_area
        outside[near] = reach.outside_area
        if known_km is not None:
            known_km[near] = near_km
    return Reach(value, eligible, virtual, in_area, outside), known_km


# Relative and absolute (km) margin of the far-virtual test against rounding (far exceeds it).
FAR_MARGIN = 1e-6
_KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180.0


def _reach(
    school: SchoolQuery,
    off: OfferingColumns,
    distance_km: np.ndarray,
    covered: np.ndarray,
    cfg: RankingConfig,
) -> Reach:
    """Reach of these offerings from the one school (covered: ids covering it, ascending)."""
    is_covered = np.isin(off.ids, covered) if len(covered) else None
    known = school.covered_by is not None
    return reach_at(off, distance_km, cfg.scale_km(school.locale), is_covered, known, cfg)


def rank_schools(
    index: OfferingIndex,
    schools: SchoolTable,
    *,
    offering_ids: Iterable[int] | None = None,
    organization_id: int | None = None,
    k: int = 20,
    equity: float | None = None,
    config: RankingConfig | None = None,
    as_of: dt.date | None = None,
    coverage: Mapping[int, Collection[int]] | None = None,
    max_distance_km: float | None = None,
) -> list[RankedSchool]:
    """The k schools where these offerings (given by id, or all of one organization's) are
    needed most, best first; each school is scored with the offering that serves it best.

    coverage: offering id -> ids of the schools its polygon service area covers (optional).
    With similar fit, higher-need schools rank first; equity sets how much (0 = pure fit).
    """
    cfg = config or index.config
    strength = _strength(equity, cfg)
    if (offering_ids is None) == (organization_id is None):
        raise ValueError("give exactly one of offering_ids or organization_id")
    day = as_of or dt.date.today()
    snap = index.snapshot()
    off, off_text = _offerings_of(snap, offering_ids, organization_id)
    n_schools, n_off = len(schools), len(off)
    if n_schools == 0 or n_off == 0:
        return []
    # Which schools can match at all: one with a filed need some offering earns credit for
    # (or none filed) and an offering within reach. Only those are laid out and scored.
    groups = [sorted(needs, key=lambda n: n.priority) for needs in schools.needs]
    tree = snap.tree.extended(n.category for group in groups for n in group)
    useful = credited_categories(tree, {n.category for group in groups for n in group}, off, cfg)
    matchable = np.array(
        [not group or any(n.category in useful for n in group) for group in groups]
    )
    s = np.repeat(np.arange(n_schools), n_off)
    o = np.tile(np.arange(n_off), n_schools)
    pairs = off.take(o)
    # Each pair measured from the organization's location nearest that school (issue 12).
    snap.places.nearest(pairs, schools.lat[s], schools.lon[s])
    distance = haversine_km(schools.lat[s], schools.lon[s], pairs.lat, pairs.lon)
    covered, known = _coverage(coverage, off.ids, schools.ids)
    scale = np.array([cfg.scale_km(loc) for loc in schools.locale])
    reach = reach_at(pairs, distance, scale[s], covered[o, s], known[o], cfg)
    keep = reach.eligible & matchable[s]
    if max_distance_km is not None:
        keep &= (distance <= max_distance_km) | reach.virtual
    rows = np.flatnonzero(keep)
    if len(rows) == 0:
        return []
    chosen, s = np.unique(s[rows], return_inverse=True)  # s: position among chosen schools
    o, pairs, reach = o[rows], pairs.take(rows), take_rows(reach, rows)

    slots: list[list[Need | None]] = [[*groups[i]] or [None] for i in chosen]
    grades = list(zip(schools.grade_low.tolist(), schools.grade_high.tolist(), strict=True))
    layout = layout_needs(slots, [grades[i] for i in chosen], tree, snap.languages, cfg, useful)
    places = school_places(schools, chosen, snap.languages, cfg)
    place = places.place(s, distance[rows], covered[o, chosen[s]], known[o])
    width = layout.needs.valid.shape[1]
    similarity = _text_similarity(snap, off_text, layout.texts)  # (n_off, chosen * width)
    text = similarity.reshape(n_off, len(chosen), width)[o, s]
    scored = score_rows(
        pairs,
        layout.needs,
        s,
        layout.credit_table,
        text,
        place,
        reach.value,
        as_of=day.toordinal(),
        equity=strength,
        reverse=True,
        config=cfg,
    )
    # Best offering per school (ties: lower offering id), then the best schools. A school
    # none of whose filed needs an offering meets is not a match for it.
    order = np.lexsort((pairs.ids, -scored.score, s))
    order = order[scored.credit[order].max(axis=1, initial=0.0) > 0]
    first = order[np.r_[True, s[order][1:] != s[order][:-1]]] if len(order) else order
    ctx = Context(tree, snap.languages, layout.credit_table, cfg, strength, day, reverse=True)
    picked = first[top_rows(scored.score[first], schools.ids[chosen[s[first]]], k)]
    facts = RowFacts(
        pairs, reach, place.distance_km, picked, scored,
        credit_table=layout.credit_table, need_rows=layout.needs.credit_row[s[picked]],
    )  # fmt: skip
    results = []
    for i, r in enumerate(picked.tolist()):
        school = int(chosen[s[r]])
        known_index = schools.need_index[school]
        index_value = None if math.isnan(known_index) else float(known_index)
        school_facts = SchoolFacts(
            slots[s[r]],
            grades[school],
            schools.languages[school],
            schools.populations[school],
            float(place.need_index[r]),
        )
        explained = explain_row(ctx, facts, i, school_facts)
        results.append(
            RankedSchool(
                school_id=int(schools.ids[school]),
                offering_id=int(pairs.ids[r]),
                rank=i + 1,
                score=float(scored.score[r]),
                contributions=explained.contributions,
                needs_met=explained.needs_met,
                reason=school_reason(facts, i, explained, index_value),
                distance_km=facts.distance[i],
                need_index=index_value,
                warnings=explained.warnings,
                model_version=cfg.version,
            )
        )
    return results


def best_rows(
    scored: Scored, pool: np.ndarray, off: OfferingColumns, distance_km: np.ndarray, k: int
) -> np.ndarray:
    """Positions in `pool` (rows whose score reaches the k-th best: scoring.top_pool) of the k
    best rows, best first; equal scores ordered by the tie-breaks of the module docstring
    (track record, distance, capacity left, id). off: the scored rows' offerings;
    distance_km: of the pool rows."""
    score = scored.score[pool]
    # Without equal scores (almost always), the score alone orders them.
    by_score = np.argsort(-score, kind="stable")
    best = score[by_score]
    if all_true(best[1:] != best[:-1]):
        return by_score[:k]
    served = np.zeros(len(pool)) if scored.served is None else scored.served[pool]
    schools_left, students_left = off.schools_left[pool], off.students_left[pool]
    schools_left = np.where(np.isnan(schools_left), -1.0, schools_left)  # unstated last
    students_left = np.where(np.isnan(students_left), -1.0, students_left)
    keys = (off.ids[pool], -students_left, -schools_left, distance_km, -served, -score)
    return np.lexsort(keys)[:k]


# --- helpers ---------------------------------------------------------------------------------


def _best_by(values: np.ndarray, count: int) -> np.ndarray:
    """The (ascending) positions of the `count` largest values."""
    if len(values) <= count:
        return np.arange(len(values))
    best = values.argpartition(len(values) - count)[len(values) - count :]
    best.sort()
    return best


def _text_similarity(snap: Snapshot, rows: sp.csr_matrix, texts: list[str]) -> np.ndarray:
    """(len(rows), len(texts)) cosine similarity of offering texts and need query texts."""
    queries = snap.query_rows(texts)
    if rows.shape[0] == 0:
        return np.zeros((0, len(texts)))
    return np.asarray((rows @ queries.T).toarray(), dtype=np.float64)


def _offerings_of(
    snap: Snapshot, offering_ids: Iterable[int] | None, organization_id: int | None
) -> tuple[OfferingColumns, sp.csr_matrix]:
    """Live offerings chosen by id or organization, in ascending id, and their text rows."""
    wanted = None if offering_ids is None else np.fromiter(offering_ids, dtype=np.int64)

    def pick(cols: OfferingColumns) -> np.ndarray:
        if wanted is not None:
            return np.isin(cols.ids, wanted)
        return cols.organization_ids == organization_id

    off, text = snap.live(pick)
    order = np.argsort(off.ids, kind="stable")
    return off.take(order), text[order]


def _coverage(
    coverage: Mapping[int, Collection[int]] | None, offering_ids: np.ndarray, school_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(offerings, schools) covered matrix and, per offering, whether coverage is known."""
    covered = np.zeros((len(offering_ids), len(school_ids)), dtype=bool)
    known = np.zeros(len(offering_ids), dtype=bool)
    for i, offering in enumerate(offering_ids.tolist()):
        if coverage is not None and offering in coverage:
            known[i] = True
            covered[i] = np.isin(school_ids, np.fromiter(coverage[offering], dtype=np.int64))
    return covered, known


def _strength(equity: float | None, cfg: RankingConfig) -> float:
    strength = cfg.equity if equity is None else float(equity)
    if not 0 <= strength <= 1:
        raise RankingInputError(f"equity must be in [0, 1], got {equity}", ("equity",))
    return strength
