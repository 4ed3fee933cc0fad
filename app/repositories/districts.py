"""SQL for districts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import District, DistrictAlias


def get(session: Session, district_id: int) -> District | None:
    return session.get(District, district_id)


def id_named(session: Session, name: str) -> int | None:
    return session.scalar(select(District.id).where(District.name == name))


def by_name(session: Session, name: str) -> District | None:
    return session.scalar(select(District).where(District.name == name))


def id_with_slug(session: Session, slug: str) -> int | None:
    return session.scalar(select(District.id).where(District.slug == slug))


def by_ref(session: Session, ref: str) -> District | None:
    """A district by id (all digits), else by slug, exact name or NCES id."""
    if ref.isdigit():
        return session.get(District, int(ref))
    return session.scalar(
        select(District).where(
            (District.slug == ref) | (District.name == ref) | (District.nces_lea_id == ref)
        )
    )


def page(session: Session, after_id: int | None, limit: int) -> list[District]:
    query = select(District)
    if after_id is not None:
        query = query.where(District.id > after_id)
    return list(session.scalars(query.order_by(District.id).limit(limit)))


def ids_by_name(session: Session, names: Sequence[str]) -> dict[str, int]:
    rows = session.execute(select(District.name, District.id).where(District.name.in_(names)))
    return {name: district_id for name, district_id in rows}


def slugs(session: Session) -> set[str]:
    return set(session.scalars(select(District.slug)))


def ranking_equity(
    session: Session, *, district_id: int | None = None, name: str | None = None
) -> float | None:
    """The district's own equity default, found by id or else by name (null: none set)."""
    if district_id is not None:
        clause = District.id == district_id
    elif name:
        clause = District.name == name
    else:
        return None
    return session.scalar(select(District.ranking_equity).where(clause))


def identities(session: Session) -> list[tuple[int, str, str | None]]:
    """Every district's (id, name, NCES LEA id): imports resolve names against all of them."""
    return [
        tuple(r) for r in session.execute(select(District.id, District.name, District.nces_lea_id))
    ]  # type: ignore[misc]


def aliases(session: Session) -> list[tuple[str, int]]:
    """Every (alias, district id)."""
    return [
        tuple(r) for r in session.execute(select(DistrictAlias.name, DistrictAlias.district_id))
    ]  # type: ignore[misc]


def add_alias(session: Session, district_id: int, name: str) -> None:
    session.add(DistrictAlias(district_id=district_id, name=name))


def set_lea_id(session: Session, district_id: int, lea_id: str) -> None:
    session.execute(update(District).where(District.id == district_id).values(nces_lea_id=lea_id))
