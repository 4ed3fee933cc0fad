"""The batched writes every import format shares: checked records (app.imports.records) upserted
through the import repository, with the cross-record rules (an offering's organization exists,
an NCES id is not taken, a district imports its own schools), and the one commit at the end.

An import reads and checks its whole file first, keeping the checked batches in a temporary file
(`StagedBatches`), and only then writes them (`write_staged`), all in one transaction: an import
lands whole or not at all. Each batch's writes are worked out by reading only (a `Plan`: the
rows to insert, the changes by id, and the stored values each change was computed from), and
applied by `apply`.

SQLite has one writer at a time and holds the write lock from a transaction's first write to its
commit. There (`write_staged` with `ahead`), organizations (with their locations), offerings and
schools are planned for the whole file before any write, without the lock; the plans are then
applied in one short transaction that takes the lock up front (`BEGIN IMMEDIATE`), first
checking that every row a plan changes still holds the values it was planned from. A row changed
meanwhile by another writer (or a new row that another writer added first: a unique or foreign
key refuses it) means the plans are stale: they are dropped and the file is written the plain
way, planning and applying batch by batch in one transaction (which holds the lock longer, but
sees every committed write). So API writers wait only for the import's inserts and updates
themselves, never for its reading, checking, matching and diffing. PostgreSQL locks rows, not
the database, so it is written the plain way."""

from __future__ import annotations

import copy
import datetime as dt
import gc
import logging
import pickle
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from app.imports.records import Record
from app.imports.report import Counts, ImportReport
from app.models import Location, Offering, Organization, School, SchoolLink
from app.repositories import imports as repo
from app.repositories import school_links as links
from app.repositories.catalog_changes import record_change
from app.services import school_links
from app.services.districts import resolve as resolve_districts
from app.services.school_links import LinkRules
from app.services.schools import INDICATORS, need_indexes

log = logging.getLogger("partnermap.imports")

TABLES: dict[str, Any] = {
    "offerings": Offering,
    "schools": School,
    "school_links": SchoolLink,
    "organizations": Organization,
    "locations": Location,
}
# a step's SQL event
WRITES = {
    "insert": "INSERT",
    "driver": "INSERT",
    "update": "UPDATE",
    "delete": "DELETE",
    "children": "INSERT",
}
LOCK_SINCE = "import_write_lock_since"  # session.info: when the import took SQLite's write lock


# Python's cyclic garbage collector runs a young-generation pass every 700 container objects
# allocated, and an import allocates millions (cells, records, plans, parameters) of which
# almost none are in cycles: those passes were some 40 % of a 100,000-offering import's CPU
# (BENCHMARKS.md). While imports run the first threshold is raised; memory stays flat.
IMPORT_GC_THRESHOLD = 50_000
_gc_lock = threading.Lock()
_gc_users = [0, gc.get_threshold()]


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's first threshold while an import runs (imports in several
    threads share one setting: the last one out puts the old one back)."""
    with _gc_lock:
        if _gc_users[0] == 0:
            _gc_users[1] = gc.get_threshold()
            gc.set_threshold(IMPORT_GC_THRESHOLD, *_gc_users[1][1:])
        _gc_users[0] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users[0] -= 1
            if _gc_users[0] == 0:
                gc.set_threshold(*_gc_users[1])


@dataclass
class Plan:
    """What one batch writes, worked out by reading only. `steps` are (insert|update, table,
    rows) in order; `checks` (table, columns, {id: stored values}) the rows the updates were
    computed from; `identities` what a later batch must not share with this one to be planned
    ahead (write_staged); `fallback` why this file cannot be planned ahead at all."""

    counts: Counts = field(default_factory=Counts)
    steps: list[tuple[str, str, list[Any]]] = field(default_factory=list)
    checks: list[tuple[str, tuple[str, ...], dict[int, dict[str, Any]]]] = field(
        default_factory=list
    )
    identities: set[tuple[str, Any]] = field(default_factory=set)
    fallback: str | None = None


def apply(session: Session, plan: Plan) -> Counts:
    """Write a plan; its counts."""
    for op, table, rows in plan.steps:
        if not rows:
            continue
        if op == "insert":
            repo.insert_rows(session, TABLES[table], rows)
        elif op == "driver":  # prepared: [SQL, parameters of each row]
            session.connection().exec_driver_sql(rows[0], rows[1])
        elif op == "delete":  # locations of these organization ids (their list is replaced)
            repo.delete_locations(session, rows)
        elif op == "children":  # locations of organizations inserted just before: [source, rows]
            source, children = rows
            ids = repo.organization_ids(session, source, [ext for ext, _loc in children])
            located = [{**loc, "organization_id": ids[ext]} for ext, loc in children]
            repo.insert_rows(session, TABLES[table], located)
        else:
            repo.update_rows(session, TABLES[table], rows)
    return plan.counts


def prepared(session: Session, plan: Plan) -> Plan:
    """The plan with its inserts turned into the driver's SQL and converted parameters, so the
    conversion is done before the write lock is taken, not while it is held."""
    steps: list[tuple[str, str, list[Any]]] = []
    dialect = session.get_bind().dialect
    for op, table, rows in plan.steps:
        try:
            if op == "insert" and rows:
                steps += [
                    ("driver", table, [sql, params])
                    for sql, params in repo.driver_inserts(dialect, TABLES[table], rows)
                ]
                continue
        except ValueError:  # not a driver that takes them so: inserted through SQLAlchemy
            pass
        if rows:
            steps.append((op, table, rows))
    plan.steps = steps
    return plan


def still_holds(session: Session, plan: Plan) -> bool:
    """Whether every row the plan changes still holds the values it was planned from."""
    for table, columns, seen in plan.checks:
        if table == "schools":
            now = links.current(session, list(seen), list(columns))
        else:
            now = repo.stored_values(session, TABLES[table], list(seen), columns)
        if any(now.get(id_) != values for id_, values in seen.items()):
            return False
    return True


class StagedBatches:
    """Checked batches of records (or plans) kept on disk (memory stays flat as files grow)
    until the file has been read whole; then written in order, in the import's one
    transaction."""

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


def write_staged(
    session: Session,
    staged: StagedBatches,
    planner: Callable[[Session, list[Any]], Plan],
    report: ImportReport,
    *,
    ahead: bool | None = None,
) -> Counts:
    """Write the staged batches, each planned by `planner`, in the session's transaction (the
    caller commits: `finish`). `ahead` (default: on SQLite) plans every batch before the first
    write and applies the plans in one short locked transaction; when that cannot be done (a
    plan says why, two batches share an NCES or state id, or rows changed meanwhile) the
    report is set back and the batches are planned and written one by one."""
    plain = lambda s, batch: apply(s, planner(s, batch))  # noqa: E731
    if ahead is None:
        ahead = session.get_bind().dialect.name == "sqlite"
    if not ahead:
        return staged.write(session, plain)
    before = copy.deepcopy(report)
    why = None
    with StagedBatches() as plans:
        counts = Counts()
        identities: set[tuple[str, Any]] = set()
        writing = False
        for batch in staged:
            plan = planner(session, batch)
            if LOCK_SINCE not in session.info and _writing(session):
                session.info[LOCK_SINCE] = time.perf_counter()  # it added a district: locked
            if plan.fallback or identities & plan.identities:
                why = plan.fallback or "two batches share a record's key (or NCES or state id)"
                break
            identities |= plan.identities
            counts.add(plan.counts)
            plans.add([prepared(session, plan)])
            writing = writing or any(rows for _op, _table, rows in plan.steps)
        if why is None:
            if report.blocked or not writing:
                return counts  # nothing will be written: no lock taken
            if _apply_planned(session, plans):
                return counts
            why = "rows it writes were changed meanwhile"
    log.info("import %s: written batch by batch (%s)", report.source, why)
    session.rollback()
    session.info.pop(LOCK_SINCE, None)
    report.__dict__.update(before.__dict__)
    return staged.write(session, plain)


def _apply_planned(session: Session, plans: Iterable[list[Plan]]) -> bool:
    """Apply the plans in one transaction that holds SQLite's write lock from its start; False
    (and rolled back) when a plan no longer holds."""
    if not _writing(session):  # planning added no district
        session.rollback()  # the planning reads' connection, with no write of its own
        session.execute(text("BEGIN IMMEDIATE"))  # waits (busy timeout) for other writers
        session.info[LOCK_SINCE] = time.perf_counter()
    paused = _pause_row_triggers(session, TABLES)
    written: set[tuple[str, str]] = set()
    try:
        for [plan] in plans:
            if not still_holds(session, plan):
                session.rollback()
                return False
            apply(session, plan)
            written |= {(WRITES[op], table) for op, table, rows in plan.steps if rows}
    except IntegrityError:
        session.rollback()
        return False
    _resume_row_triggers(session, paused, written)
    return True


def _writing(session: Session) -> bool:
    """Whether the session's SQLite connection has written in its transaction (and so holds
    the write lock): a planner that had to add a district did."""
    dbapi = session.connection().connection.dbapi_connection
    return bool(getattr(dbapi, "in_transaction", False))


# A trigger's event and table, and its body (SQLite stores the CREATE TRIGGER text as written).
_TRIGGER = re.compile(
    r"\bAFTER\s+(INSERT|UPDATE|DELETE)\s+ON\s+\"?(\w+)\"?\s+BEGIN\s+(.*);\s*END\s*$",
    re.IGNORECASE | re.DOTALL,
)
_ROW_VALUES = re.compile(r"\b(NEW|OLD)\.", re.IGNORECASE)


def _pause_row_triggers(session: Session, tables: Iterable[str]) -> list[tuple[str, str]]:
    """Drop, inside the import's locked transaction, the AFTER triggers of `tables` whose body
    does not depend on the row (the serving-version stamps of migration 0011): SQLite has no
    statement triggers, so each would run once per row written, doubling the cost of an
    insert. `_resume_row_triggers` runs each body once and creates the triggers again, before
    the commit: other connections never see them missing (the lock is held, and a rollback
    restores them)."""
    found = session.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
            f"({', '.join(repr(t) for t in tables)})"
        )
    ).all()
    paused = []
    for name, sql in found:
        shape = _TRIGGER.search(sql or "")
        if shape is None or ";" in shape.group(3) or _ROW_VALUES.search(shape.group(3)):
            continue  # only one-statement bodies that do not read the row
        session.execute(text(f'DROP TRIGGER "{name}"'))
        paused.append((name, sql))
    return paused


def _resume_row_triggers(
    session: Session, paused: list[tuple[str, str]], written: set[tuple[str, str]]
) -> None:
    """Run once the body of each paused trigger whose event happened (a write of that kind to
    its table), and create the triggers again."""
    done = set()
    for _name, sql in paused:
        shape = _TRIGGER.search(sql)
        assert shape is not None
        event, table, body = shape.group(1).upper(), shape.group(2), shape.group(3)
        if (event, table) in written and body not in done:
            done.add(body)
            session.execute(text(body))
        session.execute(text(sql))


def finish(session: Session, report: ImportReport, *, catalog: bool) -> ImportReport:
    """Commit once when the import stands; roll back on errors and dry runs."""
    report.finish()
    try:
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
    finally:
        since = session.info.pop(LOCK_SINCE, None)
        if since is not None:
            held_ms = round((time.perf_counter() - since) * 1000)
            report.write_lock_ms = held_ms
            log.info("import %s: SQLite write lock held %d ms", report.source, held_ms)


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


def plan_organizations(
    session: Session, source: str, records: list[Record], update_keys: Sequence[str]
) -> Plan:
    """write_organizations without the writes (reads only): new organizations are inserted
    with their locations (found by their key once inserted); a stored one gets the changed
    `update_keys` and, when its file gives locations that differ, its list replaced. Its
    `identities` are the records' external ids (two batches adding the same one cannot both be
    planned ahead)."""
    counts = Counts()
    checked = (*update_keys, "updated_at")  # updated_at: any edit of the row by the API
    existing = repo.stored_by_key(
        session, Organization, source, [r.external_id for r in records], checked
    )
    replacing = [existing[r.external_id]["id"] for r in records if r.external_id in existing]
    stored_locations = repo.stored_locations(session, replacing)
    new, children, changed, dropped, relocated = [], [], [], [], []
    planned: dict[int, dict[str, Any]] = {}
    now = _now()
    for r in records:
        current = existing.get(r.external_id)
        if current is None:
            new.append({**r.defaults, **r.values, "source": source, "external_id": r.external_id})
            children += [(r.external_id, loc) for loc in r.locations or []]
            continue
        id_ = current["id"]
        diff = {k: r.values[k] for k in update_keys if r.values[k] != current[k]}
        if r.locations is not None:
            wanted = [tuple(loc.get(f) for f in repo.LOCATION_FIELDS) for loc in r.locations]
            if wanted != stored_locations[id_]:
                dropped.append(id_)
                relocated += [{**loc, "organization_id": id_} for loc in r.locations]
                diff.setdefault("updated_at", now)
        if diff:
            changed.append({"id": id_, **diff, "updated_at": now})
            planned[id_] = current  # id, external_id and `checked`, as stored_values reads
        else:
            counts.unchanged += 1
    counts.added, counts.updated = len(new), len(changed)
    return Plan(
        counts=counts,
        steps=[
            ("insert", "organizations", new),
            ("children", "locations", [source, children] if children else []),
            ("update", "organizations", changed),
            ("delete", "locations", dropped),
            ("insert", "locations", relocated),
        ],
        checks=[("organizations", checked, planned)] if planned else [],
        identities={("organization", r.external_id) for r in records},
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
    return apply(
        session,
        plan_offerings(session, source, records, update_keys, report, organization_source),
    )


def plan_offerings(
    session: Session,
    source: str,
    records: list[Record],
    update_keys: Sequence[str],
    report: ImportReport,
    organization_source: str | None = None,
) -> Plan:
    """write_offerings without the writes (reads only)."""
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
    upsert = repo.plan_upsert(session, Offering, source, rows, update_keys)
    upsert.counts.skipped += skipped
    return Plan(
        counts=upsert.counts,
        steps=[("insert", "offerings", upsert.new), ("update", "offerings", upsert.changed)],
        checks=[("offerings", tuple(update_keys), upsert.seen)] if upsert.seen else [],
    )


def plan_schools(
    session: Session,
    source: str,
    records: list[Record],
    update_keys: Sequence[str],
    report: ImportReport,
    district: str | None = None,
    rules: LinkRules | None = None,
    district_aliases: Mapping[str, str] | None = None,
) -> Plan:
    """The upserts of schools with their need index and district, planned by reading only
    (apply() writes them; the districts it adds are written now). The district is found by
    NCES LEA id, name or alias (services.districts.resolve; new ones are added); the school
    by its key, a link, its NCES or state id, or an opt-in fuzzy match
    (services.school_links.resolve); the fields written follow the precedence rule
    (school_links.merge). With `district` (a district's own upload) every school must be in
    it: rows naming another, or updating another's school, are errors, and rows naming none
    are put in it. Its `identities` are the NCES and state ids of the records: a record of a
    later batch with one of them could link to a school an earlier batch adds, so such a file
    is not planned ahead (see write_staged)."""
    rules = rules or LinkRules()
    counts = Counts()
    identities = {
        (key, value)
        for r in records
        for key in ("nces_id", "state_id")
        if (value := r.values.get(key))
    }
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
    insertable: list[dict[str, Any]] = []
    if new_rows:
        index = need_indexes(new_rows)
        written = school_links.written_by(keys, source, rules.precedence)
        for row, value in zip(new_rows, index, strict=True):
            row.update(source=source, need_index=value, field_sources=written)
        # held by another school only when linking by NCES id is off (else it was linked)
        taken = repo.nces_ids_taken(
            session, source, [(r.get("nces_id"), r["external_id"]) for r in new_rows]
        )
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
        counts.added += len(insertable)
    counts.updated += len(changed)
    for how, n in found.linked_by.items():
        note = f"linked to existing schools by {how.replace('_', ' ')}"
        report.notes[note] = report.notes.get(note, 0) + n
    seen = {row["id"]: stored[row["id"]] for row in changed}
    return Plan(
        counts=counts,
        steps=[
            ("insert", "schools", insertable),
            ("update", "schools", changed),
            ("insert", "school_links", kept_links),
        ],
        checks=[("schools", (*keys, *INDICATORS, "district"), seen)] if seen else [],
        identities=identities,
        fallback="fuzzy matching is on" if rules.fuzzy else None,
    )


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
