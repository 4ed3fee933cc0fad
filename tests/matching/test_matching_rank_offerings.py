"""Ranking offerings for a school: the behaviour the model promises, on hand-made records."""

import pytest

from matching import Filters, RankingConfig, rank_offerings, rank_organizations
from tests.matching.factories import AS_OF, build, need, offering, school


def ranked_ids(index, needs, **kwargs):
    kwargs.setdefault("as_of", AS_OF)
    return [r.offering_id for r in rank_offerings(index, school(), needs, **kwargs)]


def by_id(results):
    return {r.offering_id: r for r in results}


def test_meeting_the_top_priority_need_beats_meeting_a_minor_one():
    index = build(
        offering(1, categories=("arts.music",)),
        offering(2, categories=("mental_health_sel.counseling",)),
    )
    needs = [need("arts.music", priority=5), need("mental_health_sel.counseling", priority=1)]
    assert ranked_ids(index, needs) == [2, 1]


def test_meeting_the_top_need_beats_a_minor_need_even_when_the_minor_one_is_nearer():
    index = build(
        offering(1, km=0.5, categories=("arts.music",)),
        offering(2, km=6.0, categories=("mental_health_sel.counseling",)),
    )
    needs = [need("mental_health_sel.counseling", priority=1), need("arts.music", priority=5)]
    assert ranked_ids(index, needs)[0] == 2


def test_an_exact_category_beats_a_sibling_and_a_sibling_beats_nothing():
    index = build(
        offering(1, categories=("mental_health_sel.sel_curriculum",)),
        offering(2, categories=("mental_health_sel.counseling",)),
        offering(3, categories=("stem.robotics",)),
    )
    results = rank_offerings(index, school(), [need()], as_of=AS_OF)
    assert [r.offering_id for r in results] == [2, 1]  # robotics shares no branch: not ranked
    assert results[1].needs_met[0].credit == RankingConfig().sibling_credit


def test_nearer_beats_farther_all_else_equal():
    index = build(offering(1, km=6.0), offering(2, km=2.0), offering(3, km=4.0))
    results = rank_offerings(index, school(), [need()], as_of=AS_OF)
    assert [r.offering_id for r in results] == [2, 3, 1]
    assert results[0].score > results[1].score > results[2].score


def test_in_person_offerings_beyond_reach_are_not_ranked():
    cutoff = RankingConfig().scale_city_km * RankingConfig().reach_cutoff_scales
    index = build(offering(1, km=cutoff - 1), offering(2, km=cutoff + 1))
    assert ranked_ids(index, [need()]) == [1]


def test_beyond_reach_stays_unranked_when_only_it_could_meet_the_top_priority_need():
    # No candidate in reach meets the top need, so the priority pass looks for one among the
    # rest: the music offering out of reach must not be scored into the results.
    cutoff = RankingConfig().scale_city_km * RankingConfig().reach_cutoff_scales
    index = build(offering(1), offering(2, km=cutoff + 1, categories=("arts.music",)))
    needs = [need("arts.music", priority=1), need("mental_health_sel.counseling", priority=2)]
    assert ranked_ids(index, needs) == [1]


def test_partners_that_come_to_the_school_reach_farther_than_students_travel():
    config = RankingConfig()
    cutoff = config.scale_city_km * config.reach_cutoff_scales
    km = cutoff * (1 + config.at_school_travel_factor) / 2  # beyond students' reach only
    index = build(
        offering(1, km=km, delivery=frozenset({"at_school"})),
        offering(2, km=km, delivery=frozenset({"at_partner_site"})),
    )
    assert ranked_ids(index, [need()]) == [1]


def test_rural_schools_reach_farther_than_city_schools():
    index = build(offering(1, km=60.0))
    city = rank_offerings(index, school(locale="city"), [need()], as_of=AS_OF)
    rural = rank_offerings(index, school(locale="rural"), [need()], as_of=AS_OF)
    assert city == [] and [r.offering_id for r in rural] == [1]


def test_virtual_offerings_ignore_distance():
    index = build(
        offering(1, km=3.0, delivery=frozenset({"virtual"})),
        offering(2, km=2500.0, delivery=frozenset({"virtual"})),
    )
    results = by_id(rank_offerings(index, school(), [need()], as_of=AS_OF))
    assert set(results) == {1, 2}
    assert results[1].score == results[2].score
    assert results[2].reason.split(", ")[1] == "virtual"


@pytest.mark.parametrize(
    "mismatch",
    [
        {"grade_low": 9, "grade_high": 12},  # the school serves 6-8
        {"languages": frozenset({"en"})},  # the need asks for Spanish
    ],
    ids=["grades", "language"],
)
def test_a_grade_or_language_mismatch_never_tops_a_match(mismatch):
    # The mismatched offering is better on everything else: nearer, exact category, free.
    index = build(
        offering(1, km=0.5, **mismatch),
        offering(2, km=15.0, categories=("mental_health_sel",), cost="fee", verified=False),
    )
    results = rank_offerings(index, school(), [need(languages={"es"})], as_of=AS_OF)
    assert [r.offering_id for r in results] == [2, 1]
    assert results[1].warnings and not results[0].warnings


def test_max_distance_keeps_virtual_offerings_and_drops_far_in_person_ones():
    index = build(
        offering(1, km=2.0),
        offering(2, km=8.0),
        offering(3, km=800.0, delivery=frozenset({"virtual"})),
    )
    assert ranked_ids(index, [need()], filters=Filters(max_distance_km=5.0)) == [1, 3]


def test_a_full_offering_does_not_reach_the_top_three_when_alternatives_exist():
    index = build(
        offering(1, km=0.5, schools_left=0),  # best on everything but capacity
        offering(2, km=8.0, categories=("mental_health_sel.sel_curriculum",)),
        offering(3, km=9.0, categories=("mental_health_sel",), cost="fee"),
        offering(4, km=12.0, categories=("mental_health_sel.sel_curriculum",), cost=None),
        offering(5, km=14.0, students_left=0),
    )
    results = rank_offerings(index, school(), [need()], as_of=AS_OF)
    assert [r.offering_id for r in results[:3]] == [2, 3, 4]
    assert "at capacity" in by_id(results)[1].warnings


def test_an_offering_not_active_on_the_ranking_date_is_demoted():
    ended = AS_OF.replace(year=AS_OF.year - 1)
    index = build(offering(1, km=1.0, active_until=ended), offering(2, km=10.0))
    assert ranked_ids(index, [need()]) == [2, 1]
    assert ranked_ids(index, [need()], as_of=ended) == [1, 2]


def test_fewer_seats_than_students_affected_costs_points():
    index = build(offering(1, students_left=20), offering(2, students_left=500))
    results = by_id(rank_offerings(index, school(), [need(students_affected=100)], as_of=AS_OF))
    assert results[2].score > results[1].score
    assert "fewer seats left than students affected" in results[1].warnings


def test_a_schedule_the_need_does_not_want_ranks_lower():
    index = build(offering(1, schedule=frozenset({"weekends"})), offering(2, schedule=frozenset()))
    results = rank_offerings(index, school(), [need(schedule={"after_school"})], as_of=AS_OF)
    assert [r.offering_id for r in results] == [2, 1]  # unstated schedule beats a wrong one


def test_a_service_area_covering_the_school_counts_even_beyond_reach():
    index = build(
        offering(1, km=80.0, has_service_area=True),
        offering(2, km=80.0, service_radius_km=100.0),
        offering(3, km=80.0),
    )
    covered = school(covered_by=frozenset({1}))
    results = by_id(rank_offerings(index, covered, [need()], as_of=AS_OF))
    assert set(results) == {1, 2}
    assert results[1].reason.split(", ")[1].startswith("serves your area")


def test_a_declared_area_not_covering_the_school_lowers_reach():
    index = build(offering(1, km=3.0, has_service_area=True), offering(2, km=3.0))
    results = by_id(rank_offerings(index, school(covered_by=frozenset()), [need()], as_of=AS_OF))
    assert results[1].contributions[1].points < results[2].contributions[1].points
    unknown = by_id(rank_offerings(index, school(), [need()], as_of=AS_OF))
    assert unknown[1].score == unknown[2].score  # coverage not reported: nothing held against it


def test_for_a_high_need_school_equity_lifts_free_offerings_and_its_populations():
    index = build(
        offering(1, cost="fee", cost_amount=200.0),
        offering(2, cost="free"),
        offering(3, populations=frozenset()),
        offering(4, populations=frozenset({"english_learners"})),
    )
    high = school(need_index=0.9)

    def margin(equity, better, worse):
        results = by_id(rank_offerings(index, high, [need()], equity=equity, as_of=AS_OF))
        return results[better].score - results[worse].score

    assert margin(0.6, 2, 1) > margin(0.0, 2, 1) > 0
    assert margin(0.0, 4, 3) == 0
    assert margin(0.3, 4, 3) > 0
    assert ranked_ids(index, [need()], equity=0.3)[:2] == [4, 2]


def test_equity_zero_is_pure_fit_reach_and_constraints():
    index = build(offering(1), offering(2, cost="sliding_scale", km=3.0))
    for result in rank_offerings(index, school(), [need()], equity=0.0, as_of=AS_OF):
        assert result.contributions[3].component == "equity"
        assert result.contributions[3].points == 0.0
        assert result.contributions[3].detail == "equity weighting off"


def test_equity_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="equity"):
        rank_offerings(build(offering(1)), school(), [need()], equity=1.5, as_of=AS_OF)


def test_the_reason_is_one_line_a_principal_can_read():
    index = build(offering(1, km=3.2, grade_low=6, grade_high=8))
    result = rank_offerings(index, school(), [need(languages={"es"})], as_of=AS_OF)[0]
    assert result.reason == (
        "Meets your top need: Counseling (Spanish), 3.2 km, free, serves grades 6\u20138"
    )


def test_the_reason_names_a_lower_priority_need_and_a_related_category():
    index = build(
        offering(1, categories=("literacy",), grade_low=0, grade_high=8, cost=None, languages=())
    )
    needs = [need("arts.music", priority=1), need("literacy.reading_tutoring", priority=2)]
    result = rank_offerings(index, school(), needs, as_of=AS_OF)[0]
    assert result.reason == (
        "Related to your priority-2 need: Reading tutoring (via Literacy), 2.0 km, "
        "serves grades K\u20138"
    )
    assert result.needs_met[0].via == "literacy"


# Issue 12 defect 8: explanations that overstate.


def test_and_n_more_needs_counts_only_needs_it_is_in_the_category_of():
    index = build(offering(1, categories=("mental_health_sel.counseling", "literacy")))
    needs = [need(priority=1), need("literacy.reading_tutoring", priority=2), need("arts.music")]
    result = rank_offerings(index, school(), needs, as_of=AS_OF)[0]
    assert [m.credit < 1 for m in result.needs_met] == [False, True]  # literacy: related only
    assert result.reason.startswith("Meets your top need: Counseling (Spanish), ")
    assert "more need" not in result.reason


def test_an_offering_with_a_warning_against_the_need_is_not_said_to_meet_it():
    index = build(offering(1, grade_low=9, grade_high=12))
    result = rank_offerings(index, school(grade_low=0, grade_high=5), [need()], as_of=AS_OF)[0]
    assert result.warnings and not result.reason.startswith("Meets")
    assert result.reason.startswith("Offers your top need: Counseling")


def test_a_distance_from_an_estimated_location_says_so():
    index = build(offering(1, km=3.2, location_estimated=True), offering(2, km=3.3))
    by = by_id(rank_offerings(index, school(), [need()], as_of=AS_OF))
    assert ", about 3.2 km from an approximate location, " in by[1].reason
    assert ", 3.3 km, " in by[2].reason
    estimated_school = school(location_estimated=True)
    by = by_id(rank_offerings(index, estimated_school, [need()], as_of=AS_OF))
    assert ", about 3.3 km from an approximate location, " in by[2].reason


def test_an_unstated_cost_is_left_out_of_the_reason_not_repeated_on_every_row():
    index = build(offering(1, cost=None), offering(2, cost="fee", cost_amount=40.0))
    by = by_id(rank_offerings(index, school(), [need()], as_of=AS_OF))
    assert "cost" not in by[1].reason
    assert ", fee $40, " in by[2].reason


def test_needs_met_lists_the_primary_need_first_then_by_priority():
    index = build(offering(1, categories=("literacy.reading_tutoring", "arts.music")))
    needs = [need("arts.music", priority=2), need("literacy.reading_tutoring", priority=1)]
    met = rank_offerings(index, school(), needs, as_of=AS_OF)[0].needs_met
    assert [(m.category, m.priority, m.primary) for m in met] == [
        ("literacy.reading_tutoring", 1, True),
        ("arts.music", 2, False),
    ]


def test_contributions_name_the_four_components_and_add_up_to_the_score():
    index = build(offering(1, cost="fee", verified=False), offering(2, schools_left=0))
    for result in rank_offerings(index, school(), [need()], as_of=AS_OF):
        assert [c.component for c in result.contributions] == [
            "fit",
            "reach",
            "constraints",
            "equity",
        ]
        assert sum(c.points for c in result.contributions) == result.score
        assert result.model_version == RankingConfig().version


def test_equal_scores_with_nothing_else_to_tell_them_apart_go_by_id_deterministically():
    index = build(offering(7), offering(3), offering(5))
    first = rank_offerings(index, school(), [need()], as_of=AS_OF)
    assert [r.offering_id for r in first] == [3, 5, 7]
    assert rank_offerings(index, school(), [need()], as_of=AS_OF) == first


VIRTUAL = frozenset({"virtual"})


def test_equal_scores_put_the_nearer_partner_first_not_the_lower_id():
    # Issue 12 defect 4: virtual offerings' distance is not scored, so these tie on score.
    index = build(*(offering(i, km=km, delivery=VIRTUAL) for i, km in [(1, 40), (2, 9), (3, 25)]))
    results = rank_offerings(index, school(), [need()], as_of=AS_OF)
    assert len({r.score for r in results}) == 1
    assert [r.offering_id for r in results] == [2, 3, 1]


def test_equal_scores_and_distance_put_stated_capacity_left_first():
    index = build(
        offering(1, delivery=VIRTUAL),
        offering(2, delivery=VIRTUAL, schools_left=3),
        offering(3, delivery=VIRTUAL, schools_left=8),
    )
    results = rank_offerings(index, school(), [need()], as_of=AS_OF)
    assert len({r.score for r in results}) == 1
    assert [r.offering_id for r in results] == [3, 2, 1]


def test_k_limits_the_results_and_ranks_count_from_one():
    index = build(*(offering(i, km=1.0 + i / 10) for i in range(1, 8)))
    results = rank_offerings(index, school(), [need()], k=3, as_of=AS_OF)
    assert [(r.rank, r.offering_id) for r in results] == [(1, 1), (2, 2), (3, 3)]


def test_text_similarity_breaks_a_tie_between_equal_categories():
    index = build(
        offering(1, text="Robotics club and coding"),
        offering(2, text="Grief counseling groups for middle school students"),
    )
    notes = need(notes="grief support groups for middle school students")
    assert ranked_ids(index, [notes]) == [2, 1]


def test_text_never_creates_a_match_outside_the_taxonomy():
    index = build(offering(1, categories=("stem.robotics",), text="counseling counseling"))
    assert ranked_ids(index, [need(notes="counseling")]) == []


def test_a_need_in_an_unknown_category_is_met_by_its_branch_and_siblings():
    index = build(offering(1, categories=("literacy.reading_tutoring",)))
    results = rank_offerings(index, school(), [need("literacy.poetry")], as_of=AS_OF)
    assert [r.offering_id for r in results] == [1]
    assert results[0].needs_met[0].credit == RankingConfig().sibling_credit


def test_no_needs_is_an_error():
    with pytest.raises(ValueError, match="need"):
        rank_offerings(build(offering(1)), school(), [], as_of=AS_OF)


def test_an_empty_index_ranks_nothing():
    index = build()
    assert rank_offerings(index, school(), [need()], as_of=AS_OF) == []


def test_an_offering_that_lists_no_languages_is_not_scored_as_not_offered_in_spanish():
    """Defect 7 of issue 12: unknown is not wrong. A priority-1 Spanish counselling need ranks a
    fitting counselling offering that lists no languages below a confirmed Spanish one, above
    one confirmed not to be in Spanish, with a positive score and no demotion."""
    index = build(
        offering(1, languages=frozenset()),  # unknown
        offering(2, languages=frozenset({"en"})),  # confirmed: not Spanish
        offering(3, languages=frozenset({"en", "es"}), km=2.5),  # confirmed Spanish, farther
    )
    ranked = rank_offerings(index, school(), [need(languages={"es"}, priority=1)], as_of=AS_OF)
    assert [r.offering_id for r in ranked] == [3, 1, 2]
    unknown = ranked[1]
    assert unknown.score > 0 and not any("not offered" in w for w in unknown.warnings)
    assert ranked[2].score < 0  # a confirmed mismatch is still demoted


def test_ranking_organizations_gives_each_its_best_offering_with_the_others_nested():
    # Issue 12 defect 3: one organization's offerings crowded the page.
    crowd = [offering(i, km=1.0 + i / 10, organization_id=7) for i in range(1, 5)]
    index = build(*crowd, offering(9, km=3.0, organization_id=8), offering(10, km=4.0))
    results = rank_organizations(index, school(), [need()], k=2, as_of=AS_OF)
    assert [(r.rank, r.organization_id, r.offering_id) for r in results] == [(1, 7, 1), (2, 8, 9)]
    assert [o.offering_id for o in results[0].others] == [2, 3, 4]
    assert results[1].others == ()
    flat = rank_offerings(index, school(), [need()], as_of=AS_OF)
    assert [r.organization_id for r in flat[:4]] == [7, 7, 7, 7]
