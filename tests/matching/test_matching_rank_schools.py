"""Ranking schools for an organization's offerings (the reverse direction)."""

import pytest

from matching import SchoolQuery, SchoolTable, rank_schools
from tests.matching.factories import AS_OF, SCHOOL_LON, build, need, north, offering


def a_school(school_id, km=0.0, need_index=0.5, **fields):
    values = dict(
        lat=north(km),
        lon=SCHOOL_LON,
        school_id=school_id,
        locale="city",
        grade_low=6,
        grade_high=8,
        need_index=need_index,
    )
    values.update(fields)
    return SchoolQuery(**values)


def ranked(index, schools, needs, **kwargs):
    kwargs.setdefault("as_of", AS_OF)
    kwargs.setdefault("offering_ids", [1])
    return rank_schools(index, SchoolTable.from_queries(schools, needs), **kwargs)


def test_schools_whose_needs_it_meets_come_first_and_unassessed_ones_after():
    index = build(offering(1, km=0.0))
    results = ranked(
        index,
        [a_school(1, 1.0), a_school(2, 1.0), a_school(3, 1.0)],
        [[need("stem.robotics")], [], [need()]],
    )
    assert [r.school_id for r in results] == [3, 2]  # school 1 needs robotics only
    assert results[1].reason.startswith("No needs assessment on file")


def test_with_similar_fit_higher_need_schools_rank_first():
    index = build(offering(1, km=0.0))
    schools = [a_school(1, 2.0, need_index=0.2), a_school(2, 2.0, need_index=0.9)]
    results = ranked(index, schools, [[need()], [need()]])
    assert [r.school_id for r in results] == [2, 1]
    no_equity = ranked(index, schools, [[need()], [need()]], equity=0.0)
    assert no_equity[0].score == no_equity[1].score  # then ties go by id
    assert [r.school_id for r in no_equity] == [1, 2]


def test_equity_zero_ranks_by_fit_and_reach_alone():
    index = build(offering(1, km=0.0))
    schools = [a_school(1, 6.0, need_index=0.95), a_school(2, 1.0, need_index=0.05)]
    results = ranked(index, schools, [[need()], [need()]], equity=0.0)
    assert [r.school_id for r in results] == [2, 1]
    assert all(r.contributions[3].points == 0.0 for r in results)


def test_each_school_is_scored_with_the_organizations_offering_that_serves_it_best():
    index = build(
        offering(1, km=0.0, organization_id=7, categories=("literacy.reading_tutoring",)),
        offering(2, km=0.0, organization_id=7),
        offering(3, km=0.0, organization_id=8),
    )
    results = rank_schools(
        index,
        SchoolTable.from_queries(
            [a_school(1, 1.0), a_school(2, 1.0)],
            [[need("literacy.reading_tutoring")], [need()]],
        ),
        organization_id=7,
        as_of=AS_OF,
    )
    assert {r.school_id: r.offering_id for r in results} == {1: 1, 2: 2}


def test_the_explanation_adds_up_and_reads_well():
    index = build(offering(1, km=0.0))
    result = ranked(index, [a_school(1, 2.0, need_index=0.9)], [[need(priority=1)]])[0]
    assert sum(c.points for c in result.contributions) == result.score
    assert result.reason == "Needs Counseling (priority 1), 2.0 km, high need (0.90)"
    assert result.need_index == pytest.approx(0.9)


def test_a_school_its_service_area_covers_is_reached_beyond_the_usual_distance():
    index = build(offering(1, km=0.0, has_service_area=True))
    schools = [a_school(1, 60.0), a_school(2, 60.0)]
    results = ranked(index, schools, [[need()], [need()]], coverage={1: [1]})
    assert [r.school_id for r in results] == [1]


def test_no_school_needing_what_it_offers_means_no_results():
    index = build(offering(1, km=0.0))
    assert ranked(index, [a_school(1), a_school(2)], [[need("stem")], [need("arts")]]) == []


def test_removed_offerings_rank_no_schools():
    index = build(offering(1))
    index.remove([1])
    assert ranked(index, [a_school(1)], [[need()]]) == []


def test_exactly_one_of_offering_ids_or_organization_id_is_required():
    index = build(offering(1))
    table = SchoolTable.from_queries([a_school(1)])
    with pytest.raises(ValueError, match="exactly one"):
        rank_schools(index, table, as_of=AS_OF)
    with pytest.raises(ValueError, match="exactly one"):
        rank_schools(index, table, offering_ids=[1], organization_id=101, as_of=AS_OF)


def test_schools_are_ranked_deterministically():
    index = build(offering(1, km=0.0))
    schools = [a_school(i, 1.0) for i in (5, 3, 4)]
    first = ranked(index, schools, [[need()]] * 3)
    assert [r.school_id for r in first] == [3, 4, 5]
    assert ranked(index, schools, [[need()]] * 3) == first


def test_max_distance_drops_far_schools():
    index = build(offering(1, km=0.0))
    schools = [a_school(1, 2.0), a_school(2, 9.0)]
    results = ranked(index, schools, [[need()], [need()]], max_distance_km=5.0)
    assert [r.school_id for r in results] == [1]


def test_each_result_reports_the_distance_between_its_school_and_offering():
    index = build(
        offering(1, km=0.0, organization_id=7),
        offering(2, km=9.0, organization_id=7, categories=("literacy.reading_tutoring",)),
    )
    # School 4 needs nothing they offer and school 5 is beyond reach: their pairs drop out.
    schools = [a_school(4, 1.0), a_school(1, 2.0), a_school(5, 60.0), a_school(2, 5.0)]
    schools.append(a_school(3, 8.5))
    needs = [[need("stem.robotics")], [need()], [need()], [need()], [need("literacy")]]
    results = ranked(index, schools, needs, offering_ids=None, organization_id=7)
    km = {1: 2.0, 2: 5.0, 3: 8.5}
    offering_km = {1: 0.0, 2: 9.0}
    assert len(results) == 3
    for r in results:
        assert r.distance_km == pytest.approx(abs(km[r.school_id] - offering_km[r.offering_id]))


def test_a_school_is_measured_from_the_organizations_location_nearest_it():
    # Issue 12 defect 2, reverse ranking: only the first location counted.
    two_sites = offering(1, km=0.0, more_locations=((north(80.0), SCHOOL_LON, True),))
    index = build(two_sites)
    schools = [a_school(1, 2.0), a_school(2, 81.0)]  # school 2: 81 km from the first site
    results = ranked(index, schools, [[need()], [need()]])
    distance = {r.school_id: r.distance_km for r in results}
    assert set(distance) == {1, 2}
    assert distance[1] == pytest.approx(2.0, abs=1e-6)
    assert distance[2] == pytest.approx(1.0, abs=1e-6)
    assert "approximate location" in next(r.reason for r in results if r.school_id == 2)
