"""Rules a request must meet beyond its schema: known category codes, grade and date ranges."""

from __future__ import annotations

from app.domain_errors import InvalidInput
from app.taxonomy import load_taxonomy


def check_categories(codes: list[str], loc: list[str | int]) -> None:
    taxonomy = load_taxonomy()
    for position in taxonomy.unknown(codes):
        raise InvalidInput(
            [*loc, position],
            f"Unknown category code '{codes[position]}'; see GET /v1/taxonomy for the list.",
            kind="unknown_category",
        )


def check_grades(low: int | None, high: int | None, loc: list[str | int]) -> None:
    if low is not None and high is not None and low > high:
        raise InvalidInput(
            [*loc, "grade_high"],
            f"grade_high ({high}) is below grade_low ({low}); give the range low to high.",
            kind="grade_range_reversed",
        )


def check_dates(start, end, loc: list[str | int]) -> None:  # type: ignore[no-untyped-def]
    if start is not None and end is not None and start > end:
        raise InvalidInput([*loc, "active_until"], "active_until is before active_from.")


def check_category(code: str, loc: list[str | int]) -> None:
    if code not in load_taxonomy():
        raise InvalidInput(
            loc,
            f"Unknown category code '{code}'; see GET /v1/taxonomy for the list.",
            kind="unknown_category",
        )
