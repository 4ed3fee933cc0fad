"""The `partnerships` CSV kind: a district's register of past and running school-organization
partnerships (template app/data/imports/templates/partnerships.csv), and the one write path for
imported partnerships, which the Oakland demo uses too.

A row names its school (PartnerMap id, 12-digit NCES id or exact name), its organization (id or
exact name) and optionally the organization's offering (`service`, its exact title). Rows are
upserted on (source, source_ref): `external_id` when given, else school|organization|service|
term_start, so a re-import changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from app.imports.report import Counts, ImportReport
from app.imports.rows import Column, validate
from app.models import Offering, Organization, Partnership, School, partnership_offerings
from app.schemas.imports import PartnershipHistoryRow
from app.taxonomy import load_taxonomy

Problems = list[tuple[str, str]]

PARTNERSHIP_COLUMNS = (
    Column(
        "external_id",
        help="your id for the row; re-imports update by it (default: school, organization, "
        "service and term_start together)",
    ),
    Column(
        "school", required=True, help="PartnerMap id, 12-digit NCES id or exact name (digits: ids)"
    ),
    Column("organization", required=True, help="PartnerMap id or exact name (digits: an id)"),
    Column("service", help="exact title of one of the organization's offerings"),
    Column("category", "list", required=True, help="taxonomy code(s) addressed, ';'"),
    Column("term_start", "date", required=True, help="YYYY-MM-DD"),
    Column("term_end", "date", required=True, help="YYYY-MM-DD"),
    Column("outcome", required=True, help="completed, ended or active"),
    Column("reason", help="why it ended (for outcome ended)"),
    Column("students_served", "int"),
)
# Compared on re-import; a row whose values all match is left alone (updated_at kept).
COMPARED = (
    "school_id",
    "organization_id",
    "status",
    "term_start",
    "term_end",
    "need_categories",
    "students_served",
    "status_reason",
)


@dataclass
class PartnershipRecord:
    """A checked row, its school, organization and service still named as in the file."""

    line: int
    external_id: str
    school: str
    organization: str
    service: str | None
    values: dict[str, Any]


@dataclass
class ResolvedPartnership:
    """A partnership ready to write: what the CSV import and the demo both hand over."""

    source_ref: str
    school_id: int
    organization_id: int
    offering_ids: tuple[int, ...]
    status: str
    term_start: dt.date
    term_end: dt.date
    need_categories: list[str]
    students_served: int | None = None
    status_reason: str | None = None


def partnership_record(line: int, v: dict[str, Any]) -> tuple[PartnershipRecord | None, Problems]:
    """Check a row with its schema and the rules an API write would apply."""
    model, problems = validate(PartnershipHistoryRow, {k: x for k, x in v.items() if x is not None})
    if model is None:
        return None, problems
    assert isinstance(model, PartnershipHistoryRow)
    known = load_taxonomy().by_code
    problems = [
        ("category", f"unknown category code '{code}'; see GET /v1/taxonomy")
        for code in model.category
        if code not in known
    ]
    if model.term_end < model.term_start:
        problems.append(("term_end", "term_end is before term_start"))
    if model.outcome == "ended" and not model.reason:
        problems.append(("reason", "an ended partnership needs the reason it ended"))
    if problems:
        return None, problems
    return PartnershipRecord(
        line=line,
        external_id=model.external_id or natural_key(model),
        school=model.school,
        organization=model.organization,
        service=model.service,
        values={
            "status": model.outcome,
            "term_start": model.term_start,
            "term_end": model.term_end,
            "need_categories": list(dict.fromkeys(model.category)),
            "students_served": model.students_served,
            "status_reason": model.reason,
        },
    ), []


def natural_key(row: PartnershipHistoryRow) -> str:
    """school|organization|service|term_start without case, hashed when over the column's
    200 characters, for rows without an external_id."""
    parts = (row.school, row.organization, row.service or "", row.term_start.isoformat())
    key = "|".join(parts).casefold()
    return key if len(key) <= 200 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def write_partnerships(
    session: Session,
    source: str,
    records: list[PartnershipRecord],
    report: ImportReport,
    district: str | None = None,
) -> Counts:
    """Resolve each row's school, organization and service, then upsert; a name that finds
    nothing (or more than one) is an error on its row. A district's upload reaches its own
    schools only."""
    schools = _schools(session, [r.school for r in records], district)
    orgs = _organizations(session, [r.organization for r in records])
    services = _offerings(
        session,
        {orgs[r.organization] for r in records if isinstance(orgs.get(r.organization), int)},
    )
    rows: list[ResolvedPartnership] = []
    skipped = 0
    for r in records:
        school, org = schools.get(r.school), orgs.get(r.organization)
        problems: Problems = []
        if not isinstance(school, int):
            problems.append(("school", school or _missing("school", r.school, district)))
        if not isinstance(org, int):
            problems.append(("organization", org or f"no organization '{r.organization}'"))
        offering_ids: tuple[int, ...] = ()
        if isinstance(org, int) and r.service:
            found = services.get((org, r.service.casefold()), [])
            if len(found) != 1:
                problems.append(
                    (
                        "service",
                        f"the organization has {'no' if not found else len(found)} offering(s) "
                        f"titled '{r.service}'",
                    )
                )
            offering_ids = tuple(found)
        for field, problem in problems:
            report.error(problem, row=r.line, field=field)
        if problems:
            skipped += 1
            continue
        assert isinstance(school, int) and isinstance(org, int)
        rows.append(
            ResolvedPartnership(
                source_ref=r.external_id,
                school_id=school,
                organization_id=org,
                offering_ids=offering_ids,
                **r.values,
            )
        )
    counts = upsert_partnerships(session, source, rows)
    counts.skipped += skipped
    return counts


def upsert_partnerships(
    session: Session, source: str, rows: Iterable[ResolvedPartnership]
) -> Counts:
    """Insert new partnerships, update changed ones (and their offerings), keyed on
    (source, source_ref); imported partnerships are `proposed_by` import."""
    rows = list(rows)
    counts = Counts()
    if not rows:
        return counts
    existing = {
        p.source_ref: p
        for p in session.scalars(
            select(Partnership).where(
                Partnership.source == source,
                Partnership.source_ref.in_([r.source_ref for r in rows]),
            )
        )
    }
    new: list[tuple[Partnership, ResolvedPartnership]] = []
    relink: dict[int, tuple[int, ...]] = {}
    for row in rows:
        values = {k: getattr(row, k) for k in COMPARED}
        current = existing.get(row.source_ref)
        if current is None:
            partnership = Partnership(
                source=source, source_ref=row.source_ref, proposed_by="import", **values
            )
            session.add(partnership)
            new.append((partnership, row))
            continue
        changed = {k: v for k, v in values.items() if getattr(current, k) != v}
        offerings_changed = {o.id for o in current.offerings} != set(row.offering_ids)
        if offerings_changed:
            relink[current.id] = row.offering_ids
        if changed or offerings_changed:
            for key, value in changed.items():
                setattr(current, key, value)
            current.updated_at = dt.datetime.now(dt.UTC)
            counts.updated += 1
        else:
            counts.unchanged += 1
    session.flush()
    for partnership, row in new:
        relink[partnership.id] = row.offering_ids
    if relink:
        session.execute(
            delete(partnership_offerings).where(
                partnership_offerings.c.partnership_id.in_(list(relink))
            )
        )
        pairs = [
            {"partnership_id": pid, "offering_id": oid}
            for pid, ids in relink.items()
            for oid in ids
        ]
        if pairs:
            session.execute(insert(partnership_offerings), pairs)
    counts.added = len(new)
    return counts


def _missing(what: str, ref: str, district: str | None) -> str:
    where = f" in {district}" if district else ""
    return f"no {what} '{ref}'{where}"


def _schools(session: Session, refs: list[str], district: str | None) -> dict[str, int | str]:
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
        by_name: dict[str, list[int]] = {}
        for row in session.execute(query.where(func.lower(School.name).in_(names))):
            by_name.setdefault(row.name.casefold(), []).append(row.id)
        for ref in refs:
            hits = by_name.get(ref.casefold(), [])
            if len(hits) == 1:
                found[ref] = hits[0]
            elif hits:
                found[ref] = f"{len(hits)} schools are named '{ref}'; give its id or NCES id"
    return found


def _organizations(session: Session, refs: list[str]) -> dict[str, int | str]:
    ids = {int(r) for r in refs if r.isdigit()}
    names = {r.casefold() for r in refs if not r.isdigit()}
    found: dict[str, int | str] = {}
    if ids:
        for (id_,) in session.execute(select(Organization.id).where(Organization.id.in_(ids))):
            found[str(id_)] = id_
    if names:
        by_name: dict[str, list[int]] = {}
        rows = session.execute(
            select(Organization.id, Organization.name).where(
                func.lower(Organization.name).in_(names)
            )
        )
        for id_, name in rows:
            by_name.setdefault(name.casefold(), []).append(id_)
        for ref in refs:
            hits = by_name.get(ref.casefold(), [])
            if len(hits) == 1:
                found[ref] = hits[0]
            elif hits:
                found[ref] = f"{len(hits)} organizations are named '{ref}'; give its id"
    return found


def _offerings(session: Session, organization_ids: set[int]) -> dict[tuple[int, str], list[int]]:
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
