"""Finding the records a partnership register names, and the register's upsert keys."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from app.models import Offering, Organization, Partnership, School, partnership_offerings


def by_source_refs(session: Session, source: str, refs: list[str]) -> dict[str, Partnership]:
    """The partnerships imported from `source` under these references."""
    return {
        p.source_ref: p
        for p in session.scalars(
            select(Partnership).where(
                Partnership.source == source, Partnership.source_ref.in_(refs)
            )
        )
        if p.source_ref is not None
    }


def relink_offerings(session: Session, links: dict[int, tuple[int, ...]]) -> None:
    """Replace each partnership's offerings with the ones given."""
    if not links:
        return
    session.execute(
        delete(partnership_offerings).where(partnership_offerings.c.partnership_id.in_(list(links)))
    )
    pairs: Iterable[dict[str, int]] = [
        {"partnership_id": pid, "offering_id": oid} for pid, ids in links.items() for oid in ids
    ]
    pairs = list(pairs)
    if pairs:
        session.execute(insert(partnership_offerings), pairs)


def school_refs(session: Session, refs: list[str], district: str | None) -> dict[str, int | str]:
    """Each reference as a school id, or why it names none (or several)."""
    query = select(School.id, School.nces_id, School.name)
    if district is not None:
        query = query.where(School.district == district)
    ids = {int(r) for r in refs if r.isdigit() and len(r) < 12}
    nces = {r for r in refs if r.isdigit() and len(r) == 12}
    names = {r.casefold() for r in refs if not r.isdigit()}
    found: dict[str, int | str] = {}
    if ids:
        for row in session.execute(query.where(School.id.in_(ids))):
            found[str(row.id)] = row.id
    if nces:
        for row in session.execute(query.where(School.nces_id.in_(nces))):
            found[row.nces_id] = row.id
    if names:
        rows = session.execute(query.where(func.lower(School.name).in_(names)))
        found |= _named(refs, ((row.id, row.name) for row in rows), "schools", "its id or NCES id")
    return found


def organization_refs(session: Session, refs: list[str]) -> dict[str, int | str]:
    ids = {int(r) for r in refs if r.isdigit()}
    names = {r.casefold() for r in refs if not r.isdigit()}
    found: dict[str, int | str] = {}
    if ids:
        for (id_,) in session.execute(select(Organization.id).where(Organization.id.in_(ids))):
            found[str(id_)] = id_
    if names:
        rows = session.execute(
            select(Organization.id, Organization.name).where(
                func.lower(Organization.name).in_(names)
            )
        )
        found |= _named(refs, rows.all(), "organizations", "its id")
    return found


def _named(
    refs: list[str], rows: Iterable[tuple[int, str]], plural: str, instead: str
) -> dict[str, int | str]:
    """The references that name one record (case-insensitively) as its id; a name several
    records share as the reason it resolves to none."""
    by_name: dict[str, list[int]] = {}
    for id_, name in rows:
        by_name.setdefault(name.casefold(), []).append(id_)
    found: dict[str, int | str] = {}
    for ref in refs:
        hits = by_name.get(ref.casefold(), [])
        if len(hits) == 1:
            found[ref] = hits[0]
        elif hits:
            found[ref] = f"{len(hits)} {plural} are named '{ref}'; give {instead}"
    return found


def offerings_by_title(
    session: Session, organization_ids: set[int]
) -> dict[tuple[int, str], list[int]]:
    """Offering ids by (organization, title without case)."""
    out: dict[tuple[int, str], list[int]] = {}
    wanted = sorted(organization_ids)
    for start in range(0, len(wanted), 1000):
        rows = session.execute(
            select(Offering.id, Offering.organization_id, Offering.title).where(
                Offering.organization_id.in_(wanted[start : start + 1000])
            )
        )
        for id_, org, title in rows:
            out.setdefault((org, title.casefold()), []).append(id_)
    return out
