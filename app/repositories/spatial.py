"""Spatial filters and distance ordering, pushed down to PostGIS or computed in-process on SQLite.

Both paths answer with geodesic metres on the WGS84 spheroid (PostGIS geography; pyproj's Karney
solution in `geo`), so a radius query returns the same records on either backend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from geoalchemy2 import Geography
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    cast,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session

import geo
from app.domain_errors import NotFound
from app.filters import Area, Near
from app.models import Location
from app.pagination import Cursor
from geo import BBox

# Farther than any two points on Earth are apart, so a radius of it excludes nothing.
EARTH_HALF_CIRCUMFERENCE_M = 20_100_000.0


def bbox_clause(lat: ColumnElement, lon: ColumnElement, bbox: BBox) -> ColumnElement[bool]:
    """Plain lat/lon box (antimeridian-aware) on indexed float columns: same on both backends."""
    return or_(
        *[
            and_(lat.between(b.min_lat, b.max_lat), lon.between(b.min_lon, b.max_lon))
            for b in bbox.split()
        ]
    )


def geog_column(table: str) -> ColumnElement:
    """The PostGIS-only generated geography column of `table` (see migration 0001)."""
    return literal_column(f"{table}.geog", type_=Geography("POINT", 4326))


def _point(near: Near) -> ColumnElement:
    return cast(func.ST_SetSRID(func.ST_MakePoint(near.lon, near.lat), 4326), Geography)


def nearest(
    session: Session,
    candidates: Select,
    *,
    table: str,
    near: Near,
    after: Cursor | None,
    limit: int,
) -> list[tuple[int, float]]:
    """(owner id, metres) for owners with a point within `near`, nearest first, after a cursor.

    `candidates` selects (owner_id, lat, lon) from `table`, already narrowed by other filters;
    an owner with several points (an organization's locations) is as near as its nearest one.
    """
    search = (
        _nearest_postgis
        if session.get_bind().dialect.name == "postgresql"
        else (_nearest_in_process)
    )
    if after is not None and after.distance_m is None:
        after = _with_distance(session, search, candidates, table, near, after)
    return search(session, candidates, table, near, after, limit)


def _with_distance(session, search, candidates, table, near, after):  # type: ignore[no-untyped-def]
    """A cursor given as a bare id: continue after that record's own distance."""
    anywhere = Near(lat=near.lat, lon=near.lon, radius_m=EARTH_HALF_CIRCUMFERENCE_M)
    only = candidates.where(candidates.selected_columns.owner_id == after.id)
    found = search(session, only, table, anywhere, None, 1)
    if not found:
        raise NotFound(
            f"The record {after.id} named by the cursor does not match this query; "
            "start again without a cursor."
        )
    return Cursor(id=after.id, distance_m=found[0][1])


def _nearest_postgis(session, candidates, table, near, after, limit):  # type: ignore[no-untyped-def]
    geog, point = geog_column(table), _point(near)
    within = (
        candidates.add_columns(func.ST_Distance(geog, point).label("d"))
        .where(func.ST_DWithin(geog, point, near.radius_m))
        .subquery()
    )
    per_owner = (
        select(within.c.owner_id, func.min(within.c.d).label("d"))
        .group_by(within.c.owner_id)
        .subquery()
    )
    query = select(per_owner.c.owner_id, per_owner.c.d)
    if after is not None:
        query = query.where(
            or_(
                per_owner.c.d > after.distance_m,
                and_(per_owner.c.d == after.distance_m, per_owner.c.owner_id > after.id),
            )
        )
    query = query.order_by(per_owner.c.d, per_owner.c.owner_id).limit(limit)
    return [(int(i), float(d)) for i, d in session.execute(query)]


def _nearest_in_process(session, candidates, table, near, after, limit):  # type: ignore[no-untyped-def]
    sub = candidates.subquery()
    boxes = geo.radius_bbox(near.lat, near.lon, near.radius_m)
    prefilter = (
        or_(
            *[
                and_(
                    sub.c.lat.between(b.min_lat, b.max_lat), sub.c.lon.between(b.min_lon, b.max_lon)
                )
                for b in boxes
            ]
        )
        if boxes
        else false()
    )
    rows = session.execute(select(sub.c.owner_id, sub.c.lat, sub.c.lon).where(prefilter)).all()
    if not rows:
        return []
    data = np.asarray(rows, dtype=float)
    ids = data[:, 0].astype(np.int64)
    dist = np.asarray(geo.geodesic_m(near.lat, near.lon, data[:, 1], data[:, 2]), dtype=float)
    keep = dist <= near.radius_m
    ids, dist = ids[keep], dist[keep]
    ids, dist = _min_per_owner(ids, dist)
    if after is not None:
        later = (dist > after.distance_m) | ((dist == after.distance_m) & (ids > after.id))
        ids, dist = ids[later], dist[later]
    order = np.lexsort((ids, dist))[:limit]
    return [(int(i), float(d)) for i, d in zip(ids[order], dist[order], strict=True)]


def _min_per_owner(ids: np.ndarray, dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if ids.size == 0:
        return ids, dist
    order = np.lexsort((dist, ids))
    ids, dist = ids[order], dist[order]
    first = np.concatenate(([True], ids[1:] != ids[:-1]))
    return ids[first], dist[first]


def nearest_rows(
    session: Session,
    model: type,
    candidates: Select,
    *,
    table: str,
    near: Near,
    after: Cursor | None,
    limit: int,
) -> list[tuple[Any, float | None]]:
    """The `model` rows `nearest` picks, in its order, each with its distance."""
    pairs = nearest(session, candidates, table=table, near=near, after=after, limit=limit)
    ids = [i for i, _ in pairs]
    rows = session.scalars(select(model).where(model.id.in_(ids))).all()
    position = {i: n for n, i in enumerate(ids)}
    distance = dict(pairs)
    return [(row, distance[row.id]) for row in sorted(rows, key=lambda r: position[r.id])]


def located_page(
    session: Session,
    model: type,
    organization_id: ColumnElement,
    scoped: Callable[[Select], Select],
    area: Area,
    after: Cursor | None,
    limit: int,
) -> list[tuple[Any, float | None]]:
    """A page of `model` rows placed at their organization's locations (organization_id: the
    model's column naming it; `scoped` adds a search's joins and filters to a select): those
    with a location in `area.bbox` when it is given; nearest `area.near` first, each with its
    distance, when that is given, else by ascending id (distance None)."""
    if area.near is not None:
        columns = (model.id.label("owner_id"), Location.lat.label("lat"), Location.lon.label("lon"))
        candidates = (
            scoped(select(*columns))
            .join(Location, Location.organization_id == organization_id)
            .where(Location.lat.is_not(None))
        )
        if area.bbox is not None:
            candidates = candidates.where(bbox_clause(Location.lat, Location.lon, area.bbox))
        return nearest_rows(
            session, model, candidates, table="locations", near=area.near, after=after, limit=limit
        )
    query = scoped(select(model))
    if area.bbox is not None:
        query = query.where(
            exists(
                select(Location.id).where(
                    Location.organization_id == organization_id,
                    bbox_clause(Location.lat, Location.lon, area.bbox),
                )
            )
        )
    if after is not None:
        query = query.where(model.id > after.id)
    return [(row, None) for row in session.scalars(query.order_by(model.id).limit(limit))]
