"""The batched writes every import format shares: checked records (app.imports.records) upserted
through the import repository, with the cross-record rules (an offering's organization exists,
an NCES id is not taken, a district imports its own schools), and the one commit at the end.

An import reads and checks its whole file first, keeping the checked batches in a temporary file
(`StagedBatches`), and only then writes them, in one short transaction. SQLite has one writer
at a time and holds the write lock from a transaction's first write to its commit, so writing
while the file is still being read would lock API writers out for the whole import (longer
than their busy timeout on big files); staged, they wait only for the writes themselves."""

from __future__ import annotations

import datetime as dt
import pickle
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from app.imports.records import Record
from app.imports.report import Counts, ImportReport
from app.models import Offering
from app.repositories import imports as repo
from app.repositories import school_links as links
from app.repositories.catalog_changes import record_change
from app.services import school_links
from app.services.districts import resolve as resolve_districts
from app.services.school_links import LinkRules
from app.services.schools import INDICATORS, need_indexes


class StagedBatches:
    """Checked batches of records kept on disk (memory stays flat as files grow) until the
    file has been read whole; then written in order, in the import's one transaction."""

    def __init__(self) -> None:
        # Removed when closed (the import's `finally`), or when the process ends.
        self._file = tempfile.TemporaryFile()  # noqa: SIM115
        self._count = 0

    def add(self, batch: list[Any]) -> None:
        if batch:
            pickle.dump(batch, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._count += 1

    def __iter__(self) -> Iterator[list[Any]]:
        self._file.seek(0)
        for _ in range(self._count):
            yield pickle.load(self._file)

    def write(self, session: Session, write: Callable[[Session, list[Any]], Counts]) -> Counts:
        """Write every batch with `write`; the counts summed."""
        total = Counts()
        for batch in self:
            total.add(write(session, batch))
        return total

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> StagedBatches:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def finish(session: Session, report: ImportReport, *, catalog: bool) -> ImportReport:
    """Commit once when the import stands; roll back on errors and dry runs."""
    report.finish()
    if report.status != "imported":
        session.rollback()
        return report
    try:
        if catalog and any(c.added or c.updated for c in report.counts.values()):
            record_change(session)  # no ids: ranking indexes rebuild once for the batch
        session.commit()
    except DBAPIError as exc:
        session.rollback()
        report.fail(refusal(exc))
    return report


# Missing table or column: SQLite says so in words, PostgreSQL by SQLSTATE (42P01, 42703).
MISSING_SCHEMA = ("no such table", "no such column", "has no column named")
MISSING_SQLSTATE = ("42P01", "42703")


def refusal(exc: DBAPIError) -> str:
    """Why the database refused an import, said so a person can act: a schema that was never
    created or is out of date means `partnermap migrate` was not run."""
    message = str(exc.orig)
    if getattr(exc.orig, "sqlstate", None) in MISSING_SQLSTATE or any(
        words in message for words in MISSING_SCHEMA
    ):
        return (
            "the database has no PartnerMap tables, or older ones: run `partnermap migrate` "
            f"first ({message.splitlines()[0]}); nothing was written"
        )
    hint = (
        " — another import of the same records may be running"
        if isinstance(exc, IntegrityError)
        else ""
    )
    return (
        f"the database refused the import ({type(exc.orig).__name__}: "
        f"{message.splitlines()[0] if message else 'no detail'}); nothing was written{hint}"
    )


def write_organizations(
    session: Session, source: str, records: list[Record], update_keys: Sequence[str]
) -> Counts:
    """Upsert organizations with their locations; a record's defaults are written on insert only."""
    return repo.upsert_organizations(
        session,
        source,
        [
            repo.OrganizationRecord(r.external_id, r.values, r.locations, r.defaults)
            for r in records
        ],
        update_keys,
    )


def write_offerings(
    session: Session,
    source: str,
    records: list[Record],
    update_keys: Sequence[str],
    report: ImportReport,
    organization_source: str | None = None,
) -> Counts:
    """Resolve each offering's organization, then upsert; unknown organizations are errors."""
    by_ext = repo.organization_ids(
        session,
        organization_source or source,
        [r.organization_ref for r in records if isinstance(r.organization_ref, str)],
    )
    by_id = repo.existing_organization_ids(
        session, [r.organization_ref for r in records if isinstance(r.organization_ref, int)]
    )
    rows, skipped = [], 0
    for r in records:
        ref = r.organization_ref
        org_id = by_ext.get(ref) if isinstance(ref, str) else (ref if ref in by_id else None)
        if org_id is None:
            field = "organization_external_id" if isinstance(ref, str) else "organization_id"
            report.error(
                f"no organization '{ref}' in source '{organization_source or source}'"
                if isinstance(ref, str)
                else f"no organization with id {ref}",
                row=r.line,
                field=field,
            )
            skipped += 1
            continue
        rows.append({**r.values, "external_id": r.external_id, "organization_id": org_id})
    counts = repo.upsert_rows(session, Offering, source, rows, update_keys)
    counts.skipped += skipped
    return counts


def write_schools(
    session: Session,
    source: str,
    records: list[Record],
    update_keys: Sequence[str],
    report: ImportReport,
    district: str | None = None,
    rules: LinkRules | None = None,
    district_aliases: Mapping[str, str] | None = None,
) -> Counts:
    """Upsert schools with their need index and district. The district is found by NCES LEA id,
    name or alias (services.districts.resolve; new ones are added); the school by its key, a
    link, its NCES or state id, or an opt-in fuzzy match (services.school_links.resolve); the
    fields written follow the precedence rule (school_links.merge). With `district` (a
    district's own upload) every school must be in it: rows naming another, or updating
    another's school, are errors, and rows naming none are put in it."""
    rules = rules or LinkRules()
    counts = Counts()
    records = _districts(session, records, report, district, district_aliases)
    records, found = school_links.resolve(session, source, records, rules, report)
    keys = [k for k in update_keys if k != "need_index"]  # derived: computed below
    stored = links.current(
        session, [t for t in found.targets.values() if t], [*keys, *INDICATORS, "district"]
    )
    new_rows, new_lines, changed, kept_links = [], [], [], []
    new_links = {x["school_id"]: x for x in found.links}
    indicator_keys = [k for k in INDICATORS if k in keys]
    for i, r in enumerate(records):
        target = found.targets[i]
        values = {**r.values, "external_id": r.external_id}
        if target is None:
            if district is not None and values.get("district") != district:
                _not_own(report, r, district)
                continue
            new_rows.append(values)
            new_lines.append(r.line)
            continue
        current = stored[target]
        if district is not None and current["district"] != district:
            _not_own(report, r, district)
            continue
        diff, sources, kept = school_links.merge(current, values, keys, source, rules.precedence)
        if kept:
            report.notes["fields kept (precedence)"] = (
                report.notes.get("fields kept (precedence)", 0) + 1
            )
        if any(k in diff for k in indicator_keys):
            merged = {k: diff.get(k, current.get(k)) for k in INDICATORS}
            index = need_indexes([merged])[0]
            if index != current.get("need_index"):
                diff["need_index"] = index
        if target in new_links:
            kept_links.append(new_links[target])
        if diff.get("nces_id") and _nces_taken(session, diff["nces_id"], target, report, r.line):
            counts.skipped += 1
            continue
        if diff:
            changed.append({"id": target, **diff, "field_sources": sources, "updated_at": _now()})
        else:
            counts.unchanged += 1
    if new_rows:
        index = need_indexes(new_rows)
        written = school_links.written_by(keys, source, rules.precedence)
        for row, value in zip(new_rows, index, strict=True):
            row.update(source=source, need_index=value, field_sources=written)
        # held by another school only when linking by NCES id is off (else it was linked)
        taken = repo.nces_ids_taken(
            session, source, [(r.get("nces_id"), r["external_id"]) for r in new_rows]
        )
        insertable = []
        for row, line in zip(new_rows, new_lines, strict=True):
            holder = taken.get(row.get("nces_id") or "")
            if holder:
                report.error(
                    f"NCES id {row['nces_id']} already belongs to school '{holder[1]}' of "
                    f"source '{holder[0]}'",
                    row=line,
                    field="nces_id",
                    value=row["nces_id"],
                )
                counts.skipped += 1
            else:
                insertable.append(row)
        links.insert_schools(session, insertable)
        counts.added += len(insertable)
    links.update_schools(session, changed)
    links.add_links(session, kept_links)
    counts.updated += len(changed)
    for how, n in found.linked_by.items():
        note = f"linked to existing schools by {how.replace('_', ' ')}"
        report.notes[note] = report.notes.get(note, 0) + n
    return counts


def _nces_taken(
    session: Session, nces_id: str, school_id: int, report: ImportReport, line: int
) -> bool:
    """An update giving a school an NCES id another school holds is an error."""
    holder = links.ids_by_nces(session, [nces_id]).get(nces_id)
    if holder is None or holder == school_id:
        return False
    report.error(
        f"NCES id {nces_id} already belongs to school {holder}",
        row=line,
        field="nces_id",
        value=nces_id,
    )
    return True


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _not_own(report: ImportReport, r: Record, district: str) -> None:
    report.error(
        f"schools can be imported into your own district ({district}) only",
        row=r.line,
        field="district",
    )
    report.count("schools").skipped += 1


def _districts(
    session: Session,
    records: list[Record],
    report: ImportReport,
    district: str | None,
    aliases: Mapping[str, str] | None,
) -> list[Record]:
    """Each record's district resolved to one district row (by LEA id, name or alias); a
    district's own upload puts rows naming none in it."""
    refs = resolve_districts(
        session,
        [(r.values.get("district"), r.values.get("district_nces_id")) for r in records],
        aliases,
    )
    for name in refs.added:
        report.notes.setdefault("districts added", []).append(name)
    for alias, name in refs.aliased:
        report.notes.setdefault("district names kept as aliases", []).append(f"{alias} = {name}")
    kept = []
    own: tuple[int, str] | None = None
    for r in records:
        ref = (r.values.get("district"), r.values.pop("district_nces_id", None))
        if ref in refs.problems:
            report.error(refs.problems[ref], row=r.line, field="district_nces_id", value=ref[1])
            report.count("schools").skipped += 1
            continue
        if ref[0] or ref[1]:
            r.values["district_id"], r.values["district"] = refs.ids[ref]
        elif district is not None:
            own = own or resolve_districts(session, [(district, None)]).ids[(district, None)]
            r.values["district_id"], r.values["district"] = own
        else:
            r.values["district_id"] = None
        kept.append(r)
    return kept
