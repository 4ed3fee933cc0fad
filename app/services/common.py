"""Pieces the use cases share: committing once, and turning constraint races into 409s."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import Conflict, InvalidInput
from app.filters import Visibility
from app.taxonomy import load_taxonomy


@contextmanager
def unit_of_work(session: Session, *, conflict: str) -> Iterator[None]:
    """Flush and commit what the block adds, once; a unique-constraint violation (a race with
    another writer, or a duplicate the checks did not foresee) becomes a 409 and nothing stays."""
    try:
        yield
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(conflict) from exc


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


def record_change(
    session: Session, *, organization_id: int | None = None, offering_id: int | None = None
) -> None:
    """Log a catalog write in the same transaction (see models.CatalogChange); no ids means
    "anything may have changed" (bulk loads), which makes readers rebuild."""
    from app.models import CatalogChange

    session.flush()
    session.add(CatalogChange(organization_id=organization_id, offering_id=offering_id))


def visibility_of(principal: Principal) -> Visibility:
    """What a caller may see of the organization directory."""
    if principal.sees_unverified:
        return Visibility()
    return Visibility(everything=False, own_organizations=principal.organization_ids)


def per_distinct(keys: Sequence[Any], compute: Callable[[Any], Any]) -> list[Any]:
    """compute(key) for each key, once per distinct key (category lists repeat a lot)."""
    cache: dict[Any, Any] = {}
    return [cache[k] if k in cache else cache.setdefault(k, compute(k)) for k in keys]
