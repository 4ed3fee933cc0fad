"""Invariants of the ranking on random offerings, needs and schools (hypothesis)."""

from __future__ import annotations

import datetime as dt
from unittest.mock import patch

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matching.rank as rank_module
from bench.synthetic import synthetic_offerings, synthetic_schools, synthetic_taxonomy
from geo.distance import haversine_km
from matching import (
    Filters,
    Need,
    OfferingRecord,
    RankingConfig,
    SchoolQuery,
    SchoolTable,
    rank_offerings,
    rank_schools,
)
from matching.index import OfferingIndex
from tests.matching.factories import (
    AS_OF,
    SCHOOL_LAT,
    SCHOOL_LON,
    TAXONOMY,
    build,
    need,
    offering,
    school,
)

CODES = sorted(TAXONOMY)
ALL = 10**6  # k large enough to return every eligible offering
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def subset(values, min_size=0):
    return st.frozensets(st.sampled_from(values), min_size=min_size)


dates = st.sampled_from([None, dt.date(2025, 6, 30), dt.date(2026, 1, 1), dt.date(2027, 1, 1)])
words = st.lists(
    st.sampled_from(
        [
            "counseling",
            "robotics",
            "reading",
            "music",
            "grief",
            "families",
            "free",
            "weekly",
            "spanish",
        ]
    ),
    max_size=6,
)


@st.composite
def offerings(draw, min_size=1, max_size=12):
    count = draw(st.integers(min_size, max_size))
    records = []
    for i in range(count):
        low = draw(st.integers(-1, 12))
        records.append(
            OfferingRecord(
                id=draw(st.integers(1, 10_000)) * 100 + i,
                organization_id=draw(st.integers(1, 3)),
                lat=SCHOOL_LAT + draw(st.floats(-0.3, 0.3)),
                lon=SCHOOL_LON + draw(st.floats(-0.3, 0.3)),
                categories=tuple(draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=2))),
                grade_low=low,
                grade_high=draw(st.integers(low, 12)),
                schedule=draw(subset(["during_school", "after_school", "weekends", "summer"])),
                delivery=draw(subset(["at_school", "at_partner_site", "virtual"])),
                languages=draw(subset(["en", "es", "zh"])),
                cost=draw(st.sampled_from(["free", "sliding_scale", "fee", None])),
                schools_left=draw(st.sampled_from([None, 0, 3])),
                students_left=draw(st.sampled_from([None, 0, 40, 500])),
                populations=draw(subset(["title_i", "english_learners", "rural", "low_income"])),
                active_from=draw(dates),
                active_until=draw(dates),
                text=" ".join(draw(words)),
                verified=draw(st.booleans()),
                service_radius_km=draw(st.sampled_from([None, 5.0, 100.0])),
                has_service_area=draw(st.booleans()),
            )
        )
    return records


@st.composite
def needs(draw, max_size=3):
    result = []
    for _ in range(draw(st.integers(1, max_size))):
        low = draw(st.one_of(st.none(), st.integers(-1, 12)))
        high = None if low is None else draw(st.integers(low, 12))
        result.append(
            Need(
                category=draw(st.sampled_from(CODES)),
                priority=draw(st.integers(1, 5)),
                grade_low=low,
                grade_high=high,
                students_affected=draw(st.one_of(st.none(), st.integers(1, 300))),
                schedule=draw(subset(["after_school", "summer"])),
                delivery=draw(subset(["at_school", "virtual"])),
                languages=draw(subset(["es", "zh"])),
                notes=" ".join(draw(words)),
            )
        )
    return result


schools = st.builds(
    school,
    locale=st.sampled_from(["city", "suburb", "town", "rural", None]),
    need_index=st.one_of(st.none(), st.floats(0, 1)),
    grade_low=st.just(6),
    grade_high=st.just(8),
)


def unique_ids(records):
    seen = {}
    for record in records:
        seen.setdefault(record.id, record)
    return list(seen.values())


@PROPERTY
@given(offerings(), needs(), schools, st.floats(0, 1))
def test_explanation_contributions_add_up_to_the_score(records, need_list, query, equity):
    index = build(*unique_ids(records))
    for result in rank_offerings(index, query, need_list, k=ALL, equity=equity, as_of=AS_OF):
        assert sum(c.points for c in result.contributions) == result.score
        assert result.needs_met and result.reason


@PROPERTY
@given(offerings(), needs(), schools)
def test_a_grade_or_language_mismatch_never_ranks_above_a_clean_match(records, need_list, query):
    index = build(*unique_ids(records))
    results = rank_offerings(index, query, need_list, k=ALL, as_of=AS_OF)
    mismatched = [
        r.rank
        for r in results
        if any(w.startswith(("serves ", "not offered in")) for w in r.warnings)
    ]
    demotions = ("serves ", "not offered in", "at capacity", "not active")
    clean = [r.rank for r in results if not any(w.startswith(demotions) for w in r.warnings)]
    if mismatched and clean:
        assert min(mismatched) > max(clean)


@PROPERTY
@given(offerings(min_size=5, max_size=25), needs(), schools, st.integers(1, 4))
def test_pruning_returns_exactly_the_head_of_the_full_ranking(records, need_list, query, k):
    index = build(*unique_ids(records))
    full = rank_offerings(index, query, need_list, k=ALL, as_of=AS_OF)
    # Score only k rows exactly before consulting the bounds, so pruning does the work.
    with patch.object(rank_module, "FIRST_BATCH", 0):
        head = rank_offerings(index, query, need_list, k=k, as_of=AS_OF)
    assert head == full[:k]


def test_pruning_keeps_an_offering_that_only_its_description_lifts_to_the_top():
    # Nine nearer decoys bound higher than the winner, whose description matches the need's
    # notes exactly; the first exact batch (8 * k rows) holds only decoys.
    decoys = [offering(i, km=1.0, text="Robotics club") for i in range(1, 10)]
    winner = offering(99, km=2.0, text="Counseling grief circles")
    index = build(*decoys, winner)
    notes = [need(notes="grief circles")]
    with patch.object(rank_module, "FIRST_BATCH", 0):
        top = rank_offerings(index, school(), notes, k=1, as_of=AS_OF)
    assert [r.offering_id for r in top] == [99]


def test_pruning_on_a_dense_synthetic_city_returns_the_head_of_the_full_ranking():
    parents, names = synthetic_taxonomy()
    bbox = (-122.6, 37.5, -121.9, 38.0)
    offerings_table = synthetic_offerings(4000, 11, list(parents), bbox)
    table = synthetic_schools(20, 12, list(parents), bbox)
    index = OfferingIndex.build(offerings_table, parents, names=names)
    for i in range(len(table)):
        query, need_list = table.query(i)
        full = rank_offerings(index, query, need_list, k=ALL, as_of=AS_OF)
        assert len(full) > 100
        assert rank_offerings(index, query, need_list, k=20, as_of=AS_OF) == full[:20]
        with patch.object(rank_module, "FIRST_BATCH", 0):
            assert rank_offerings(index, query, need_list, k=5, as_of=AS_OF) == full[:5]


filters = st.builds(
    Filters,
    grades=st.one_of(st.none(), st.tuples(st.integers(-1, 5), st.integers(6, 12))),
    schedule=st.one_of(st.none(), subset(["after_school", "summer"], 1)),
    delivery=st.one_of(st.none(), subset(["at_school", "virtual"], 1)),
    languages=st.one_of(st.none(), subset(["en", "es", "fr"], 1)),
    categories=st.one_of(st.none(), subset(["literacy", "mental_health_sel.counseling"], 1)),
    free_only=st.booleans(),
    max_distance_km=st.one_of(st.none(), st.sampled_from([3.3, 9.7, 15.1])),
    active_on=st.one_of(st.none(), st.sampled_from([dt.date(2025, 6, 30), dt.date(2026, 6, 1)])),
    exclude_full=st.booleans(),
    verified_only=st.booleans(),
)


def passes(record: OfferingRecord, f: Filters, query: SchoolQuery) -> bool:
    """The filters' documented meaning, written independently of the implementation."""
    if f.grades and not (record.grade_low <= f.grades[1] and record.grade_high >= f.grades[0]):
        return False
    if f.schedule and not set(record.schedule) & f.schedule:
        return False
    if f.delivery and not set(record.delivery) & f.delivery:
        return False
    if f.languages and not (set(record.languages) or {"en"}) & f.languages:
        return False
    if f.categories and not any(
        code == wanted or code.startswith(wanted + ".")
        for code in record.categories
        for wanted in f.categories
    ):
        return False
    if f.free_only and record.cost != "free":
        return False
    if f.max_distance_km is not None and "virtual" not in record.delivery:
        d = float(haversine_km(query.lat, query.lon, np.array(record.lat), np.array(record.lon)))
        if d > f.max_distance_km:
            return False
    if f.active_on is not None:
        if record.active_from is not None and f.active_on < record.active_from:
            return False
        if record.active_until is not None and f.active_on > record.active_until:
            return False
    full = any(v is not None and v <= 0 for v in (record.schools_left, record.students_left))
    if f.exclude_full and full:
        return False
    return not (f.verified_only and not record.verified)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(offerings(max_size=20), needs(), schools, filters)
def test_filters_exclude_exactly_what_they_say(records, need_list, query, f):
    records = unique_ids(records)
    index = build(*records)
    by_id = {r.id: r for r in records}
    unfiltered = rank_offerings(index, query, need_list, k=ALL, as_of=AS_OF)
    filtered = rank_offerings(index, query, need_list, k=ALL, filters=f, as_of=AS_OF)
    expected = [r.offering_id for r in unfiltered if passes(by_id[r.offering_id], f, query)]
    assert [r.offering_id for r in filtered] == expected


@st.composite
def school_tables(draw):
    count = draw(st.integers(2, 10))
    queries, need_lists = [], []
    for i in range(count):
        queries.append(
            SchoolQuery(
                lat=SCHOOL_LAT + draw(st.floats(-0.1, 0.1)),
                lon=SCHOOL_LON + draw(st.floats(-0.1, 0.1)),
                school_id=i + 1,
                locale=draw(st.sampled_from(["city", "suburb", "rural"])),
                grade_low=6,
                grade_high=8,
                need_index=draw(st.sampled_from([0.1, 0.3, 0.5, 0.7, 0.9, 0.95])),
                languages=draw(subset(["en", "es"])),
            )
        )
        need_lists.append(draw(st.one_of(st.just([]), needs(max_size=2))))
    return SchoolTable.from_queries(queries, need_lists)


@PROPERTY
@given(offerings(max_size=4), school_tables(), st.floats(0, 1), st.floats(0, 1))
def test_raising_equity_never_lowers_a_school_below_lower_need_schools(records, table, e1, e2):
    low_e, high_e = sorted([e1, e2])
    index = build(*unique_ids(records))
    organization = records[0].organization_id

    def ranking(equity):
        results = rank_schools(
            index, table, organization_id=organization, k=ALL, equity=equity, as_of=AS_OF
        )
        return [r.school_id for r in results]

    before, after = ranking(low_e), ranking(high_e)
    assert sorted(before) == sorted(after)
    need = dict(zip(table.ids.tolist(), table.need_index.tolist(), strict=True))
    for school_id in before:

        def overtakers(order, school_id=school_id):
            above = order[: order.index(school_id)]
            return {s for s in above if need[s] <= need[school_id]}

        assert overtakers(after) <= overtakers(before)


def test_raising_equity_lifts_the_highest_need_school_to_the_top_in_reverse_ranking():
    index = build(offering(1, km=0.0))
    far_high = SchoolQuery(
        lat=SCHOOL_LAT + 0.03,
        lon=SCHOOL_LON,
        school_id=1,
        locale="city",
        grade_low=6,
        grade_high=8,
        need_index=0.95,
    )
    near_low = SchoolQuery(
        lat=SCHOOL_LAT,
        lon=SCHOOL_LON,
        school_id=2,
        locale="city",
        grade_low=6,
        grade_high=8,
        need_index=0.1,
    )
    table = SchoolTable.from_queries([far_high, near_low], [[need()], [need()]])
    order = {
        equity: [
            r.school_id
            for r in rank_schools(index, table, offering_ids=[1], equity=equity, as_of=AS_OF)
        ]
        for equity in (0.0, RankingConfig().equity, 1.0)
    }
    assert order[0.0] == [2, 1]
    assert order[1.0] == [1, 2]
