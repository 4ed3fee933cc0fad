"""SQL that feeds the ranking index: offerings as columns, the change log, coverage."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from typing import Any

import numpy as np
from geoalchemy2 import Geography
from shapely import MultiPolygon
from sqlalchemy import Row, Text, cast, func, literal_column, select, type_coerce
from sqlalchemy.orm import Session

import geo
from app.models import CatalogChange, Location, Offering, Organization, Partnership, School
from matching import OfferingTable
from matching.history import History

BATCH = 5000
# Partnerships that count as a track record: under way or finished, not proposals or declines.
HISTORY_STATUSES = ("active", "completed")


def _first_locations():  # type: ignore[no-untyped-def]
    """One point per organization: its first location (lowest id); the others go to the
    ranking as OfferingTable.more_locations (_other_locations)."""
    first = (
        select(Location.organization_id, func.min(Location.id).label("location_id"))
        .where(Location.lat.is_not(None))  # a location kept without a point places nothing
        .group_by(Location.organization_id)
        .subquery()
    )
    return (
        select(Location.organization_id, Location.lat, Location.lon, Location.precision)
        .join(first, first.c.location_id == Location.id)
        .subquery()
    )


def offering_table(session: Session, ids: Collection[int] | None = None) -> OfferingTable:
    """Offerings (all, or these ids) as ranking columns. Offerings of an organization with no
    location can be ranked only when virtual; they get (0, 0), which reach ignores for them."""
    loc = _first_locations()
    o = Offering.__table__.c
    query = (
        select(
            o.id,
            o.organization_id,
            o.categories,
            o.grade_low,
            o.grade_high,
            o.schedule,
            o.delivery,
            o.languages,
            o.cost,
            o.cost_amount,
            o.capacity_schools,
            o.capacity_students,
            o.populations,
            o.active_from,
            o.active_until,
            o.title,
            o.description,
            Organization.verification,
            Organization.service_area_kind,
            Organization.service_radius_km,
            loc.c.lat,
            loc.c.lon,
            loc.c.precision,
        )
        .join(Organization, Organization.id == Offering.organization_id)
        .outerjoin(loc, loc.c.organization_id == Offering.organization_id)
        # an uncategorized offering (an HSDS service no category fits) is kept, not ranked
        .where(type_coerce(Offering.categories, Text) != ",")
        .order_by(Offering.id)
    )
    rows = []
    for chunk in _chunks(ids):
        q = query if chunk is None else query.where(Offering.id.in_(chunk))
        rows.extend(session.execute(q).all())
    rows = [r for r in rows if r.lat is not None or "virtual" in r.delivery]
    return _table(rows, _other_locations(session, {r.organization_id for r in rows}))


def _other_locations(
    session: Session, organization_ids: set[int]
) -> dict[int, tuple[tuple[float, float, bool], ...]]:
    """Each organization's locations after its first (lowest id): (lat, lon, estimated), for a
    ranking to measure from the one nearest the school. Only organizations with several."""
    several = (
        select(Location.organization_id)
        .group_by(Location.organization_id)
        .having(func.count(Location.id) > 1)
    )
    query = (
        select(Location.organization_id, Location.lat, Location.lon, Location.precision)
        .where(Location.organization_id.in_(several))
        .order_by(Location.organization_id, Location.id)
    )
    out: dict[int, list[tuple[float, float, bool]]] = {}
    for row in session.execute(query):
        if row.organization_id in organization_ids:
            out.setdefault(row.organization_id, []).append(
                (float(row.lat), float(row.lon), row.precision != "exact")
            )
    return {org: tuple(places[1:]) for org, places in out.items()}


def _chunks(ids: Collection[int] | None) -> Iterable[list[int] | None]:
    if ids is None:
        yield None
        return
    ordered = sorted(ids)
    for start in range(0, len(ordered), BATCH):
        yield ordered[start : start + BATCH]


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _table(
    rows: list, other_locations: dict[int, tuple[tuple[float, float, bool], ...]]
) -> OfferingTable:
    # Plain column rows, not ORM objects: building 100,000 entities would dominate the time.
    offerings = rows
    return OfferingTable(
        ids=np.array([o.id for o in offerings], dtype=np.int64),
        organization_ids=np.array([o.organization_id for o in offerings], dtype=np.int64),
        lat=np.array([0.0 if r.lat is None else r.lat for r in rows], dtype=np.float64),
        lon=np.array([0.0 if r.lon is None else r.lon for r in rows], dtype=np.float64),
        categories=[tuple(o.categories) for o in offerings],
        grade_low=np.array([o.grade_low for o in offerings], dtype=np.int64),
        grade_high=np.array([o.grade_high for o in offerings], dtype=np.int64),
        schedule=[frozenset(o.schedule) for o in offerings],
        delivery=[frozenset(o.delivery) for o in offerings],
        languages=[frozenset(o.languages) for o in offerings],
        cost=[o.cost for o in offerings],
        cost_amount=np.array([_nan(o.cost_amount) for o in offerings], dtype=np.float64),
        # Commitments are not tracked yet (partnerships come later): capacity left = capacity.
        schools_left=np.array([_nan(o.capacity_schools) for o in offerings], dtype=np.float64),
        students_left=np.array([_nan(o.capacity_students) for o in offerings], dtype=np.float64),
        populations=[frozenset(o.populations) for o in offerings],
        active_from=[o.active_from for o in offerings],
        active_until=[o.active_until for o in offerings],
        texts=[f"{o.title}. {o.description or ''}" for o in offerings],
        verified=np.array([r.verification == "verified" for r in rows], dtype=bool),
        service_radius_km=np.array(
            [
                _nan(r.service_radius_km) if r.service_area_kind == "radius" else math.nan
                for r in rows
            ],
            dtype=np.float64,
        ),
        has_service_area=np.array([r.service_area_kind == "polygon" for r in rows], dtype=bool),
        location_estimated=np.array(
            [r.precision is not None and r.precision != "exact" for r in rows], dtype=bool
        ),
        more_locations=[other_locations.get(r.organization_id, ()) for r in rows],
    )


def latest_change_id(session: Session) -> int:
    return session.scalar(select(func.max(CatalogChange.id))) or 0


def change_window(session: Session, after_id: int) -> tuple[int, int]:
    """How many change-log rows have an id above `after_id`, and the newest id overall."""
    # One round trip: this runs before every ranking.
    count = select(func.count()).select_from(CatalogChange).where(CatalogChange.id > after_id)
    newest = select(func.max(CatalogChange.id))
    row = session.execute(select(count.scalar_subquery(), newest.scalar_subquery())).one()
    return int(row[0] or 0), int(row[1] or 0)


def changes_since(session: Session, after_id: int) -> list[tuple[int, int | None, int | None]]:
    return [
        (row.id, row.organization_id, row.offering_id)
        for row in session.execute(
            select(CatalogChange.id, CatalogChange.organization_id, CatalogChange.offering_id)
            .where(CatalogChange.id > after_id)
            .order_by(CatalogChange.id)
        )
    ]


def offering_ids_of(session: Session, organization_ids: Collection[int]) -> set[int]:
    if not organization_ids:
        return set()
    return set(
        session.scalars(
            select(Offering.id).where(Offering.organization_id.in_(sorted(organization_ids)))
        )
    )


def polygon_areas(
    session: Session, organization_ids: Collection[int] | None = None
) -> dict[int, MultiPolygon]:
    """Polygon service areas (all, or of these organizations) as shapes, by organization."""
    query = select(Organization.id, Organization.service_area).where(
        Organization.service_area_kind == "polygon", Organization.service_area.is_not(None)
    )
    areas: dict[int, MultiPolygon] = {}
    for chunk in _chunks(organization_ids):
        q = query if chunk is None else query.where(Organization.id.in_(chunk))
        for org_id, area in session.execute(q):
            areas[org_id] = geo.parse_service_area(area)
    return areas


def shown_offerings(session: Session, ids: Collection[int] | None = None) -> list[Row[Any]]:
    """What a ranked result shows of each offering (all, or these ids), without its
    organization: (id, title, organization_id, categories, cost, delivery, capacities)."""
    o = Offering.__table__.c
    query = select(
        o.id,
        o.title,
        o.organization_id,
        o.categories,
        o.cost,
        o.delivery,
        o.capacity_schools,
        o.capacity_students,
    )
    rows: list[Row[Any]] = []
    for chunk in _chunks(ids):
        rows.extend(session.execute(query if chunk is None else query.where(o.id.in_(chunk))))
    return rows


def shown_organizations(
    session: Session, organization_ids: Collection[int] | None = None
) -> dict[int, tuple[str, bool]]:
    """(name, verified) of each organization (all, or these)."""
    query = select(Organization.id, Organization.name, Organization.verification)
    shown: dict[int, tuple[str, bool]] = {}
    for chunk in _chunks(organization_ids):
        q = query if chunk is None else query.where(Organization.id.in_(chunk))
        for org_id, name, verification in session.execute(q):
            shown[org_id] = (name, verification == "verified")
    return shown


def covering_offerings(session: Session, lat: float, lon: float) -> frozenset[int]:
    """Offerings whose organization's polygon service area covers the point."""
    query = select(Offering.id).join(Organization, Organization.id == Offering.organization_id)
    query = query.where(Organization.service_area_kind == "polygon")
    if session.get_bind().dialect.name == "postgresql":
        point = cast(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326), Geography)
        area = literal_column("organizations.service_area_geog", type_=Geography)
        return frozenset(session.scalars(query.where(func.ST_Covers(area, point))))
    areas = session.execute(
        select(Organization.id, Organization.service_area).where(
            Organization.service_area_kind == "polygon"
        )
    ).all()
    if not areas:
        return frozenset()
    shapes = [geo.parse_service_area(area) for _, area in areas]
    inside = geo.covers_many(shapes, lat, lon)
    org_ids = [org_id for (org_id, _), hit in zip(areas, inside, strict=True) if hit]
    return frozenset(offering_ids_of(session, org_ids))


def partnership_history(session: Session) -> History:
    """Active and completed partnerships with their school's place: the ranking's history."""
    rows = session.execute(
        select(
            Partnership.organization_id,
            Partnership.school_id,
            School.lat,
            School.lon,
            Partnership.need_categories,
            School.need_index,
        )
        .join(School, School.id == Partnership.school_id)
        .where(
            Partnership.status.in_(HISTORY_STATUSES),
            School.lat.is_not(None),
            School.lon.is_not(None),
        )
        .order_by(Partnership.id)
    ).all()
    return History(
        organization_ids=np.array([r[0] for r in rows], dtype=np.int64),
        school_ids=np.array([r[1] for r in rows], dtype=np.int64),
        lat=np.array([r[2] for r in rows], dtype=float),
        lon=np.array([r[3] for r in rows], dtype=float),
        categories=tuple(frozenset(r[4] or ()) for r in rows),
        need_index=np.array([np.nan if r[5] is None else r[5] for r in rows], dtype=float),
    )
