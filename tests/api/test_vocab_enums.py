"""The API's closed lists are matching/vocab.py's tuples, in the same order."""

from __future__ import annotations

import typing

import pytest

from app.schemas.common import CostKind, Delivery, Locale, Population, Schedule
from matching.vocab import COST_KINDS, DELIVERIES, LOCALES, POPULATIONS, SCHEDULES


@pytest.mark.parametrize(
    ("schema_type", "vocabulary"),
    [
        (Schedule, SCHEDULES),
        (Delivery, DELIVERIES),
        (Population, POPULATIONS),
        (Locale, LOCALES),
        (CostKind, COST_KINDS),
    ],
)
def test_schema_types_are_the_vocab_tuples_in_order(schema_type, vocabulary):
    assert typing.get_args(schema_type) == vocabulary


def test_the_published_offering_enums_are_the_vocab_tuples(anon):
    schemas = anon.get("/openapi.json").json()["components"]["schemas"]
    offering = schemas["OfferingCreate"]["properties"]
    assert offering["schedule"]["items"]["enum"] == list(SCHEDULES)
    assert offering["delivery"]["items"]["enum"] == list(DELIVERIES)
    assert offering["populations"]["items"]["enum"] == list(POPULATIONS)
