"""SQL for finding the school a directory record means: by its own key, by a stored link from
another source, by NCES or state id, or near its place (fuzzy matches), and for writing
schools with the sources of their fields (services.school_links decides; this reads and
writes)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.models import School, SchoolLink

CHUNK = 900  # bound parameters per IN (SQLite allows 999 in older builds)


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def own_ids(session: Session, source: str, external_ids: Sequence[str]) -> dict[str, int]:
    """School ids of the records this source created, by external id."""
    return _by_external_id(
        session, School.external_id, School.id, School.source, source, external_ids
    )


def linked_ids(session: Session, source: str, external_ids: Sequence[str]) -> dict[str, int]:
    """School ids this source's records were linked to earlier, by external id."""
    return _by_external_id(
        session,
        SchoolLink.external_id,
        SchoolLink.school_id,
        SchoolLink.source,
        source,
        external_ids,
    )


def _by_external_id(
    session: Session,
    external_id: Any,
    school_id: Any,
    source_column: Any,
    source: str,
    external_ids: Sequence[str],
) -> dict[str, int]:
    """{external id: school id} of one source's rows of a table keyed by (source, external id),
    in chunks of bound parameters."""
    out: dict[str, int] = {}
    for chunk in _chunks(external_ids):
        rows = session.execute(
            select(external_id, school_id).where(source_column == source, external_id.in_(chunk))
        )
        out.update({str(ext): id_ for ext, id_ in rows})
    return out


def ids_by_nces(session: Session, nces_ids: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for chunk in _chunks(sorted(set(nces_ids))):
        rows = session.execute(select(School.nces_id, School.id).where(School.nces_id.in_(chunk)))
        out.update({str(n): id_ for n, id_ in rows})
    return out


def ids_by_state_id(
    session: Session, state_ids: Sequence[str]
) -> dict[str, list[tuple[int, str | None]]]:
    """(school id, state) of every school holding each state id (unique only within a state)."""
    out: dict[str, list[tuple[int, str | None]]] = {}
    for chunk in _chunks(sorted(set(state_ids))):
        rows = session.execute(
            select(School.state_id, School.id, School.state).where(School.state_id.in_(chunk))
        )
        for sid, id_, state in rows:
            out.setdefault(str(sid), []).append((id_, state))
    return out


def keys_of_source(session: Session, source: str, school_ids: Sequence[int]) -> dict[int, str]:
    """For these schools, the external id by which `source` already refers to each (its own
    record or a link), so two records of one source cannot land on one school."""
    out: dict[int, str] = {}
    for chunk in _chunks(sorted(set(school_ids))):
        own = session.execute(
            select(School.id, School.external_id).where(
                School.id.in_(chunk), School.source == source
            )
        )
        linked = session.execute(
            select(SchoolLink.school_id, SchoolLink.external_id).where(
                SchoolLink.school_id.in_(chunk), SchoolLink.source == source
            )
        )
        out.update({id_: str(ext) for id_, ext in [*own, *linked]})
    return out


def current(session: Session, school_ids: Sequence[int], columns: Sequence[str]) -> dict[int, dict]:
    """The stored values of `columns` (with source and field_sources) of these schools."""
    cols = [School.id, School.source, School.field_sources]
    cols += [getattr(School, c) for c in columns if c not in ("source", "field_sources")]
    out: dict[int, dict] = {}
    for chunk in _chunks(sorted(set(school_ids))):
        for row in session.execute(select(*cols).where(School.id.in_(chunk))).mappings():
            out[row["id"]] = dict(row)
    return out


def near(
    session: Session, south: float, west: float, north: float, east: float
) -> list[dict[str, Any]]:
    """Schools inside a box (candidates for fuzzy matches)."""
    rows = session.execute(
        select(
            School.id,
            School.name,
            School.address,
            School.postal_code,
            School.lat,
            School.lon,
            School.source,
        ).where(School.lat.between(south, north), School.lon.between(west, east))
    ).mappings()
    return [dict(r) for r in rows]


def insert_schools(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(School), rows)


def update_schools(session: Session, rows: list[dict[str, Any]]) -> None:
    """Update by id; rows with the same keys go in one executemany."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for group in groups.values():
        session.execute(update(School), group)


def add_links(session: Session, links: list[dict[str, Any]]) -> None:
    if links:
        session.execute(insert(SchoolLink), links)
