"""Use cases for districts, the tenants that own schools, needs assessments and API keys."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.db import unit_of_work
from app.domain_errors import Conflict, InvalidInput, NotFound
from app.models import District, School
from app.services import audit


def slug_for(name: str, taken: set[str]) -> str:
    """Lower-case ASCII words joined by '-', made unique with a counter."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:90] or "district"
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def create(
    *,
    session: Session,
    principal: Principal,
    name: str,
    slug: str | None = None,
    nces_lea_id: str | None = None,
) -> District:
    if session.scalar(select(District.id).where(District.name == name)) is not None:
        raise Conflict(f"A district named '{name}' already exists.")
    if slug and session.scalar(select(District.id).where(District.slug == slug)) is not None:
        raise Conflict(f"The slug '{slug}' is taken.")
    district = District(
        name=name, slug=slug or slug_for(name, _slugs(session)), nces_lea_id=nces_lea_id
    )
    with unit_of_work(session, conflict="A district with this name, slug or NCES id exists."):
        session.add(district)
        session.flush()
        audit.record(
            session,
            principal,
            action="create",
            resource_type="district",
            resource_id=district.id,
            district_id=district.id,
            fields=["name", "slug", "nces_lea_id"],
        )
    return district


def get(*, session: Session, district_id: int) -> District:
    district = session.get(District, district_id)
    if district is None:
        raise NotFound(f"District {district_id} does not exist.")
    return district


def find(*, session: Session, ref: str) -> District:
    """A district by id, slug or exact name (the CLI's way of naming one)."""
    query = select(District).where(
        (District.slug == ref) | (District.name == ref) | (District.nces_lea_id == ref)
    )
    if ref.isdigit():
        query = select(District).where(District.id == int(ref))
    district = session.scalar(query)
    if district is None:
        raise NotFound(f"No district is named '{ref}'.")
    return district


def list_page(*, session: Session, after_id: int | None, limit: int) -> list[District]:
    query = select(District)
    if after_id is not None:
        query = query.where(District.id > after_id)
    return list(session.scalars(query.order_by(District.id).limit(limit)))


def ids_for_names(session: Session, names: Iterable[str | None]) -> dict[str, int]:
    """The district id of each name, adding the districts not seen before (school directories
    and the `district` field of the API name districts by their name)."""
    wanted = sorted({n for n in names if n})
    if not wanted:
        return {}
    found = dict(
        session.execute(select(District.name, District.id).where(District.name.in_(wanted))).all()
    )
    missing = [n for n in wanted if n not in found]
    if missing:
        taken = _slugs(session)
        for name in missing:
            slug = slug_for(name, taken)
            taken.add(slug)
            district = District(name=name, slug=slug)
            session.add(district)
            session.flush()
            found[name] = district.id
    return found


def assign(session: Session, school: School, district_id: int | None) -> None:
    """Put a school in a district, keeping its `district` name in step with the row."""
    if district_id is None:
        school.district_id, school.district = None, None
        return
    district = session.get(District, district_id)
    if district is None:
        raise InvalidInput(["body", "district_id"], f"District {district_id} does not exist.")
    school.district_id, school.district = district.id, district.name


def _slugs(session: Session) -> set[str]:
    return set(session.scalars(select(District.slug)))
