"""Writing a partnership register (the `partnerships` CSV kind and the Oakland demo): resolve
each row's school, organization and service, then upsert on (source, source_ref)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.imports.partnerships import PartnershipRecord, Problems
from app.imports.report import Counts, ImportReport
from app.models import Partnership
from app.repositories import partnership_history as repo
from app.repositories.catalog_changes import record_change

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
    schools = repo.school_refs(session, [r.school for r in records], district)
    orgs = repo.organization_refs(session, [r.organization for r in records])
    services = repo.offerings_by_title(
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
    existing = repo.by_source_refs(session, source, [r.source_ref for r in rows])
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
    repo.relink_offerings(session, relink)
    counts.added = len(new)
    if counts.added or counts.updated:
        record_change(session)  # the history moved: ranking indexes reload it once
    return counts


def _missing(what: str, ref: str, district: str | None) -> str:
    where = f" in {district}" if district else ""
    return f"no {what} '{ref}'{where}"
