"""WHERE clauses shared by the list queries."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Text, and_, exists, func, or_, select, type_coerce

from app.filters import OfferingFilters, Visibility
from app.models import Offering, Organization


def tag_has(column: ColumnElement, code: str) -> ColumnElement[bool]:
    """A TagList column holds `code` (LIKE with `_` and `%` escaped)."""
    return type_coerce(column, Text).like(f"%,{_escape(code)},%", escape="\\")


def tag_has_branch(column: ColumnElement, code: str) -> ColumnElement[bool]:
    """A TagList column holds `code` or any of its children in the taxonomy."""
    return or_(
        tag_has(column, code), type_coerce(column, Text).like(f"%,{_escape(code)}.%", escape="\\")
    )


def tag_has_any(column: ColumnElement, codes: tuple[str, ...]) -> ColumnElement[bool]:
    return or_(*[tag_has(column, c) for c in codes])


def text_match(q: str, *columns: ColumnElement) -> ColumnElement[bool]:
    needle = q.lower()
    return or_(*[func.lower(c).contains(needle, autoescape=True) for c in columns])


def _escape(code: str) -> str:
    return code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def offering_clauses(f: OfferingFilters) -> list[ColumnElement[bool]]:
    """Clauses over Offering joined with its Organization."""
    clauses: list[ColumnElement[bool]] = []
    if f.q:
        clauses.append(text_match(f.q, Offering.title, Offering.description, Organization.name))
    if f.org_types:
        clauses.append(Organization.type.in_(f.org_types))
    if f.categories:
        clauses.append(or_(*[tag_has_branch(Offering.categories, c) for c in f.categories]))
    if f.grade is not None:
        clauses.append(and_(Offering.grade_low <= f.grade, Offering.grade_high >= f.grade))
    if f.schedule:
        clauses.append(tag_has_any(Offering.schedule, f.schedule))
    if f.delivery:
        clauses.append(tag_has_any(Offering.delivery, f.delivery))
    if f.languages:
        clauses.append(tag_has_any(Offering.languages, f.languages))
    if f.free:
        clauses.append(Offering.cost == "free")
    if f.verified_only:
        clauses.append(Organization.verification == "verified")
    if f.organization_id is not None:
        clauses.append(Offering.organization_id == f.organization_id)
    visible = visibility_clause(f.visibility)
    if visible is not None:
        clauses.append(visible)
    return clauses


def visibility_clause(v: Visibility) -> ColumnElement[bool] | None:
    """Over Organization: what the caller may see (None: everything)."""
    if v.everything:
        return None
    verified = Organization.verification == "verified"
    if not v.own_organizations:
        return verified
    return or_(verified, Organization.id.in_(sorted(v.own_organizations)))


def has_offering_matching(f: OfferingFilters) -> ColumnElement[bool] | None:
    """EXISTS an offering of the organization that passes the offering filters."""
    clauses = offering_clauses(
        OfferingFilters(
            categories=f.categories,
            grade=f.grade,
            schedule=f.schedule,
            delivery=f.delivery,
            languages=f.languages,
            free=f.free,
        )
    )
    if not clauses:
        return None
    return exists(select(Offering.id).where(Offering.organization_id == Organization.id, *clauses))
