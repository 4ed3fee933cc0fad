"""Fit and reach of school need-offering pairs, graded by the ranking model's own fit."""

import datetime as dt
import math
from dataclasses import replace

import numpy as np
import pytest

from bench.synthetic import synthetic_offerings, synthetic_schools, synthetic_taxonomy
from geo.coverage import SLACK, CoverageConfig
from matching import OfferingIndex, RankingConfig, SchoolTable, fit_and_reach, rank_offerings
from matching.pairs import ISSUES, VIA
from matching.vocab import AT_SCHOOL_BIT, VIRTUAL_BIT
from tests.matching.factories import AS_OF, build, need, offering, school

CONFIG = RankingConfig()
CITY_REACH_KM = CONFIG.scale_city_km * CoverageConfig().reach_scales  # 10 km
BAY_AREA = (-122.6, 37.5, -121.9, 38.0)


def table(*queries_and_needs):
    queries = [q for q, _ in queries_and_needs]
    return SchoolTable.from_queries(queries, [needs for _, needs in queries_and_needs])


def pairs(index, schools, **kwargs):
    """{(need row, offering id): (fit, via, issue)} of the pairs found."""
    kwargs.setdefault("as_of", AS_OF)
    found = fit_and_reach(index, schools, **kwargs)
    ids = found.offerings.ids[found.pair_offering]
    return {
        (int(n), int(o)): (float(f), VIA[v], ISSUES[i])
        for n, o, f, v, i in zip(
            found.pair_need, ids, found.fit, found.via, found.issue, strict=True
        )
    }


def test_fit_is_the_fit_the_ranking_gives_for_that_one_need():
    index = build(
        offering(1, text="Counseling groups for middle school students"),
        offering(2, categories=("mental_health_sel",), text="Wellness programs"),
        offering(3, categories=("mental_health_sel.sel_curriculum",), text="Counseling SEL"),
    )
    the_need = need(notes="counseling for students")
    found = pairs(index, table((school(), [the_need])))
    ranked = rank_offerings(index, school(), [the_need], as_of=AS_OF, equity=0.0)
    fits = {
        r.offering_id: next(c.points for c in r.contributions if c.component == "fit")
        for r in ranked
    }
    assert {o for _, o in found} <= set(fits) and len(found) >= 2
    for (_, offering_id), (fit, _, _) in found.items():
        assert fit == pytest.approx(fits[offering_id] / CONFIG.fit_weight)
    assert found[(0, 1)][0] > found[(0, 2)][0]  # same category beats its parent


def test_in_person_offerings_reach_within_two_decay_scales_of_a_city_school():
    index = build(offering(1, km=CITY_REACH_KM - 0.5), offering(2, km=CITY_REACH_KM + 0.5))
    found = pairs(index, table((school(), [need()])))
    assert set(found) == {(0, 1)}
    assert found[(0, 1)][1] == "distance"


def test_partners_coming_to_the_school_reach_half_as_far_again():
    index = build(
        offering(1, km=CITY_REACH_KM * 1.4, delivery=frozenset({"at_school"})),
        offering(2, km=CITY_REACH_KM * 1.4),
    )
    assert set(pairs(index, table((school(), [need()])))) == {(0, 1)}


def test_a_rural_school_reaches_farther_than_a_city_one():
    index = build(offering(1, km=30.0))
    assert pairs(index, table((school(locale="city"), [need()]))) == {}
    assert set(pairs(index, table((school(locale="rural"), [need()])))) == {(0, 1)}


def test_virtual_offerings_reach_any_distance():
    index = build(offering(1, km=3000.0, delivery=frozenset({"virtual"})))
    found = pairs(index, table((school(), [need()])))
    assert found[(0, 1)][1] == "virtual"


def test_a_declared_radius_is_the_partners_word_on_where_it_serves():
    index = build(
        offering(1, km=3.0, service_radius_km=1.0),  # near, but says it serves within 1 km
        offering(2, km=40.0, service_radius_km=50.0),  # far, but says it comes this far
    )
    found = pairs(index, table((school(), [need()])))
    assert set(found) == {(0, 2)}
    assert found[(0, 2)][1] == "service_area"


def test_a_polygon_area_reaches_exactly_the_schools_it_covers():
    index = build(
        offering(1, km=60.0, organization_id=7, has_service_area=True),
        offering(2, km=1.0, organization_id=8, has_service_area=True),
    )
    schools = table((school(school_id=11), [need()]))
    covered = (np.array([11]), np.array([7]))  # org 7's polygon covers school 11; 8's does not
    found = pairs(index, schools, covered=covered)
    assert set(found) == {(0, 1)}
    assert found[(0, 1)][1] == "service_area"


def test_offerings_that_cannot_serve_the_need_say_why():
    index = build(
        offering(1, grade_low=9, grade_high=12),
        offering(2, schools_left=0.0),
        offering(3, active_until=dt.date(2020, 1, 1)),
        offering(4, languages=frozenset({"en"})),
        offering(5),
    )
    found = pairs(index, table((school(), [need(languages=frozenset({"es"}))])))
    assert {o: found[(0, o)][2] for o in range(1, 6)} == {
        1: "grades",
        2: "full",
        3: "inactive",
        4: "language",
        5: "",
    }


def test_other_branches_and_weak_relations_are_not_pairs():
    index = build(
        offering(1, categories=("stem.robotics",)),
        offering(2, categories=("mental_health_sel.sel_curriculum",), text="Arts"),
    )
    assert pairs(index, table((school(), [need()]))) == {}


def test_many_schools_at_once_give_what_each_gives_alone():
    index = build(
        offering(1, km=2.0),
        offering(2, km=9.0, categories=("literacy.reading_tutoring",)),
        offering(3, km=25.0, delivery=frozenset({"virtual"})),
    )
    a = (school(school_id=1), [need(), need("literacy", priority=2)])
    b = (school(school_id=2, lat=school().lat + 0.12, grade_low=0, grade_high=5), [need()])
    together = pairs(index, table(a, b))
    alone_a = pairs(index, table(a))
    alone_b = {(n + 2, o): v for (n, o), v in pairs(index, table(b)).items()}
    assert together == {**alone_a, **alone_b}


def test_only_the_offerings_asked_for_are_considered():
    index = build(offering(1), offering(2), offering(3))
    found = pairs(index, table((school(), [need()])), offering_ids=[2, 3])
    assert {o for _, o in found} == {2, 3}


@pytest.fixture(scope="module")
def metro():
    """A dense synthetic metro with buffered and removed rows, and schools with several needs."""
    parents, names = synthetic_taxonomy()
    codes = list(parents)
    table = synthetic_offerings(3000, 41, codes, BAY_AREA)
    index = OfferingIndex.build(table, parents, names=names)
    index.upsert(synthetic_offerings(200, 42, codes, BAY_AREA))  # ids 1-200 replaced
    index.remove(range(201, 301))
    return index, synthetic_schools(16, 43, codes, BAY_AREA)


def test_pairs_of_many_schools_are_what_ranking_each_school_need_by_need_gives(metro):
    """Every pair's fit is the fit rank_offerings gives the offering for that one need, and
    the pairs are exactly the ranked offerings that fit well enough and reach the school:
    virtual, within a declared radius, or near enough while declaring no area."""
    index, schools = metro
    cov = CoverageConfig()
    found = fit_and_reach(index, schools, coverage=cov, as_of=AS_OF)
    got: dict[tuple[int, int], float] = {}
    for n, o, f in zip(found.pair_need, found.pair_offering, found.fit, strict=True):
        got[(int(n), int(found.offerings.ids[o]))] = float(f)
    off, _ = index.snapshot().live()
    row_of = {int(i): r for r, i in enumerate(off.ids.tolist())}
    expected: dict[tuple[int, int], float] = {}
    need_row = 0
    for i in range(len(schools)):
        query, needs = schools.query(i)
        for the_need in needs:
            ranked = rank_offerings(
                index, query, [replace(the_need, priority=1)], k=len(index), as_of=AS_OF
            )
            for r in ranked:
                fit = next(c.points for c in r.contributions if c.component == "fit")
                fit /= CONFIG.fit_weight
                row = row_of[r.offering_id]
                if fit >= cov.min_fit - SLACK and _reaches(off, row, query, r.distance_km, cov):
                    expected[(need_row, r.offering_id)] = fit
            need_row += 1
    assert len(expected) > 100  # the comparison covers many pairs
    assert set(got) == set(expected)
    for pair, fit in got.items():
        assert fit == pytest.approx(expected[pair], abs=SLACK, rel=0)  # float32 text rows


def _reaches(off, row: int, query, distance_km: float, cov: CoverageConfig) -> bool:
    """The coverage reach rule (see matching.pairs), from the offering's columns."""
    delivery = int(off.delivery[row])
    radius = float(off.service_radius_km[row])
    if delivery & VIRTUAL_BIT or distance_km <= radius:
        return True
    if not math.isnan(radius) or off.has_service_area[row]:
        return False  # a declared area not covering the school (no polygon covers it here)
    travel = max(CONFIG.at_school_travel_factor, 1.0) if delivery & AT_SCHOOL_BIT else 1.0
    return distance_km <= CONFIG.scale_km(query.locale) * travel * cov.reach_scales


def test_a_school_is_reached_from_the_organizations_location_nearest_it():
    # Issue 12 defect 2, gap analysis: only the first location counted.
    from tests.matching.factories import SCHOOL_LON, north

    two_sites = offering(1, km=80.0, more_locations=((north(1.0), SCHOOL_LON, False),))
    index = build(two_sites, offering(2, km=CITY_REACH_KM + 5.0))
    found = fit_and_reach(index, table((school(), [need()])), as_of=AS_OF)
    ids = found.offerings.ids[found.pair_offering]
    assert ids.tolist() == [1]
    assert found.distance_km.tolist() == pytest.approx([1.0], abs=1e-6)
    assert VIA[found.via[0]] == "distance"
