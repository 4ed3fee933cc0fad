"""The vocab tuples are the one definition: bit positions and cost codes follow their order."""

from __future__ import annotations

import numpy as np
import pytest

from matching.vocab import (
    AT_SCHOOL_BIT,
    COST_CODES,
    COST_FEE,
    COST_FREE,
    COST_KINDS,
    COST_SLIDING,
    DELIVERIES,
    POPULATIONS,
    SCHEDULES,
    VIRTUAL_BIT,
    bitmask,
)
from tests.matching.factories import build, offering

SETS = [("schedule", SCHEDULES), ("delivery", DELIVERIES), ("populations", POPULATIONS)]


@pytest.mark.parametrize(("field", "vocabulary"), SETS)
def test_each_value_is_the_bit_at_its_index_in_the_vocab_tuple(field, vocabulary):
    assert [bitmask([v], vocabulary, field) for v in vocabulary] == [
        1 << i for i in range(len(vocabulary))
    ]


@pytest.mark.parametrize(("field", "vocabulary"), SETS)
def test_the_index_encodes_each_offering_value_at_its_tuple_index(field, vocabulary):
    records = [offering(i + 1, **{field: frozenset({v})}) for i, v in enumerate(vocabulary)]
    base = build(*records).snapshot().base
    column = getattr(base, field)
    for row, offering_id in enumerate(base.ids):
        assert int(column[row]) == 1 << (int(offering_id) - 1)
    assert np.iinfo(column.dtype).bits >= len(vocabulary)  # every value has a bit


def test_named_delivery_bits_are_the_bits_the_index_sets_for_those_values():
    base = (
        build(
            offering(1, delivery=frozenset({"virtual"})),
            offering(2, delivery=frozenset({"at_school"})),
        )
        .snapshot()
        .base
    )
    by_id = dict(zip(base.ids.tolist(), base.delivery.tolist(), strict=True))
    assert by_id == {1: VIRTUAL_BIT, 2: AT_SCHOOL_BIT}


def test_cost_codes_follow_the_cost_kinds_tuple_after_unknown():
    assert [COST_CODES[k] for k in COST_KINDS] == [COST_FREE, COST_SLIDING, COST_FEE]
    assert COST_CODES[None] not in (COST_FREE, COST_SLIDING, COST_FEE)
    assert COST_CODES["free"] == COST_FREE
