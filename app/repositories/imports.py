"""SQL for imports and exports: batched upserts keyed on (source, external_id). A row whose
values already match is left alone, so a re-import writes nothing and keeps `updated_at`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from app.imports.report import Counts
from app.models import Location, Offering, Organization, School

# What a location row (catalog_rows.location_rows) carries: every column but the keys.
LOCATION_FIELDS = tuple(
    c.key for c in Location.__table__.columns if not (c.primary_key or c.foreign_keys)
)


def _existing(
    session: Session, model: Any, source: str, external_ids: Sequence[str], columns: Iterable[str]
) -> dict[str, dict[str, Any]]:
    if not external_ids:
        return {}
    cols = [model.id, model.external_id, *(getattr(model, c) for c in columns)]
    rows = session.execute(
        select(*cols).where(model.source == source, model.external_id.in_(external_ids))
    ).mappings()
    return {r["external_id"]: dict(r) for r in rows}


def upsert_rows(
    session: Session,
    model: Any,
    source: str,
    records: list[dict[str, Any]],
    update_keys: Sequence[str],
) -> Counts:
    """Insert the records that are new and update the ones whose `update_keys` differ.

    Each record holds every column to insert plus `external_id`; on update only `update_keys`
    are compared and written (the columns the file carries)."""
    upsert = plan_upsert(session, model, source, records, update_keys)
    insert_rows(session, model, upsert.new)
    update_rows(session, model, upsert.changed)
    return upsert.counts


@dataclass
class Upsert:
    """What an upsert writes, worked out by reading only: the rows to insert, the changes by
    id, and the stored values each change was computed from (`seen`, by id)."""

    new: list[dict[str, Any]]
    changed: list[dict[str, Any]]
    seen: dict[int, dict[str, Any]]
    counts: Counts


def plan_upsert(
    session: Session,
    model: Any,
    source: str,
    records: list[dict[str, Any]],
    update_keys: Sequence[str],
) -> Upsert:
    """upsert_rows without the writes (reads only)."""
    counts = Counts()
    existing = _existing(session, model, source, [r["external_id"] for r in records], update_keys)
    new, changed, seen = [], [], {}
    now = dt.datetime.now(dt.UTC)
    for record in records:
        current = existing.get(record["external_id"])
        if current is None:
            new.append({**record, "source": source})
            continue
        diff = {k: record[k] for k in update_keys if record[k] != current[k]}
        if diff:
            changed.append({"id": current["id"], **diff, "updated_at": now})
            seen[current["id"]] = current
        else:
            counts.unchanged += 1
    counts.added, counts.updated = len(new), len(changed)
    return Upsert(new, changed, seen, counts)


def stored_values(
    session: Session, model: Any, ids: Sequence[int], columns: Iterable[str]
) -> dict[int, dict[str, Any]]:
    """The stored values of `columns` (with id and external_id, as plan_upsert saw them) of
    these rows, for checking that a planned change still applies."""
    cols = [model.id, model.external_id, *(getattr(model, c) for c in columns)]
    out: dict[int, dict[str, Any]] = {}
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), 900):
        chunk = wanted[start : start + 900]
        for row in session.execute(select(*cols).where(model.id.in_(chunk))).mappings():
            out[row["id"]] = dict(row)
    return out


def insert_rows(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert in one executemany per shape of row. As the ORM's bulk insert does, a None for a
    column with a default is left out (the default applies); unlike it, rows are grouped by
    shape over the whole list, not only while consecutive rows share one, so a file whose
    optional cells are empty here and there is not sent as thousands of small statements."""
    if rows:
        for group in _shapes(model.__table__, rows, fill=False):
            session.execute(insert(model.__table__), group)


def _shapes(table: Any, rows: list[dict[str, Any]], *, fill: bool) -> list[list[dict[str, Any]]]:
    """Rows grouped by the columns they give, a None for a column with a default left out (or,
    with `fill`, a Python-side default filled in as the insert would)."""
    defaulted = {
        c.key: c.default
        for c in table.columns
        if c.default is not None or c.server_default is not None
    }
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        shaped = {k: v for k, v in row.items() if v is not None or k not in defaulted}
        if fill:
            for key, default in defaulted.items():
                if key not in shaped and default is not None and default.is_scalar:
                    shaped[key] = default.arg
                elif key not in shaped and default is not None and default.is_callable:
                    shaped[key] = default.arg(None)
        shapes.setdefault(tuple(sorted(shaped)), []).append(shaped)
    return list(shapes.values())


def driver_inserts(
    dialect: Dialect, model: Any, rows: list[dict[str, Any]]
) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """The inserts of `rows` as the driver takes them: one SQL text per shape of row and each
    row's parameters already converted by the column types (JSON text, lists, times), so
    running them (`exec_driver_sql`) costs the database's own work only. Raises ValueError
    for a dialect without positional parameters."""
    table = model.__table__
    out = []
    for group in _shapes(table, rows, fill=True):
        compiled = insert(table).compile(dialect=dialect, column_keys=list(group[0]))
        order = compiled.positiontup
        if order is None or compiled.insert_prefetch:
            raise ValueError("not a positional insert whose every value is given")
        convert = compiled._bind_processors
        params = [
            tuple(convert[k](row[k]) if k in convert else row[k] for k in order) for row in group
        ]
        out.append((compiled.string, params))
    return out


def update_rows(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Update by id; rows with the same keys go in one executemany."""
    for group in _same_keys(rows):
        session.execute(update(model), group)


def _same_keys(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())


def organization_ids(session: Session, source: str, external_ids: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(external_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(Organization.external_id, Organization.id).where(
            Organization.source == source, Organization.external_id.in_(wanted)
        )
    )
    return {ext: id_ for ext, id_ in rows}


def existing_organization_ids(session: Session, ids: Iterable[int]) -> set[int]:
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    return set(session.scalars(select(Organization.id).where(Organization.id.in_(wanted))))


@dataclass
class OrganizationRecord:
    external_id: str
    values: dict[str, Any]
    locations: list[dict[str, Any]] | None  # None: leave the stored locations as they are
    defaults: dict[str, Any] = field(default_factory=dict)  # written on insert only


def upsert_organizations(
    session: Session, source: str, records: list[OrganizationRecord], update_keys: Sequence[str]
) -> Counts:
    """Organizations with their locations; `locations`, when given, replaces the stored list."""
    counts = Counts()
    ids = [r.external_id for r in records]
    current = {
        o.external_id: o
        for o in session.scalars(
            select(Organization).where(
                Organization.source == source, Organization.external_id.in_(ids)
            )
        )
    }
    for record in records:
        org = current.get(record.external_id)
        if org is None:
            org = Organization(
                source=source, external_id=record.external_id, **(record.defaults | record.values)
            )
            org.locations = [Location(**loc) for loc in record.locations or []]
            session.add(org)
            current[record.external_id] = org
            counts.added += 1
            continue
        changed = False
        for key in update_keys:
            if getattr(org, key) != record.values[key]:
                setattr(org, key, record.values[key])
                changed = True
        if record.locations is not None:
            stored = [tuple(getattr(loc, f) for f in LOCATION_FIELDS) for loc in org.locations]
            wanted = [tuple(loc.get(f) for f in LOCATION_FIELDS) for loc in record.locations]
            if stored != wanted:
                org.locations = [Location(**loc) for loc in record.locations]
                changed = True
        if changed:
            org.updated_at = dt.datetime.now(dt.UTC)
            counts.updated += 1
        else:
            counts.unchanged += 1
    session.flush()
    return counts


def nces_ids_taken(
    session: Session, source: str, pairs: list[tuple[str, str]]
) -> dict[str, tuple[str | None, str | None]]:
    """NCES ids in `pairs` (nces_id, external_id) already held by another school record."""
    wanted = [n for n, _ in pairs if n]
    if not wanted:
        return {}
    own = {n: ext for n, ext in pairs}
    rows = session.execute(
        select(School.nces_id, School.source, School.external_id).where(School.nces_id.in_(wanted))
    )
    return {
        nces: (src, ext) for nces, src, ext in rows if not (src == source and ext == own.get(nces))
    }


def school_districts(
    session: Session, source: str, external_ids: Sequence[str]
) -> dict[str, str | None]:
    """The district name each of these schools of `source` is stored in."""
    rows = session.execute(
        select(School.external_id, School.district).where(
            School.source == source, School.external_id.in_(external_ids)
        )
    )
    return {str(ext): district for ext, district in rows}


def of_source(session: Session, model: Any, source: str) -> list[Any]:
    """Every record of one source (the demo matches its records on their external ids)."""
    return list(session.scalars(select(model).where(model.source == source)))


def delete_source(session: Session, source: str) -> dict[str, int]:
    """Remove every record of a source (benchmarks clean up their throwaway source)."""
    removed = {}
    for model in (Offering, Organization, School):
        result = session.execute(delete(model).where(model.source == source))
        removed[model.__tablename__] = result.rowcount or 0
    return removed


def organizations_for_export(session: Session, sources: Sequence[str] | None) -> list[Organization]:
    query = select(Organization).order_by(Organization.id)
    if sources:
        query = query.where(Organization.source.in_(sources))
    return list(session.scalars(query))


def offerings_for_export(session: Session, organization_ids: Sequence[int]) -> list[Offering]:
    if not organization_ids:
        return []
    out: list[Offering] = []
    for start in range(0, len(organization_ids), 500):
        chunk = organization_ids[start : start + 500]
        out += session.scalars(
            select(Offering).where(Offering.organization_id.in_(chunk)).order_by(Offering.id)
        )
    return out
