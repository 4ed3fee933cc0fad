"""The shortcuts of matching.explain write what the plain definitions would."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from matching.explain import best_categories, cost_label, grade_span
from matching.vocab import COST_FEE, COST_FREE, COST_SLIDING, COST_UNKNOWN

CATEGORIES = 6  # and a last column for padding (-1), credit 0, as CategoryTree.credit makes
TABLE_ROWS = 4


def first_of_the_best(categories: list[int], table: np.ndarray, row: int) -> int | None:
    """The definition best_categories computes for all rows at once (None where the row
    earns no credit for the need: nothing is read of it there)."""
    cats = [c for c in categories if c >= 0]
    credit = table[row].tolist()
    if not cats or max(credit[c] for c in cats) <= 0:
        return None
    return max(cats, key=credit.__getitem__)


@settings(max_examples=200, deadline=None)
@given(
    # Few distinct credits, so ties between a row's categories are common.
    table=hnp.arrays(
        np.float32, (TABLE_ROWS, CATEGORIES), elements=st.sampled_from([0.0, 0.25, 0.5, 1.0])
    ),
    categories=hnp.arrays(
        np.int32, st.tuples(st.integers(0, 5), st.integers(0, 4)), elements=st.integers(-1, 5)
    ),
    data=st.data(),
)
def test_best_categories_is_the_first_category_earning_the_most_credit(
    table: np.ndarray, categories: np.ndarray, data: st.DataObject
) -> None:
    n = len(categories)
    slots = data.draw(st.integers(1, 3))
    per_row = data.draw(st.booleans())
    shape = (n, slots) if per_row else (slots,)
    rows = data.draw(hnp.arrays(np.intp, shape, elements=st.integers(0, TABLE_ROWS - 1)))
    table = np.hstack([table, np.zeros((TABLE_ROWS, 1), np.float32)])  # padding: credit 0
    got = best_categories(categories, table, rows)
    assert got.shape == (n, slots)
    for i in range(n):
        for j in range(slots):
            row = int(rows[i, j] if per_row else rows[j])
            expected = first_of_the_best(categories[i].tolist(), table, row)
            assert expected is None or got[i, j] == expected


def test_fee_labels_are_written_as_before_memoised_or_not() -> None:
    for amount in (25.0, 25.0, 1234.5, 0.4, 0.0, -0.0, -3.0, math.nan, math.inf):
        expected = f"fee ${amount:,.0f}" if math.isfinite(amount) else "fee"
        assert cost_label(COST_FEE, amount) == expected
    assert cost_label(COST_FEE, 0.0) == "fee $0"
    assert cost_label(COST_FEE, -0.0) == "fee $-0"
    assert [cost_label(code, 10.0) for code in (COST_FREE, COST_SLIDING, COST_UNKNOWN, 9)] == [
        "free",
        "sliding scale",
        "cost unknown",
        "cost unknown",
    ]


def test_grade_spans_name_pre_k_and_kindergarten() -> None:
    assert grade_span(-1, 0) == "grades PK\u2013K"
    assert grade_span(3, 3) == "grade 3"
    assert grade_span(6, 8) == "grades 6\u20138"
