"""Use cases for districts, the tenants that own schools, needs assessments and API keys."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

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
    """The district id of each name (through aliases, see `resolve`), adding the districts not
    seen before (the `district` field of the API names a district by its name)."""
    refs = resolve(session, [(n, None) for n in names if n])
    return {name: id_ for (name, _), (id_, _) in refs.ids.items() if name}


def folded(name: str) -> str:
    """A district name compared without case, punctuation or repeated spaces."""
    return " ".join(re.sub(r"[^\w]+", " ", name.casefold()).split())


@dataclass
class DistrictRefs:
    """Districts named by school records, resolved to one district each (see `resolve`)."""

    ids: dict[tuple[str | None, str | None], tuple[int, str]] = field(default_factory=dict)
    problems: dict[tuple[str | None, str | None], str] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    aliased: list[tuple[str, str]] = field(default_factory=list)  # (alias, district)


def resolve(
    session: Session,
    refs: Iterable[tuple[str | None, str | None]],
    aliases: Mapping[str, str] | None = None,
) -> DistrictRefs:
    """The one district each (name, NCES LEA id) means, so the same district from two
    directories is one district: first by LEA id; else by name, through the mapping's
    `aliases` (a file's name -> the district's name), the stored aliases, and names compared
    without case or punctuation; else a new district. A name that reaches a district through
    its LEA id is stored as an alias, so a later file naming it only so finds it too; a LEA id
    found beside the name of a district without one is stored on it."""
    out = DistrictRefs()
    wanted = sorted({r for r in refs if r[0] or r[1]}, key=lambda r: (r[0] or "", r[1] or ""))
    if not wanted:
        return out
    by_lea: dict[str, tuple[int, str]] = {}
    by_name: dict[str, tuple[int, str]] = {}
    lea_of: dict[int, str | None] = {}
    names: dict[int, str] = {}
    for id_, name, lea in repo.identities(session):
        names[id_], lea_of[id_] = name, lea
        by_name.setdefault(folded(name), (id_, name))
        if lea:
            by_lea[lea] = (id_, name)
    for alias, id_ in repo.aliases(session):
        by_name.setdefault(folded(alias), (id_, names[id_]))
    mapped = {folded(k): v for k, v in (aliases or {}).items()}
    taken = repo.slugs(session)
    for name, lea in wanted:
        found = by_lea.get(lea) if lea else None
        if found is None and name:
            target = mapped.get(folded(name), name)
            found = by_name.get(folded(target)) or by_lea.get(target)
            if found is not None and lea:
                held = lea_of.get(found[0])
                if held and held != lea:
                    out.problems[(name, lea)] = (
                        f"district '{found[1]}' has NCES LEA id {held}, not {lea}"
                    )
                    continue
                repo.set_lea_id(session, found[0], lea)
                lea_of[found[0]] = lea
                by_lea[lea] = found
        if found is None:
            new_name = (mapped.get(folded(name), name) if name else None) or f"LEA {lea}"
            district = District(name=new_name, slug=slug_for(new_name, taken), nces_lea_id=lea)
            taken.add(district.slug)
            session.add(district)
            session.flush()
            found = (district.id, new_name)
            names[district.id], lea_of[district.id] = new_name, lea
            by_name[folded(new_name)] = found
            if lea:
                by_lea[lea] = found
            out.added.append(new_name)
        if name and folded(name) not in by_name:
            repo.add_alias(session, found[0], name)
            by_name[folded(name)] = found
            out.aliased.append((name, found[1]))
        out.ids[(name, lea)] = found
    return out


def assign(session: Session, school: School, district_id: int | None) -> None:
    """Put a school in a district, keeping its `district` name in step with the row."""
    if district_id is None:
        school.district_id, school.district = None, None
        return
    district = repo.get(session, district_id)
    if district is None:
        raise InvalidInput(["body", "district_id"], f"District {district_id} does not exist.")
    school.district_id, school.district = district.id, district.name
