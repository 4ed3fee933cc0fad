"""Capacity-aware coverage: how capacity is shared and how needs are graded."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo import MET, THIN, UNMET, CoverageConfig, needs_coverage

NAN = math.nan


def cover(pairs, *, need_school, students=None, schools_left, students_left=None, **kw):
    """pairs: (need, offering, fit) triples."""
    need, off, fit = (list(c) for c in zip(*pairs, strict=True)) if pairs else ([], [], [])
    n_off = len(schools_left)
    return needs_coverage(
        pair_need=need,
        pair_offering=off,
        fit=fit,
        need_school=need_school,
        need_students=students if students is not None else [NAN] * len(need_school),
        schools_left=schools_left,
        students_left=students_left if students_left is not None else [NAN] * n_off,
        **kw,
    )


def test_an_offering_with_room_for_two_schools_cannot_cover_twenty():
    twenty = [(school, 0, 1.0) for school in range(20)]
    result = cover(twenty, need_school=list(range(20)), schools_left=[2])
    assert result.share == pytest.approx(np.full(20, 0.1))
    assert result.status.tolist() == [UNMET] * 20

    two = cover(twenty[:2], need_school=list(range(20)), schools_left=[2])
    assert two.status[:2].tolist() == [MET, MET]
    assert two.status[2:].tolist() == [UNMET] * 18  # nothing reaches them


def test_zero_capacity_gives_nothing_and_unknown_capacity_within_the_estimate_is_full():
    result = cover([(0, 0, 1.0), (1, 1, 1.0)], need_school=[0, 1], schools_left=[NAN, 0.0])
    assert result.share.tolist() == [1.0, 0.0]
    assert result.status.tolist() == [MET, UNMET]
    assert result.estimated.tolist() == [True, False]
    assert result.need_estimated.tolist() == [True, False]


def test_unknown_capacity_is_estimated_not_unlimited_so_twenty_schools_leave_gaps():
    twenty = [(school, 0, 1.0) for school in range(20)]
    result = cover(twenty, need_school=list(range(20)), schools_left=[NAN])
    assert result.share == pytest.approx(np.full(20, 2 / 20))  # default estimate: 2 schools
    assert result.status.tolist() == [UNMET] * 20
    assert result.need_estimated.all()

    roomier = cover(
        twenty,
        need_school=list(range(20)),
        schools_left=[NAN],
        config=CoverageConfig(estimated_schools=5),
    )
    assert roomier.share == pytest.approx(np.full(20, 0.25))
    assert roomier.status.tolist() == [THIN] * 20


def test_a_partners_history_replaces_the_default_estimate_and_stays_marked_estimated():
    twenty = [(school, 0, 1.0) for school in range(20)]
    # the partner served 14 schools in its busiest year: 14 of 20 schools' worth each
    result = cover(
        twenty, need_school=list(range(20)), schools_left=[NAN, 3.0], estimated_schools_left=[14, 9]
    )
    assert result.share[:20] == pytest.approx(np.full(20, 14 / 20))
    assert result.status.tolist() == [MET] * 20
    assert result.estimated.tolist() == [True, False]  # a declared capacity ignores history
    assert result.need_estimated.all()
    # no history (NaN, or none served): the default estimate of 2 schools
    none = cover(
        twenty, need_school=list(range(20)), schools_left=[NAN], estimated_schools_left=[NAN]
    )
    assert none.share == pytest.approx(np.full(20, 2 / 20))


def test_a_declared_capacity_is_not_marked_estimated():
    result = cover([(0, 0, 1.0)], need_school=[0], schools_left=[3.0])
    assert result.estimated.tolist() == [False]
    assert result.need_estimated.tolist() == [False]


def test_student_capacity_is_shared_in_proportion_to_the_students_in_need():
    # 100 places, two schools needing 100 and 300: every pair gets a quarter.
    result = cover(
        [(0, 0, 1.0), (1, 0, 1.0)],
        need_school=[0, 1],
        students=[100, 300],
        schools_left=[NAN],
        students_left=[100],
    )
    assert result.student_share.tolist() == [0.25]
    assert result.share.tolist() == [0.25, 0.25]


def test_the_tighter_of_school_and_student_capacity_binds():
    result = cover(
        [(0, 0, 1.0), (1, 0, 1.0)],
        need_school=[0, 1],
        students=[10, 10],
        schools_left=[1],
        students_left=[1000],
    )
    assert result.share.tolist() == [0.5, 0.5]


def test_a_school_with_two_needs_one_offering_serves_is_counted_once():
    # Two needs of school 0 and one of school 1; room for two schools: both fully served.
    result = cover(
        [(0, 0, 1.0), (1, 0, 0.8), (2, 0, 1.0)],
        need_school=[0, 0, 1],
        students=[50, 80, 40],
        schools_left=[2],
        students_left=[120],
    )
    assert result.schools_reached.tolist() == [2]
    # Students: school 0 counts its most affecting need (80), school 1 its 40: 120 in all.
    assert result.student_share.tolist() == [1.0]
    assert result.share.tolist() == [1.0, 1.0, 1.0]


def test_offerings_below_the_minimum_fit_neither_count_nor_take_capacity():
    config = CoverageConfig()
    weak = config.min_fit - 0.01
    result = cover([(0, 0, weak), (1, 0, 1.0)], need_school=[0, 1], schools_left=[1], config=config)
    assert result.counts.tolist() == [False, True]
    assert result.schools_reached.tolist() == [1]
    assert result.offerings.tolist() == [0, 1]
    assert result.status.tolist() == [UNMET, MET]


def test_partial_offerings_add_up_and_thresholds_are_inclusive():
    config = CoverageConfig(met=0.7, thin=0.2)
    result = cover(
        [(0, 0, 0.5), (0, 1, 0.2), (1, 2, 0.5), (2, 3, 0.2)],
        need_school=[0, 1, 2],
        schools_left=[NAN, 1, NAN, NAN],
        config=CoverageConfig(min_fit=0.1, met=0.7, thin=0.2),
    )
    assert result.effective.tolist() == pytest.approx([0.7, 0.5, 0.2])
    assert result.status.tolist() == [MET, THIN, THIN]
    assert config.met == 0.7


def test_no_pairs_means_every_need_is_unmet():
    result = cover([], need_school=[0, 0, 1], schools_left=[3])
    assert result.status.tolist() == [UNMET] * 3
    assert result.effective.tolist() == [0.0] * 3


def test_thresholds_are_checked():
    with pytest.raises(ValueError):
        CoverageConfig(met=0.1, thin=0.5)
    with pytest.raises(ValueError):
        CoverageConfig(min_fit=2.0)


@given(
    st.lists(
        st.tuples(st.integers(0, 9), st.integers(0, 4), st.floats(0.0, 1.0)),
        max_size=40,
        unique_by=lambda t: (t[0], t[1]),
    ),
    st.lists(st.integers(0, 6), min_size=5, max_size=5),
    st.integers(0, 6),
)
def test_an_offering_never_gives_out_more_schools_than_it_has_room_for(pairs, room, cut):
    need_school = [n // 2 for n in range(10)]  # two needs per school
    result = cover(pairs, need_school=need_school, schools_left=[float(r) for r in room])
    assert ((result.share >= 0) & (result.share <= 1)).all()
    for offering in range(5):
        mine = [i for i, p in enumerate(pairs) if p[1] == offering and result.counts[i]]
        schools = {need_school[pairs[i][0]]: result.share[i] for i in mine}
        assert sum(schools.values()) <= room[offering] + 1e-9
    # Less room never raises any need's coverage.
    tighter = cover(pairs, need_school=need_school, schools_left=[float(min(r, cut)) for r in room])
    assert (tighter.effective <= result.effective + 1e-12).all()
