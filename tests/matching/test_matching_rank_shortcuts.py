"""The ranker's CPU shortcuts (issue 15) give exactly the values of the long way round.

- Far virtual offerings take reach = virtual_reach without a haversine: checked against the
  full reach of every candidate, around the cut-off and where a service radius, a covering
  polygon or at-school delivery could lift the reach.
- Result dataclasses built by `direct_init` stay frozen, equal and hashable.
- Fixed terms kept per index base, and rankings with no more candidates than the first batch
  (scored without an upper bound), give the rankings of the long way round.
- best_rows orders scores without ties by score alone: the order of every tie-break key.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matching.rank as rank_module
from bench.synthetic import (
    synthetic_history,
    synthetic_offerings,
    synthetic_schools,
    synthetic_taxonomy,
)
from geo.distance import haversine_km
from matching import Contribution, Filters, OfferingIndex, RankedOffering, RankingConfig
from matching.columns import OfferingColumns, similarity, text_norms
from matching.index import query_radius_km
from matching.needs import layout_needs
from matching.scoring import fixed_terms, offering_terms, score_rows, upper_bound
from tests.matching.factories import AS_OF, build, need, offering, school, synthetic_index

BAY_AREA = (-122.6, 37.5, -121.9, 38.0)

KMS = (0.5, 2.0, 3.5, 3.83, 3.84, 3.9, 5.0, 7.6, 7.7, 12.0, 15.4, 15.5, 31.0, 80.0, 500.0, -40.0)
VARIANTS = (
    {},
    {"delivery": frozenset({"virtual", "at_school"})},
    {"service_radius_km": 100.0},
    {"service_radius_km": 5.0},
    {"has_service_area": True},
)


@pytest.mark.parametrize("locale", ["city", "suburb", "town", "rural"])
@pytest.mark.parametrize("known", [False, True])
def test_far_virtual_reach_is_the_full_reach(locale: str, known: bool) -> None:
    records = []
    for v, extra in enumerate(VARIANTS):
        for i, km in enumerate(KMS):
            fields = {"delivery": frozenset({"virtual"}), **extra}
            records.append(offering(1 + v * 100 + i, km=km, **fields))
    records.append(offering(1000, km=3.0))  # an in-person one among them
    index = build(*records)
    cfg = index.config
    snap = index.snapshot()
    covered_ids = {3, 203, 414, 415} if known else None
    query = school(locale=locale, covered_by=covered_ids)
    relevant = np.ones(len(snap.tree) + 1, dtype=bool)
    covered = np.array(sorted(covered_ids or ()), dtype=np.int64)
    off, _, _ = snap.candidates(
        query.lat, query.lon, query_radius_km(cfg, locale), relevant, covered
    )
    assert len(off) == len(records)

    distance = haversine_km(query.lat, query.lon, off.lat, off.lon)
    full = rank_module._reach(query, off, distance, covered, cfg)
    measured: list[int] = []

    def counting(*args: np.ndarray | float) -> np.ndarray:
        measured.append(np.size(args[2]))
        return haversine_km(*args)

    with patch.object(rank_module, "haversine_km", counting):
        reach, none = rank_module._candidate_reach(query, off, covered, cfg, distances=False)
    assert none is None
    # Every field exactly (values not approximately): the explanations read the flags.
    for name in ("value", "eligible", "virtual", "in_area", "outside_area"):
        assert getattr(reach, name).tolist() == getattr(full, name).tolist(), name
    # The shortcut was taken: some virtual rows got virtual_reach without a distance.
    assert sum(measured) < len(off)
    reach, given = rank_module._candidate_reach(query, off, covered, cfg, distances=True)
    assert given is not None
    # Measured rows: their distance exactly; far virtual ones (a distance filter passes every
    # virtual offering): +inf, and only those.
    measured_rows = np.isfinite(given)
    assert given[measured_rows].tolist() == distance[measured_rows].tolist()
    assert 0 < measured_rows.sum() < len(off)
    assert reach.virtual[~measured_rows].all()
    for name in ("value", "eligible", "virtual", "in_area", "outside_area"):
        assert getattr(reach, name).tolist() == getattr(full, name).tolist(), name


def test_far_virtual_shortcut_needs_every_virtual_reach_setting() -> None:
    """Settings under which value could exceed the decay (or virtual_reach is no floor):
    no shortcut, the full computation."""
    records = [offering(i + 1, km=km, delivery=frozenset({"virtual"})) for i, km in enumerate(KMS)]
    for cfg in (
        RankingConfig(virtual_reach=0.0),
        RankingConfig(virtual_reach=1.0),
        RankingConfig(outside_area_factor=1.5),
    ):
        index = build(*records, config=cfg)
        snap = index.snapshot()
        query = school()
        empty = np.zeros(0, dtype=np.int64)
        off = snap.gather(np.flatnonzero(snap.alive), np.zeros(0, dtype=np.intp))
        distance = haversine_km(query.lat, query.lon, off.lat, off.lon)
        full = rank_module._reach(query, off, distance, empty, cfg)
        reach, _ = rank_module._candidate_reach(query, off, empty, cfg, distances=False)
        assert reach.value.tolist() == full.value.tolist()
        assert reach.eligible.tolist() == full.eligible.tolist()


def _every_distance(school, off, covered, cfg, *, distances):  # type: ignore[no-untyped-def]
    """_candidate_reach the long way round: every candidate measured, no shortcut."""
    distance = haversine_km(school.lat, school.lon, off.lat, off.lon)
    return rank_module._reach(school, off, distance, covered, cfg), distance


FILTERS = (
    Filters(),  # what the endpoint passes when the caller asks for no filter
    Filters(verified_only=True),  # a caller who does not see unverified organizations
    Filters(max_distance_km=15.0, exclude_full=True),
    Filters(
        max_distance_km=60.0, delivery=frozenset({"virtual", "at_partner_site"}), free_only=True
    ),
)


@pytest.mark.parametrize("filters", FILTERS)
def test_filtered_rankings_equal_those_measuring_every_candidate(filters: Filters) -> None:
    """With filters, far virtual candidates keep the shortcut (no distance: +inf, which every
    distance filter passes as virtual): the rankings equal those that measure every
    candidate, over synthetic schools across the country."""
    index, schools = synthetic_index(6_000, 3, 25)
    for i in range(len(schools)):
        query, needs = schools.query(i)
        fast = rank_module.rank_offerings(index, query, needs, k=20, filters=filters, as_of=AS_OF)
        with patch.object(rank_module, "_candidate_reach", _every_distance):
            slow = rank_module.rank_offerings(
                index, query, needs, k=20, filters=filters, as_of=AS_OF
            )
        assert fast == slow, i


def test_far_virtual_rows_are_explained_with_their_distance() -> None:
    """A far virtual offering ranked: its distance and reach come from the exact scoring."""
    index = build(
        offering(1, km=900.0, delivery=frozenset({"virtual"})),
        offering(2, km=2.0),
    )
    ranked = rank_module.rank_offerings(index, school(), [need()], k=2)
    far = next(r for r in ranked if r.offering_id == 1)
    assert far.distance_km == pytest.approx(900.0, abs=1e-6)
    reach = next(c for c in far.contributions if c.component == "reach")
    assert reach.detail == "virtual: distance not counted (900.0 km away)"
    assert reach.points == pytest.approx(index.config.reach_weight * index.config.virtual_reach)


def test_direct_init_results_stay_frozen_equal_and_hashable() -> None:
    a = Contribution("fit", 0.5, "meets Counseling")
    b = Contribution(component="fit", points=0.5, detail="meets Counseling")
    assert a == b and hash(a) == hash(b)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.points = 1.0  # type: ignore[misc]
    ranked = RankedOffering(1, 2, 1, 0.5, (a,), (), "reason", 1.0, (), "v")
    assert ranked.others == ()
    assert dataclasses.replace(ranked, rank=3).rank == 3
    assert repr(a) == "Contribution(component='fit', points=0.5, detail='meets Counseling')"
    with pytest.raises(TypeError):
        Contribution("fit", 0.5)  # type: ignore[call-arg]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_upper_bound_with_grades_bounds_every_exact_score(seed: int) -> None:
    """The bound reads grades (smallest grade penalty over the needs; demoted when no need's
    grades are served): it stays >= the exact score of every row, at any text similarity,
    and it is below the old bound (without grades) for rows serving no need's grades."""
    parents, names = synthetic_taxonomy()
    codes = list(parents)
    index = OfferingIndex.build(
        synthetic_offerings(1500, 30 + seed, codes, BAY_AREA), parents, names=names
    )
    cfg = index.config
    snap = index.snapshot()
    off = snap.gather(np.flatnonzero(snap.alive), np.zeros(0, dtype=np.intp))
    schools = synthetic_schools(6, 40 + seed, codes, BAY_AREA)
    lowered = 0
    for i in range(len(schools)):
        query, needs = schools.query(i)
        spans = [(9, 12), (-1, 5), (None, None), (6, 8)]  # needs of different grades
        needs = [
            dataclasses.replace(
                n, grade_low=spans[(j + i) % 4][0], grade_high=spans[(j + i) % 4][1]
            )
            for j, n in enumerate(needs)
        ]
        slots = sorted(needs, key=lambda n: n.priority)
        tree = snap.tree.extended(n.category for n in slots)
        layout = layout_needs(
            [slots], [(query.grade_low, query.grade_high)], tree, snap.languages, cfg
        )
        distance = haversine_km(query.lat, query.lon, off.lat, off.lon)
        reach = rank_module._reach(query, off, distance, np.zeros(0, dtype=np.int64), cfg)
        terms = offering_terms(
            off, 0.7, 0, np.zeros(4, dtype=np.uint64), as_of=AS_OF.toordinal(),
            equity=cfg.equity, reverse=False, config=cfg,
        )  # fmt: skip
        bound = upper_bound(off, layout.needs, layout.credit_table, terms, reach.value, cfg)
        for text in (0.0, 1.0):
            scored = score_rows(
                off, layout.needs, None, layout.credit_table,
                np.full((len(off), len(slots)), text), None, reach.value,
                as_of=AS_OF.toordinal(), equity=cfg.equity, reverse=False, config=cfg,
                terms=terms,
            )  # fmt: skip
            assert (scored.score <= bound + rank_module.BOUND_SLACK).all()
        no_grades = dataclasses.replace(
            layout.needs, grade_low=np.full_like(layout.needs.grade_low, -1),
            grade_high=np.full_like(layout.needs.grade_high, 12),
        )  # fmt: skip
        wide = upper_bound(off, no_grades, layout.credit_table, terms, reach.value, cfg)
        lowered += int((bound < wide - 1.0).sum())
    assert lowered > 0  # rows serving no need's grades were bounded below the demotion


def test_kept_fixed_terms_rank_as_terms_computed_per_ranking() -> None:
    """The fixed terms a snapshot keeps for its base (the index's config) give the rankings
    of a config computing its candidates' own, also with buffered and removed rows; upserts
    keep them; a rebuild computes those of its new base before swapping it in (warm)."""
    index, schools = synthetic_index(2000, 50, 12, BAY_AREA)
    parents, _ = synthetic_taxonomy()
    index.upsert(synthetic_offerings(60, 52, list(parents), BAY_AREA))  # ids 1..60 replaced
    index.remove(range(100, 140))
    snap = index.snapshot()
    assert not snap.all_alive and len(snap.buffer) == 60
    same = dataclasses.replace(index.config)  # equal, but not the index's: computed per call
    for i in range(len(schools)):
        query, needs = schools.query(i)
        kept = rank_module.rank_offerings(index, query, needs, k=25, as_of=AS_OF)
        fresh = rank_module.rank_offerings(index, query, needs, k=25, as_of=AS_OF, config=same)
        assert kept == fresh
    assert [entry[0] for entry in snap.base_terms.values()] == [index.config]
    index.upsert(synthetic_offerings(5, 53, list(parents), BAY_AREA))
    assert index.snapshot().base_terms is snap.base_terms  # same base, same terms
    index.rebuild()
    rebuilt = index.snapshot()
    assert rebuilt.base_terms is not snap.base_terms  # a new base, its own terms
    [(config, terms)] = rebuilt.base_terms.values()
    assert config is index.config
    expected = fixed_terms(rebuilt.base, index.config)
    for name, values in vars(expected).items():
        np.testing.assert_array_equal(getattr(terms, name), values)


def test_kept_text_norms_give_the_similarity_computed_from_scratch() -> None:
    """The text norms a snapshot keeps for its base rows (warmed at build, started afresh
    when an upsert or removal changes the document frequencies, filled as rankings read rows)
    give exactly the similarity computed with every norm from the frequencies at hand."""
    index, schools = synthetic_index(2000, 54, 12, BAY_AREA)
    parents, _ = synthetic_taxonomy()
    snap = index.snapshot()
    [(frequency, warmed)] = snap.base_norms.values()
    assert frequency is snap.frequency and not np.isnan(warmed).any()
    index.upsert(synthetic_offerings(30, 55, list(parents), BAY_AREA))  # ids 1..30 replaced
    index.remove(range(200, 220))
    rng = np.random.default_rng(56)
    for before, after in ((snap, snap), (snap, index.snapshot())):
        assert before.base_norms is after.base_norms  # same base
        for i in range(len(schools)):
            _, needs = schools.query(i)
            query = after.query_text.terms([f"{n.category} {n.notes}" for n in needs])
            rows = np.sort(rng.choice(len(after.base), 300, replace=False))
            kept = after.similarity(rows, np.zeros(0, dtype=np.intp), query)
            fresh = similarity(after.base_text.matrix, rows, query)
            np.testing.assert_array_equal(kept, fresh)
            assert (kept > 0).any()
        norms = after.base_norms[id(after.frequency)][1]
        assert np.isnan(norms).any() == (after is not snap)  # filled as read, after a write
        read = ~np.isnan(norms)
        np.testing.assert_array_equal(
            norms[read],
            text_norms(after.base_text.matrix, np.flatnonzero(read), after.frequency),
        )


@pytest.mark.parametrize("partnerships", [0, 4000])
def test_rankings_scoring_every_candidate_equal_the_bounded_ones(partnerships: int) -> None:
    """With no more candidates than the first batch, every one is scored exactly and no upper
    bound is computed; with a first batch smaller than the candidates (bounded), the same
    results come out, also with a partnership history (whose points the bound scales by the
    fit's bound, as a score scales them by its fit)."""
    index, schools = synthetic_index(3000, 60, 12, BAY_AREA)
    if partnerships:
        parents, _ = synthetic_taxonomy()
        offerings = synthetic_offerings(3000, 60, list(parents), BAY_AREA)
        index.history = synthetic_history(offerings, partnerships, 61)
    for i in range(len(schools)):
        query, needs = schools.query(i)
        runs = []
        for first_batch in (10**9, 0):  # 8 * k = 40 rows: fewer than any school's candidates
            with (
                patch.object(rank_module, "FIRST_BATCH", first_batch),
                patch.object(rank_module, "upper_bound", wraps=rank_module.upper_bound) as bound,
            ):
                runs.append(rank_module.rank_offerings(index, query, needs, k=5, as_of=AS_OF))
            assert bound.call_count == (first_batch == 0)
        assert runs[0] == runs[1]
        if partnerships:
            assert any(c.component == "history" for c in runs[0][0].contributions)


@settings(max_examples=300, deadline=None)
@given(
    # Few distinct values, so that pools with and without equal scores both come up.
    rows=st.lists(
        st.tuples(
            st.sampled_from([0.25, 0.5, 0.75, 1.0, 1.5]),  # score
            st.sampled_from([0.0, 1.0, 3.0]),  # schools served on record
            st.sampled_from([1.0, 2.5, 40.0]),  # distance
            st.sampled_from([math.nan, 0.0, 2.0]),  # schools left (NaN: unstated)
            st.sampled_from([math.nan, 10.0, 30.0]),  # students left
        ),
        min_size=1,
        max_size=12,
    ),
    history=st.booleans(),
    data=st.data(),
)
def test_best_rows_order_equals_every_tie_break(
    rows: list[tuple[float, float, float, float, float]], history: bool, data: Any
) -> None:
    """The rows best_rows picks, in its order, are those of sorting by every key of the
    module docstring (score, track record, distance, capacity left, id), ties or none."""
    score, served, distance, schools_left, students_left = map(np.array, zip(*rows, strict=True))
    n = len(rows)
    ids = np.array(data.draw(st.permutations(range(1, n + 1))), dtype=np.int64)
    k = data.draw(st.integers(1, n))
    # The pool: n of the scored rows (the others are never read).
    pool = np.array(sorted(data.draw(st.sets(st.integers(0, 2 * n), min_size=n, max_size=n))))
    size = int(pool.max()) + 1

    def scattered(values: np.ndarray) -> np.ndarray:
        out = np.zeros(size, dtype=values.dtype)
        out[pool] = values
        return out

    off = OfferingColumns.from_arrays(
        ids=scattered(ids),
        schools_left=scattered(schools_left),
        students_left=scattered(students_left),
        categories=np.full((size, 1), -1, dtype=np.int32),
    )
    scores = dataclasses.make_dataclass("Scores", ["score", "served"])
    scored: Any = scores(scattered(score), scattered(served) if history else None)
    if not history:
        served = np.zeros(n)
    unstated_last = [np.where(np.isnan(v), -1.0, v) for v in (schools_left, students_left)]

    def keys(r: int) -> tuple[float, ...]:
        schools, students = (v[r] for v in unstated_last)
        return (-score[r], -served[r], distance[r], -schools, -students, ids[r])

    got = rank_module.best_rows(scored, pool, off, distance, k)
    assert got.tolist() == sorted(range(n), key=keys)[:k]
