"""The batched writes every import format shares: checked records (app.imports.records) upserted
through the import repository, with the cross-record rules (an offering's organization exists,
an NCES id is not taken, a district imports its own schools), and the one commit at the end.

An import reads and checks its whole file first, keeping the checked batches in a temporary file
(`StagedBatches`), and only then writes them, in one short transaction. SQLite has one writer
at a time and holds the write lock from a transaction's first write to its commit, so writing
while the file is still being read would lock API writers out for the whole import (longer
than their busy timeout on big files); staged, they wait only for the writes themselves."""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from app.imports.records import Record
from app.imports.report import Counts, ImportReport
from app.models import Offering, School
from app.repositories import imports as repo
from app.repositories.catalog_changes import record_change
from app.services.districts import ids_for_names
from app.services.schools import need_indexes


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
) -> Counts:
    """Upsert schools with their need index and district (by name; new names add districts);
    an NCES id held by another record is an error. With `district` (a district's own upload)
    every school must be in it: rows naming another, or updating another's school, are
    errors, and rows naming none are put in it."""
    if district is not None:
        records = _own_district(session, source, records, district, report)
    taken = repo.nces_ids_taken(
        session, source, [(r.values.get("nces_id"), r.external_id) for r in records]
    )
    kept, skipped = [], 0
    for r in records:
        holder = taken.get(r.values.get("nces_id") or "")
        if holder:
            report.error(
                f"NCES id {r.values['nces_id']} already belongs to school '{holder[1]}' of "
                f"source '{holder[0]}'",
                row=r.line,
                field="nces_id",
            )
            skipped += 1
        else:
            kept.append(r)
    index = need_indexes([r.values for r in kept])
    district_ids = ids_for_names(session, [r.values.get("district") for r in kept])
    rows = [
        {
            **r.values,
            "external_id": r.external_id,
            "need_index": value,
            "district_id": district_ids.get(r.values.get("district") or ""),
        }
        for r, value in zip(kept, index, strict=True)
    ]
    counts = repo.upsert_rows(session, School, source, rows, update_keys)
    counts.skipped += skipped
    return counts


def _own_district(
    session: Session, source: str, records: list[Record], district: str, report: ImportReport
) -> list[Record]:
    owners = repo.school_districts(session, source, [r.external_id for r in records])
    kept = []
    for r in records:
        named = r.values.get("district")
        if (named and named != district) or (
            r.external_id in owners and owners[r.external_id] != district
        ):
            report.error(
                f"schools can be imported into your own district ({district}) only",
                row=r.line,
                field="district",
            )
            report.count("schools").skipped += 1
            continue
        r.values["district"] = district
        kept.append(r)
    return kept
