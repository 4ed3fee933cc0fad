"""Bulk CSV import of organizations, offerings, schools or partnerships in PartnerMap's templates
(app/data/imports/templates/*.csv).

Streamed and batched: the file is read record by record and checked batches of BATCH_SIZE records
are staged in a temporary file, so memory stays flat as files grow; once the whole file is read
they are written in one transaction (app.services.import_writes.write_staged: on SQLite,
offerings and schools are planned whole first and written in one short locked transaction, so
API writers are not locked out while a big file is read, checked and compared). Any error (a bad
cell, an unknown organization, a broken file) and nothing is written, unless `skip_invalid`, when
the invalid records are skipped and reported. `dry_run` checks everything, the writes included, and
rolls back. Records are upserted on (source, external_id), so a re-import changes nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from tqdm import tqdm

from app.imports import partnerships as partnership_rows
from app.imports import records as rec
from app.imports.csvfile import CsvRows, FileProblem
from app.imports.geocode import Geocoder, default_geocoder
from app.imports.report import ImportReport
from app.imports.rows import CellError, convert
from app.services import import_writes as writes
from app.services import partnership_history

BATCH_SIZE = 2000
KINDS = ("organizations", "offerings", "schools", "partnerships")
TEMPLATES = Path(__file__).parent.parent / "data" / "imports" / "templates"
COLUMNS = {**rec.COLUMNS, "partnerships": partnership_rows.PARTNERSHIP_COLUMNS}


def template_path(kind: str) -> Path:
    return TEMPLATES / f"{kind}.csv"


def import_file(
    *, session: Session, path: Path, kind: str, source: str, **options: Any
) -> ImportReport:
    """Import a CSV file; see import_stream."""
    if not path.is_file():
        report = ImportReport(kind=kind, source=source)
        report.fail(f"{path} is not a file")
        return report
    size = path.stat().st_size
    with open(path, "rb") as raw:
        return import_stream(
            session=session, raw=raw, kind=kind, source=source, size=size, **options
        )


@writes.fewer_collections()
def import_stream(
    *,
    session: Session,
    raw: IO[bytes],
    kind: str,
    source: str,
    dry_run: bool = False,
    skip_invalid: bool = False,
    encoding: str = "utf-8",
    progress: bool = False,
    size: int | None = None,
    geocoder: Geocoder | None = None,
    organization_source: str | None = None,
    district: str | None = None,
) -> ImportReport:
    """Check and upsert every record of a template CSV in one transaction; the report says
    what was (or would be) added, updated, left unchanged or skipped, and every problem."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    report = ImportReport(kind=kind, source=source, dry_run=dry_run, skip_invalid=skip_invalid)
    columns = {c.name: c for c in COLUMNS[kind]}
    geocoder = geocoder or default_geocoder()
    bar = tqdm(
        total=size,
        unit="B",
        unit_scale=True,
        desc=f"import {kind}",
        file=sys.stderr,
        disable=not progress,
        mininterval=0.5,
    )
    staged = writes.StagedBatches()
    try:
        rows = CsvRows(
            raw,
            encoding=encoding,
            required=[c.name for c in columns.values() if c.required],
            allowed=list(columns),
            progress=bar,
        )
        present = rows.columns
        if kind == "offerings" and not (
            "organization_external_id" in present or "organization_id" in present
        ):
            raise FileProblem(
                "missing column: organization_external_id (or organization_id)", line=1
            )
        writer = _writer(kind, present, report, organization_source, district)
        seen: set[int] = set()
        batch: list[Any] = []
        for line, cells, problem in rows:
            report.rows += 1
            if cells is None:
                report.error(problem or "unreadable record", row=line)
                report.count(kind).skipped += 1
                continue
            record = _record(kind, line, cells, columns, present, source, geocoder, report)
            if record is None:
                report.count(kind).skipped += 1
                continue
            key = hash(record.external_id)
            if key in seen:
                report.error(
                    f"external_id '{record.external_id}' appears more than once in the file",
                    row=line,
                    field="external_id",
                    value=record.external_id,
                )
                report.count(kind).skipped += 1
                continue
            seen.add(key)
            batch.append(record)
            if len(batch) >= BATCH_SIZE:
                staged.add(batch)
                batch = []
            if report.rows % 5000 == 0:
                bar.set_postfix(records=f"{report.rows:,}", refresh=False)
        staged.add(batch)
        bar.set_postfix(records=f"{report.rows:,}", stage="writing", refresh=True)
        # Batches are worked out even once the import is bound to fail, so every problem (an
        # unknown organization, a taken NCES id) is found; nothing is kept. Organizations and
        # partnerships are written as they are worked out (not planned ahead).
        ahead = None if kind in ("offerings", "schools") else False
        written = writes.write_staged(
            session, staged, lambda s, b: writer(s, report.source, b), report, ahead=ahead
        )
        report.count(kind).add(written)  # after: a report set back is another object
    except FileProblem as exc:
        report.fail(f"the file cannot be imported: {exc}")
    except DBAPIError as exc:
        report.fail(writes.refusal(exc))
    finally:
        staged.close()
        bar.close()
    return writes.finish(session, report, catalog=kind in ("organizations", "offerings"))


def _record(
    kind: str,
    line: int,
    cells: dict[str, str],
    columns: dict[str, Any],
    present: list[str],
    source: str,
    geocoder: Geocoder,
    report: ImportReport,
) -> Any:
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for name, raw in cells.items():
        try:
            values[name] = convert(columns[name], raw)
        except CellError as exc:
            problems.append((exc.column, exc.problem))
    if not problems:
        if kind == "organizations":
            record, problems = rec.organization_record(line, values, present, source, geocoder)
        elif kind == "offerings":
            record, problems = rec.offering_record(line, values, present, source)
        elif kind == "partnerships":
            record, problems = partnership_rows.partnership_record(line, values)
        else:
            record, problems = rec.school_record(line, values, present, source, geocoder)
    for field, problem in problems:
        report.error(problem, row=line, field=field, value=cells.get(field))
    if problems:
        return None
    if isinstance(record, rec.Record) and _geocoded(record):
        report.notes["located from address"] = report.notes.get("located from address", 0) + 1
    return record


def _geocoded(record: rec.Record) -> bool:
    if record.values.get("location_precision") == "approximate":
        return True
    return any(
        loc.get("note") and loc.get("precision") == "approximate" for loc in record.locations or []
    )


def _writer(
    kind: str,
    present: list[str],
    report: ImportReport,
    organization_source: str | None,
    district: str | None,
) -> Callable[[Session, str, list[Any]], writes.Plan]:
    """How a batch of `kind` is planned (import_writes.Plan). Organizations and partnerships
    are written as they are planned (their rows need the ids of rows written before them), so
    their plans hold no steps and they are never planned ahead."""
    if kind == "partnerships":
        return lambda s, src, batch: writes.Plan(
            partnership_history.write_partnerships(s, src, batch, report, district),
            fallback="partnerships are written as they are planned",
        )
    if kind == "organizations":
        keys = rec.organization_update_keys(present)
        return lambda s, src, batch: writes.Plan(
            writes.write_organizations(s, src, batch, keys),
            fallback="organizations are written as they are planned",
        )
    if kind == "offerings":
        keys = rec.offering_update_keys(present)
        return lambda s, src, batch: writes.plan_offerings(
            s, src, batch, keys, report, organization_source
        )
    keys = rec.school_update_keys(present)
    return lambda s, src, batch: writes.plan_schools(s, src, batch, keys, report, district)


def guess_kind(path: Path) -> str | None:
    """Which template a file follows, told from its header."""
    try:
        with open(path, "rb") as raw:
            columns = set(CsvRows(raw).columns)
    except (OSError, FileProblem):
        return None
    if "outcome" in columns:
        return "partnerships"
    if "title" in columns:
        return "offerings"
    if "type" in columns:
        return "organizations"
    if {"grade_low", "grade_high"} <= columns:
        return "schools"
    return None
