"""The pruned ranking is exact: rank_offerings returns what scoring every live offering would.

The reference below scores all rows of the index exactly (no spatial pruning, no upper bound,
no first batch) and explains its top k with the same model, so any shortcut the ranker takes
that changes a result, its order, its score or its explanation fails here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from unittest.mock import patch

import numpy as np
import pytest

import matching.rank as rank_module
from bench.synthetic import synthetic_offerings, synthetic_schools, synthetic_taxonomy
from geo.distance import haversine_km
from matching import (
    Filters,
    Need,
    OfferingIndex,
    RankedOffering,
    RankingConfig,
    SchoolQuery,
    rank_offerings,
)
from matching.explain import Context, explain, offering_reason
from matching.filters import filter_mask
from matching.history import History, fitted_history, high_need_record, history_points
from matching.needs import layout_needs
from matching.priority import priority_lift
from matching.scoring import Place, reach_at, score_rows
from matching.vocab import POPULATIONS, bitmask
from tests.matching.factories import AS_OF, build, need, offering, school, synthetic_index

SCORE_TOLERANCE = 1e-9
BAY_AREA = (-122.6, 37.5, -121.9, 38.0)


def brute_force(
    index: OfferingIndex,
    query: SchoolQuery,
    needs: list[Need],
    *,
    k: int,
    equity: float | None = None,
    filters: Filters | None = None,
) -> list[RankedOffering]:
    """Score every live offering exactly and explain the best k (the model's definition)."""
    cfg = index.config
    strength = cfg.equity if equity is None else equity
    snap = index.snapshot()
    base_rows = np.flatnonzero(snap.alive)
    buffer_rows = np.arange(len(snap.buffer))
    off = snap.gather(base_rows, buffer_rows)
    slots = sorted(needs, key=lambda n: n.priority)
    tree = snap.tree.extended(n.category for n in slots)
    grades = (query.grade_low, query.grade_high)
    layout = layout_needs([slots], [grades], tree, snap.languages, cfg)
    n = len(off)
    index_value = cfg.missing_need_index if query.need_index is None else query.need_index
    family = snap.languages.mask(code for code in query.languages if code != "en")
    place = Place(
        distance_km=haversine_km(query.lat, query.lon, off.lat, off.lon),
        scale_km=np.full(n, cfg.scale_km(query.locale)),
        covered=np.isin(off.ids, np.array(sorted(query.covered_by or ()), dtype=np.int64)),
        coverage_known=np.full(n, query.covered_by is not None),
        need_index=np.full(n, min(max(index_value, 0.0), 1.0)),
        populations=np.full(n, bitmask(query.populations, POPULATIONS, "populations")),
        languages=np.tile(family, (n, 1)),
    )
    reach = reach_at(
        off, place.distance_km, place.scale_km, place.covered, place.coverage_known, cfg
    )
    text_rows = snap.text_of(base_rows, buffer_rows)
    queries = snap.query_text.transform(layout.texts)
    text = np.clip((text_rows @ queries.T).toarray(), 0.0, 1.0)
    scored = score_rows(
        off,
        layout.needs,
        None,
        layout.credit_table,
        text,
        place,
        reach.value,
        as_of=AS_OF.toordinal(),
        equity=strength,
        reverse=False,
        config=cfg,
        record=high_need_record(index.history, off.organization_ids, cfg),
    )
    if len(index.history):
        points, served, like = history_points(
            index.history, query.lat, query.lon, slots, off.organization_ids, cfg
        )
        points = fitted_history(points, scored.fit, cfg)
        scored = dataclasses.replace(
            scored, score=scored.score + points, history=points, served=served, like=like
        )
    keep = reach.eligible & (scored.credit.max(axis=1) > 0)
    if filters is not None:
        keep &= filter_mask(off, place.distance_km, filters, tree, snap.languages)
    top = np.array([n.priority == slots[0].priority for n in slots])
    meets_top = (scored.credit[:, : len(top)][:, top] > 0).any(axis=1) & ~scored.demoted
    lift = priority_lift(scored.score, off.ids, meets_top, keep)
    scored = dataclasses.replace(scored, score=scored.score + lift, priority=lift)
    rows = np.flatnonzero(keep)
    ctx = Context(tree, snap.languages, layout.credit_table, cfg, strength, AS_OF, reverse=False)
    results = []
    served = np.zeros(len(off)) if scored.served is None else scored.served
    left = [np.nan_to_num(off.schools_left, nan=-1.0), np.nan_to_num(off.students_left, nan=-1.0)]

    def ties(r: int) -> tuple[float, ...]:  # the tie-breaks of matching.rank, one row at a time
        keys = (-scored.score[r], -served[r], place.distance_km[r], -left[0][r], -left[1][r])
        return (*map(float, keys), int(off.ids[r]))

    for rank, r in enumerate(sorted(rows.tolist(), key=ties)[:k], start=1):
        explained = explain(
            ctx, off, scored, reach, place.distance_km, r, slots, layout.slot_rows[0], grades,
            query.languages, query.populations, float(place.need_index[r]),
        )  # fmt: skip
        here = query.school_id is not None and bool(
            (
                (index.history.school_ids == query.school_id)
                & (index.history.organization_ids == off.organization_ids[r])
            ).any()
        )
        explained = dataclasses.replace(explained, partner_here=here and explained.served > 0)
        results.append(
            RankedOffering(
                offering_id=int(off.ids[r]),
                organization_id=int(off.organization_ids[r]),
                rank=rank,
                score=float(scored.score[r]),
                contributions=explained.contributions,
                needs_met=explained.needs_met,
                reason=offering_reason(
                    ctx, off, reach, place.distance_km, r, explained, slots[0].priority
                ),
                distance_km=float(place.distance_km[r]),
                warnings=explained.warnings,
                model_version=cfg.version,
            )
        )
    return results


def assert_same_ranking(got: list[RankedOffering], expected: list[RankedOffering]) -> None:
    """Identical ids in identical order and identical explanations; scores within 1e-9."""
    assert [r.offering_id for r in got] == [r.offering_id for r in expected]
    for a, b in zip(got, expected, strict=True):
        assert a.score == pytest.approx(b.score, abs=SCORE_TOLERANCE, rel=0)
        assert [c.points for c in a.contributions] == pytest.approx(
            [c.points for c in b.contributions], abs=SCORE_TOLERANCE, rel=0
        )
        assert [c.detail for c in a.contributions] == [c.detail for c in b.contributions]
        assert (a.rank, a.organization_id, a.needs_met, a.reason, a.warnings) == (
            b.rank,
            b.organization_id,
            b.needs_met,
            b.reason,
            b.warnings,
        )
        assert a.distance_km == pytest.approx(b.distance_km, abs=1e-9, rel=0)


VARIANTS = [
    dict(k=20),
    dict(k=20, equity=0.0),
    dict(k=20, equity=1.0),
    dict(k=1, equity=0.6),
    dict(k=50),
    dict(k=20, filters=Filters(free_only=True)),
    dict(k=20, filters=Filters(max_distance_km=5.0, schedule=frozenset({"after_school"}))),
    dict(k=10, equity=1.0, filters=Filters(categories=frozenset({"stem", "literacy"}))),
    dict(
        k=20,
        filters=Filters(
            grades=(6, 8), exclude_full=True, verified_only=True, active_on=dt.date(2026, 9, 1)
        ),
    ),
    dict(k=20, filters=Filters(delivery=frozenset({"virtual"}), languages=frozenset({"es"}))),
]


@pytest.fixture(scope="module")
def city() -> tuple[OfferingIndex, list[tuple[SchoolQuery, list[Need]]]]:
    """A dense synthetic metro (thousands of candidates per school), some rows updated in
    place (the append buffer) and some removed, and schools with polygon coverage known."""
    parents, names = synthetic_taxonomy()
    codes = list(parents)
    table = synthetic_offerings(4000, 21, codes, BAY_AREA)
    index = OfferingIndex.build(table, parents, names=names)
    index.upsert(synthetic_offerings(300, 22, codes, BAY_AREA))  # ids 1-300 replaced
    index.remove(range(301, 401))
    schools = synthetic_schools(30, 23, codes, BAY_AREA)
    with_area = table.ids[np.asarray(table.has_service_area)]
    rng = np.random.default_rng(24)
    queries = []
    for i in range(len(schools)):
        query, needs = schools.query(i)
        if i % 3 == 0:
            covered = rng.choice(with_area, size=40, replace=False).tolist()
            query = SchoolQuery(**{**query.__dict__, "covered_by": frozenset(covered)})
        queries.append((query, needs))
    return index, queries


@pytest.mark.parametrize("variant", range(len(VARIANTS)))
def test_the_ranking_of_a_dense_city_equals_scoring_every_offering(city, variant):
    index, queries = city
    options = VARIANTS[variant]
    for i, (query, needs) in enumerate(queries):
        if i % 2 != variant % 2:  # half the schools per variant keeps the test quick
            continue
        expected = brute_force(index, query, needs, **options)
        assert_same_ranking(rank_offerings(index, query, needs, as_of=AS_OF, **options), expected)


def synthetic_history(index: OfferingIndex, seed: int, rows: int = 3000) -> History:
    """Partnerships of random organizations of the index with random schools of the metro."""
    rng = np.random.default_rng(seed)
    off = index.snapshot().gather(np.flatnonzero(index.snapshot().alive), np.arange(0))
    codes = sorted(index.tree.codes)
    school_ids = rng.integers(1, 400, rows)
    lon = BAY_AREA[0] + (BAY_AREA[2] - BAY_AREA[0]) * rng.random(400)
    lat = BAY_AREA[1] + (BAY_AREA[3] - BAY_AREA[1]) * rng.random(400)
    return History(
        organization_ids=rng.choice(np.unique(off.organization_ids), rows).astype(np.int64),
        school_ids=school_ids.astype(np.int64),
        lat=lat[school_ids - 1],
        lon=lon[school_ids - 1],
        need_index=np.where(rng.random(400) < 0.1, np.nan, rng.random(400))[school_ids - 1],
        categories=tuple(
            frozenset(rng.choice(codes, rng.integers(1, 4)).tolist()) for _ in range(rows)
        ),
    )


@pytest.mark.parametrize("variant", [0, 1, 2, 3, 5, 9])
def test_with_partnership_history_the_ranking_equals_scoring_every_offering(city, variant):
    index, queries = city
    index.history = synthetic_history(index, 25)
    try:
        for i, (query, needs) in enumerate(queries):
            if i % 3:
                continue
            expected = brute_force(index, query, needs, **VARIANTS[variant])
            got = rank_offerings(index, query, needs, as_of=AS_OF, **VARIANTS[variant])
            assert "history" in [c.component for c in got[0].contributions]
            assert_same_ranking(got, expected)
    finally:
        index.history = History.empty()


def test_a_page_explained_alone_reads_as_in_the_whole_ranking(city):
    """`explained` (the HTTP route explains only the page it shows) changes no result shown,
    and the rows around it keep their place, score and distance, without explanation."""
    index, queries = city
    index.history = synthetic_history(index, 26)
    try:
        for query, needs in queries[:12]:
            whole = rank_offerings(index, query, needs, k=25, as_of=AS_OF)
            page = rank_offerings(index, query, needs, k=25, as_of=AS_OF, explained=range(10, 20))
            assert page[10:20] == whole[10:20]
            around = [*page[:10], *page[20:]]
            assert [(r.offering_id, r.rank, r.score, r.distance_km) for r in page] == [
                (r.offering_id, r.rank, r.score, r.distance_km) for r in whole
            ]
            assert all(
                (r.contributions, r.needs_met, r.reason, r.warnings) == ((), (), "", ())
                for r in around
            )
    finally:
        index.history = History.empty()


def test_the_ranking_is_exact_when_pruning_starts_from_k_rows(city):
    index, queries = city
    with patch.object(rank_module, "FIRST_BATCH", 0):
        for query, needs in queries[:10]:
            for k in (1, 3, 20):
                got = rank_offerings(index, query, needs, k=k, as_of=AS_OF)
                assert_same_ranking(got, brute_force(index, query, needs, k=k))


def test_a_sparse_national_index_ranks_exactly():
    index, schools = synthetic_index(5000, 31, 20)
    for i in range(len(schools)):
        query, needs = schools.query(i)
        for options in (dict(k=20), dict(k=5, equity=0.0)):
            expected = brute_force(index, query, needs, **options)
            got = rank_offerings(index, query, needs, as_of=AS_OF, **options)
            assert_same_ranking(got, expected)


def test_without_sibling_credit_the_ranking_is_exact_too():
    # Only same, parent and child categories earn credit: part of each branch is irrelevant.
    parents, names = synthetic_taxonomy()
    codes = list(parents)
    config = RankingConfig(sibling_credit=0.0)
    table = synthetic_offerings(3000, 41, codes, BAY_AREA)
    index = OfferingIndex.build(table, parents, config, names=names)
    schools = synthetic_schools(8, 42, codes, BAY_AREA)
    for i in range(len(schools)):
        query, needs = schools.query(i)
        for options in (dict(k=20), dict(k=10, equity=0.0), dict(k=10**6)):
            expected = brute_force(index, query, needs, **options)
            got = rank_offerings(index, query, needs, as_of=AS_OF, **options)
            assert_same_ranking(got, expected)


def test_exact_ties_beyond_the_first_batch_are_ordered_by_id():
    # 300 identical offerings whose description is the need's query text: equal scores that
    # equal their upper bound, so the k-th score is shared by far more rows than any batch.
    # Nearer ones bound higher but score lower (weaker text); farther ones score lower.
    twins = [offering(i, km=3.0, text="Counseling grief circles") for i in range(1000, 1300)]
    nearer = [offering(i, km=1.0, text="Counseling") for i in range(1, 6)]
    farther = [offering(i, km=3.5, text="Counseling grief circles") for i in range(10, 15)]
    index = build(*reversed(twins), *nearer, *farther)
    for needs in ([need(notes="grief circles")], [need(notes="grief circles"), need("arts")]):
        for first_batch in (0, 256):
            with patch.object(rank_module, "FIRST_BATCH", first_batch):
                for k in (1, 5, 12, 20, 40, 400):
                    got = rank_offerings(index, school(), needs, k=k, as_of=AS_OF)
                    assert_same_ranking(got, brute_force(index, school(), needs, k=k))


def test_hand_written_offerings_rank_exactly_under_every_variant():
    records = [
        offering(1, km=1.0),
        offering(2, km=2.5, cost="fee", cost_amount=120.0, verified=False),
        offering(3, km=8.0, delivery=frozenset({"virtual"}), text="Online counseling"),
        offering(4, km=30.0, has_service_area=True),
        offering(5, km=15.0, service_radius_km=25.0, categories=("mental_health_sel",)),
        offering(6, km=4.0, grade_low=9, grade_high=12),
        offering(7, km=3.0, languages=frozenset({"zh"})),
        offering(8, km=2.0, schools_left=0.0),
        offering(9, km=2.0, active_from=dt.date(2027, 1, 1)),
        offering(10, km=5.0, categories=("literacy.reading_tutoring",), students_left=5.0),
        offering(11, km=6.0, categories=("arts.music", "mental_health_sel.sel_curriculum")),
        offering(12, km=0.5, categories=("stem.robotics",)),
        offering(13, km=9.0, delivery=frozenset({"at_school"}), schedule=frozenset()),
        offering(14, km=150.0, service_radius_km=200.0),  # reaches the school from afar
        offering(15, km=150.0, service_radius_km=100.0),  # does not
        offering(16, km=2500.0, service_radius_km=30_000.0, categories=("literacy",)),
    ]
    index = build(*records)
    needs = [
        need(languages=frozenset({"es"}), students_affected=40, notes="grief support"),
        need("literacy", priority=2, grade_low=3, grade_high=5, schedule=frozenset({"summer"})),
        need("arts.music", priority=4, delivery=frozenset({"at_school"})),
    ]
    for covered_by in (None, frozenset(), frozenset({4})):
        query = school(covered_by=covered_by)
        for options in VARIANTS:
            expected = brute_force(index, query, needs, **options)
            got = rank_offerings(index, query, needs, as_of=AS_OF, **options)
            assert_same_ranking(got, expected)
