"""The need index: documented formula, bounds, missing data and monotonicity."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import need_index, populations_from_indicators
from matching.need_index import WEIGHTS

pct = st.one_of(st.just(math.nan), st.floats(0, 100))
flag = st.sampled_from([math.nan, 0.0, 1.0])
locale = st.sampled_from(["city", "suburb", "town", "rural", "", None])


def one(frl=math.nan, title_i=math.nan, el=math.nan, swd=math.nan, absent=math.nan, loc=""):
    """need_index for one school, called the way the service calls it."""
    return float(
        need_index(
            np.array([frl]),
            np.array([title_i]),
            np.array([el]),
            np.array([swd]),
            np.array([absent]),
            np.array([loc], dtype=object),
        )[0]
    )


def test_the_documented_weights_sum_to_one():
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)


def test_a_school_at_every_maximum_has_index_one_and_at_every_minimum_zero():
    assert one(100, 1, 40, 25, 50, "rural") == pytest.approx(1.0)
    assert one(0, 0, 0, 0, 0, "city") == pytest.approx(0.0)


def test_missing_indicators_drop_out_and_the_rest_are_renormalised():
    # FRL 80 % only: 0.8. FRL 80 % and Title I: (0.45 * 0.8 + 0.15 * 1) / 0.6.
    assert one(frl=80) == pytest.approx(0.8)
    assert one(frl=80, title_i=1) == pytest.approx((0.45 * 0.8 + 0.15) / 0.6)


def test_english_learners_saturate_at_forty_percent():
    assert one(el=40) == one(el=90) == pytest.approx(1.0)
    assert one(el=20) == pytest.approx(0.5)


def test_no_student_indicator_gives_nan_even_with_a_locale():
    assert math.isnan(one())
    assert math.isnan(one(loc="rural"))


def test_it_is_vectorized_over_schools():
    out = need_index(
        np.array([90.0, 10.0, np.nan]),
        np.array([1.0, 0.0, np.nan]),
        np.array([30.0, 2.0, np.nan]),
        np.array([12.0, 10.0, np.nan]),
        np.array([30.0, 5.0, np.nan]),
        np.array(["city", "suburb", ""], dtype=object),
    )
    assert out.shape == (3,)
    assert out[0] > out[1]
    assert math.isnan(out[2])


@settings(max_examples=300, deadline=None)
@given(pct, flag, pct, pct, pct, locale)
def test_the_index_is_nan_or_within_zero_and_one(frl, title_i, el, swd, absent, loc):
    value = one(frl, title_i, el, swd, absent, loc)
    assert math.isnan(value) or 0.0 <= value <= 1.0


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 100), st.floats(0, 100), flag, pct, pct, pct, locale)
def test_raising_frl_never_lowers_the_index(frl_a, frl_b, title_i, el, swd, absent, loc):
    low, high = sorted([frl_a, frl_b])
    assert one(low, title_i, el, swd, absent, loc) <= one(high, title_i, el, swd, absent, loc)


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 100), flag, st.floats(0, 100), st.floats(0, 100), pct, locale)
def test_raising_any_indicator_never_lowers_the_index(frl, title_i, el_a, el_b, absent, loc):
    low, high = sorted([el_a, el_b])
    assert one(frl, title_i, low, 10, absent, loc) <= one(frl, title_i, high, 10, absent, loc)
    assert one(frl, 0.0, el_a, 10, absent, loc) <= one(frl, 1.0, el_a, 10, absent, loc)


def test_populations_follow_the_documented_thresholds():
    assert populations_from_indicators(frl_pct=75, title_i=True, el_pct=25, locale="rural") == {
        "low_income",
        "title_i",
        "english_learners",
        "rural",
    }
    assert populations_from_indicators(frl_pct=49.9, el_pct=19.9, swd_pct=19.9) == frozenset()
    assert populations_from_indicators() == frozenset()
