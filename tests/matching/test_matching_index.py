"""OfferingIndex: incremental updates show up in the next ranking, and stay correct."""

import numpy as np
import pytest

import matching.index as index_module
from bench.synthetic import synthetic_offerings, synthetic_schools, synthetic_taxonomy
from matching import Filters, OfferingIndex, OfferingTable, rank_offerings
from tests.matching.factories import (
    AS_OF,
    SCHOOL_LON,
    build,
    need,
    north,
    offering,
    school,
    table,
)


def ids(index, needs=None, **kwargs):
    needs = needs or [need()]
    return [r.offering_id for r in rank_offerings(index, school(), needs, as_of=AS_OF, **kwargs)]


def test_an_upserted_offering_is_ranked_by_the_next_query():
    index = build(offering(1, km=5.0))
    index.upsert(table(offering(2, km=1.0)))
    assert ids(index) == [2, 1]
    assert len(index) == 2 and 2 in index and index.buffered == 1


def test_upserting_an_existing_id_replaces_the_offering():
    index = build(offering(1, km=1.0), offering(2, km=5.0))
    index.upsert(table(offering(1, km=1.0, categories=("stem.robotics",))))
    assert ids(index) == [2]
    index.upsert(table(offering(1, km=9.0)))  # replaced again, now while in the buffer
    assert ids(index) == [2, 1]
    assert len(index) == 2


def test_a_removed_offering_is_gone_from_the_next_query():
    index = build(offering(1, km=1.0), offering(2, km=5.0))
    index.upsert(table(offering(3, km=2.0)))
    assert index.remove([1, 3, 999]) == 2
    assert ids(index) == [2]
    assert 1 not in index and 3 not in index and len(index) == 1


def test_a_snapshot_taken_before_an_update_does_not_change():
    index = build(offering(1))
    before = index.snapshot()
    index.remove([1])
    assert before.size == 1 and index.snapshot().size == 0
    assert index.snapshot().generation > before.generation


def test_upserts_may_bring_new_categories_and_languages():
    index = build(offering(1))
    index.upsert(table(offering(2, categories=("literacy.poetry",), languages={"so"})))
    assert ids(index, [need("literacy.poetry")]) == [2]
    assert ids(index, filters=Filters(languages=frozenset({"so"}))) == []  # not counseling
    found = ids(index, [need("literacy")], filters=Filters(languages=frozenset({"so"})))
    assert found == [2]


def test_rebuild_folds_the_buffer_in_and_keeps_the_ranking():
    index = build(offering(1, km=3.0), offering(2, km=4.0))
    index.upsert(table(offering(3, km=1.0), offering(2, km=2.0)))
    index.remove([1])
    before = ids(index)
    index.rebuild()
    assert index.buffered == 0 and len(index) == 2
    assert ids(index) == before == [3, 2]


def test_changes_made_during_a_rebuild_are_replayed_onto_it(monkeypatch):
    index = build(offering(1, km=3.0), offering(2, km=4.0))
    real_snapshot = index_module._snapshot

    def build_while_others_write(*args, **kwargs):
        index.upsert(table(offering(5, km=1.0)))
        index.remove([2])
        return real_snapshot(*args, **kwargs)

    monkeypatch.setattr(index_module, "_snapshot", build_while_others_write)
    index.rebuild()
    assert ids(index) == [5, 1]


def test_needs_rebuild_reports_when_the_buffer_is_large():
    from matching import RankingConfig

    index = build(offering(1), config=RankingConfig(rebuild_buffer_rows=2))
    index.upsert(table(offering(2), offering(3)))
    assert not index.needs_rebuild
    index.remove([1])
    assert index.needs_rebuild
    index.rebuild()
    assert not index.needs_rebuild


def test_the_buffer_and_the_spatial_index_rank_identically():
    # The buffer is scanned by brute force; built rows go through the BallTree and the
    # far-candidate lists. Re-upserting every row moves them all to the buffer.
    parents, names = synthetic_taxonomy()
    codes = list(parents)
    bbox = (-122.6, 37.5, -121.9, 38.0)
    offerings = synthetic_offerings(3000, 7, codes, bbox)
    schools = synthetic_schools(25, 8, codes, bbox)
    built = OfferingIndex.build(offerings, parents, names=names)
    buffered = OfferingIndex.build(offerings, parents, names=names)
    buffered.upsert(offerings)
    assert buffered.buffered == len(offerings) and len(buffered) == len(offerings)
    for i in range(len(schools)):
        query = school(
            lat=float(schools.lat[i]),
            lon=float(schools.lon[i]),
            locale=schools.locale[i],
            grade_low=int(schools.grade_low[i]),
            grade_high=int(schools.grade_high[i]),
        )
        a = rank_offerings(built, query, schools.needs[i], k=30, as_of=AS_OF)
        b = rank_offerings(buffered, query, schools.needs[i], k=30, as_of=AS_OF)
        assert [r.offering_id for r in a] == [r.offering_id for r in b]
        assert [r.score for r in a] == pytest.approx([r.score for r in b], abs=1e-6)


def test_a_table_with_duplicate_ids_is_refused():
    with pytest.raises(ValueError, match="duplicate ids"):
        table(offering(1), offering(1))


def test_an_unknown_schedule_value_is_refused_naming_the_field():
    with pytest.raises(ValueError, match="schedule: unknown value 'evenings'"):
        build(offering(1, schedule=frozenset({"evenings"})))


def test_columns_of_mismatched_length_are_refused():
    good = table(offering(1), offering(2))
    with pytest.raises(ValueError, match=r"OfferingTable\.lat"):
        OfferingTable(**{**good.__dict__, "lat": np.zeros(3)})


def _text_points(result):
    return next(c.detail for c in result.contributions if c.component == "fit")


def test_words_of_an_offering_registered_after_the_build_count_in_the_next_ranking():
    # Issue 12 defect 1: the vocabulary was fitted at build time, so an unseen word scored 0.
    index = build(offering(1, km=2.0, text="School counseling for students and families"))
    index.upsert(table(offering(2, km=2.0, text="Trauma informed bereavement groups")))
    needs = [need(notes="bereavement groups after a loss")]
    ranked = rank_offerings(index, school(), needs, as_of=AS_OF)
    assert [r.offering_id for r in ranked] == [2, 1]
    assert ranked[0].score > ranked[1].score
    index.rebuild()
    rebuilt = rank_offerings(index, school(), needs, as_of=AS_OF)
    assert [(r.offering_id, r.score) for r in rebuilt] == [(r.offering_id, r.score) for r in ranked]


def test_an_empty_index_then_upserts_ranks_by_text_like_a_rebuilt_one():
    index = build()
    index.upsert(table(offering(1, text="robotics club"), offering(2, text="grief counseling")))
    needs = [need(notes="grief")]
    live = [(r.offering_id, r.score) for r in rank_offerings(index, school(), needs, as_of=AS_OF)]
    index.rebuild()
    rebuilt = [
        (r.offering_id, r.score) for r in rank_offerings(index, school(), needs, as_of=AS_OF)
    ]
    assert live == rebuilt
    assert live[0][0] == 2 and live[0][1] > live[1][1]


def test_an_organization_is_as_near_as_its_nearest_location():
    # Issue 12 defect 2: only the first location counted.
    far_first = offering(1, km=60.0, more_locations=((north(1.0), SCHOOL_LON, False),))
    index = build(far_first, offering(2, km=3.0))
    results = rank_offerings(index, school(), [need()], as_of=AS_OF)
    assert [r.offering_id for r in results] == [1, 2]
    assert results[0].distance_km == pytest.approx(1.0, abs=1e-6)
    index.upsert(table(offering(3, km=80.0, more_locations=((north(0.5), SCHOOL_LON, True),))))
    results = rank_offerings(index, school(), [need()], as_of=AS_OF)
    assert [r.offering_id for r in results] == [3, 1, 2]
    assert "about 0.5 km from an approximate location" in results[0].reason
    index.upsert(table(offering(1, km=60.0)))  # the near location is gone
    assert 1 not in [r.offering_id for r in rank_offerings(index, school(), [need()], as_of=AS_OF)]
    index.rebuild()
    assert [r.offering_id for r in rank_offerings(index, school(), [need()], as_of=AS_OF)] == [3, 2]


def test_the_grid_and_radius_classes_searched_at_once_give_each_search():
    parents, names = synthetic_taxonomy()
    index = OfferingIndex.build(synthetic_offerings(4000, 11, list(parents)), parents, names=names)
    snap = index.snapshot()
    assert len(snap.radius_classes) >= 2
    rng = np.random.default_rng(12)
    points = [(40.0, -100.0), (0.0, 179.99), (10.0, -179.99), (89.9, 0.0), (-89.9, 45.0)]
    points += [(float(rng.uniform(24, 50)), float(rng.uniform(-125, -66))) for _ in range(40)]
    for lat, lon in points:
        one_by_one = [snap.grid.near(lat, lon, 30.0)]
        one_by_one += [c.rows[c.grid.near(lat, lon, c.radius_km)] for c in snap.radius_classes]
        rows, ascending = snap._near(lat, lon, 30.0)
        assert rows.tolist() == np.concatenate(one_by_one).tolist()
        assert ascending == (sum(map(len, one_by_one[1:])) == 0)


def test_writes_hand_the_combined_search_grid_on_and_still_search_the_same_rows():
    parents, names = synthetic_taxonomy()
    offerings = synthetic_offerings(4000, 11, list(parents))
    index = OfferingIndex.build(offerings, parents, names=names)
    grid = index.snapshot()._search_grid  # computed at build (warm)
    index.upsert(synthetic_offerings(50, 12, list(parents)))
    index.remove([1, 2, 3])
    snap = index.snapshot()
    assert snap.__dict__.get("_search_grid") is grid  # not recomputed by the next ranking
    # ... and it is what the snapshot would compute for itself.
    fresh = index_module.Snapshot._search_grid.func(snap)
    assert all((a == b).all() for a, b in zip(grid, fresh, strict=True))
