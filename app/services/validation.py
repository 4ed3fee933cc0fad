"""Rules a request must meet beyond its schema: known category codes, grade and date ranges,
an offering's cost. Each rule says what it finds broken once; the API raises the first, the
importers report every one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.domain_errors import InvalidInput
from app.schemas.common import grade_label
from app.taxonomy import load_taxonomy


@dataclass(frozen=True)
class Broken:
    """A broken rule: where in the record (relative `loc`), what is wrong and the error type."""

    loc: tuple[str | int, ...]
    message: str
    kind: str = "value_error"

    def at(self, prefix: Sequence[str | int]) -> InvalidInput:
        """The API error for it, located under `prefix` (e.g. ["body"])."""
        return InvalidInput([*prefix, *self.loc], self.message, kind=self.kind)


def unknown_categories(codes: Sequence[str], loc: tuple[str, ...] = ()) -> list[Broken]:
    """Each code not in the taxonomy, located by its position in `codes` (under `loc`)."""
    known = load_taxonomy().by_code
    return [
        Broken(
            (*loc, position),
            f"Unknown category code '{code}'; see GET /v1/taxonomy for the list.",
            "unknown_category",
        )
        for position, code in enumerate(codes)
        if code not in known
    ]


def reversed_grades(low: int | None, high: int | None) -> Broken | None:
    if low is not None and high is not None and low > high:
        return Broken(
            ("grade_high",),
            f"grade_high ({grade_label(high)}) is below grade_low ({grade_label(low)}); "
            "give the range low to high.",
            "grade_range_reversed",
        )
    return None


def reversed_dates(start: Any, end: Any) -> Broken | None:
    if start is not None and end is not None and start > end:
        return Broken(("active_until",), "active_until is before active_from.")
    return None


def offering_rules(o: Any) -> list[Broken]:
    """Rules across an offering's fields, checked on the whole record (a merged PATCH too)."""
    broken = unknown_categories(o.categories, ("categories",))
    for rule in (
        reversed_grades(o.grade_low, o.grade_high),
        reversed_dates(o.active_from, o.active_until),
    ):
        if rule:
            broken.append(rule)
    if o.cost == "fee" and o.cost_amount is None:
        broken.append(Broken(("cost_amount",), "cost 'fee' needs cost_amount."))
    if o.cost == "free" and o.cost_amount not in (None, 0):
        broken.append(Broken(("cost_amount",), "A free offering cannot have a cost_amount."))
    return broken


def check_categories(codes: list[str], loc: list[str | int]) -> None:
    for broken in unknown_categories(codes):
        raise broken.at(loc)


def check_grades(low: int | None, high: int | None, loc: list[str | int]) -> None:
    broken = reversed_grades(low, high)
    if broken:
        raise broken.at(loc)


def check_category(code: str, loc: list[str | int]) -> None:
    if code not in load_taxonomy():
        raise InvalidInput(
            loc,
            f"Unknown category code '{code}'; see GET /v1/taxonomy for the list.",
            kind="unknown_category",
        )
