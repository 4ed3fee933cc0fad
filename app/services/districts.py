"""Use cases for districts, the tenants that own schools, needs assessments and API keys."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.db import unit_of_work
from app.domain_errors import Conflict, InvalidInput, NotFound
from app.models import District, School
from app.repositories import districts as repo
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
    ranking_equity: float | None = None,
) -> District:
    """A new district; `ranking_equity` is its schools' equity default for rankings."""
    if repo.id_named(session, name) is not None:
        raise Conflict(f"A district named '{name}' already exists.")
    if slug and repo.id_with_slug(session, slug) is not None:
        raise Conflict(f"The slug '{slug}' is taken.")
    if ranking_equity is not None and not 0 <= ranking_equity <= 1:
        raise InvalidInput(["ranking_equity"], "A district's equity default is between 0 and 1.")
    district = District(
        name=name,
        slug=slug or slug_for(name, repo.slugs(session)),
        nces_lea_id=nces_lea_id,
        ranking_equity=ranking_equity,
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
            fields=["name", "slug", "nces_lea_id"]
            + (["ranking_equity"] if ranking_equity is not None else []),
        )
    return district


def get(*, session: Session, district_id: int) -> District:
    district = repo.get(session, district_id)
    if district is None:
        raise NotFound(f"District {district_id} does not exist.")
    return district


def find(*, session: Session, ref: str) -> District:
    """A district by id, slug or exact name (the CLI's way of naming one)."""
    district = repo.by_ref(session, ref)
    if district is None:
        raise NotFound(f"No district is named '{ref}'.")
    return district


def list_page(*, session: Session, after_id: int | None, limit: int) -> list[District]:
    return repo.page(session, after_id, limit)


def ids_for_names(session: Session, names: Iterable[str | None]) -> dict[str, int]:
    """The district id of each name, adding the districts not seen before (school directories
    and the `district` field of the API name districts by their name)."""
    wanted = sorted({n for n in names if n})
    if not wanted:
        return {}
    found = repo.ids_by_name(session, wanted)
    missing = [n for n in wanted if n not in found]
    if missing:
        taken = repo.slugs(session)
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
    district = repo.get(session, district_id)
    if district is None:
        raise InvalidInput(["body", "district_id"], f"District {district_id} does not exist.")
    school.district_id, school.district = district.id, district.name
