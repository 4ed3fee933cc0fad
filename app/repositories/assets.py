"""SQL for the asset map and gap analysis: assessed schools with their latest needs, assets
(offerings at their organization's locations) in a box, and polygon service-area coverage
(PostGIS ST_Covers pushed down; shapely in-process on SQLite, on the same densified edges)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from geoalchemy2 import Geography
from sqlalchemy import Row, Text, func, literal_column, or_, select, tuple_, type_coerce
from sqlalchemy.orm import Session

import geo
from app.filters import Visibility
from app.models import (
    Location,
    Need,
    NeedsAssessment,
    Offering,
    Organization,
    Partnership,
    School,
    partnership_offerings,
)
from app.repositories import districts
from app.repositories.filtering import tag_has_branch, visibility_clause
from app.repositories.spatial import bbox_clause
from geo import BBox

IN_LIST_MAX = 1000  # beyond this many ids, filter in Python rather than with SQL IN
SCHOOL_COLUMNS = (
    School.id,
    School.name,
    School.district,
    School.lat,
    School.lon,
    School.locale,
    School.grade_low,
    School.grade_high,
    School.enrollment,
    School.need_index,
    School.languages,
    School.frl_pct,
    School.title_i,
    School.el_pct,
    School.swd_pct,
)


def _latest_assessments():  # type: ignore[no-untyped-def]
    """Each school's latest assessment: newest date, then newest filed (as schools.latest)."""
    ranked = select(
        NeedsAssessment.id,
        NeedsAssessment.school_id,
        NeedsAssessment.assessed_on,
        func.row_number()
        .over(
            partition_by=NeedsAssessment.school_id,
            order_by=(NeedsAssessment.assessed_on.desc(), NeedsAssessment.id.desc()),
        )
        .label("rn"),
    ).subquery()
    return select(ranked.c.id, ranked.c.school_id, ranked.c.assessed_on).where(ranked.c.rn == 1)


def assessed_schools(session: Session) -> tuple[list[Row[Any]], list[Row[Any]]]:
    """Every school with a needs assessment (with its latest assessment's id and date), in id
    order, and the needs of those assessments in (assessment, priority, id) order."""
    latest = _latest_assessments().subquery()
    schools = session.execute(
        select(*SCHOOL_COLUMNS, latest.c.id.label("assessment_id"), latest.c.assessed_on)
        .join(latest, latest.c.school_id == School.id)
        .order_by(School.id)
    ).all()
    needs = session.execute(
        select(
            Need.id,
            Need.assessment_id,
            Need.category,
            Need.priority,
            Need.grade_low,
            Need.grade_high,
            Need.students_affected,
            Need.schedule,
            Need.delivery,
            Need.languages,
            Need.notes,
        )
        .join(latest, latest.c.id == Need.assessment_id)
        .order_by(Need.assessment_id, Need.priority, Need.id)
    ).all()
    return list(schools), list(needs)


def schools_in_area(
    session: Session, *, district: str | None, bbox: BBox | None, district_id: int | None = None
) -> list[Row[Any]]:
    """Schools of a district (its id, slug, exact name or NCES id) or in a box (edges
    included), in id order; `district_id` keeps those of one district only."""
    query = select(*SCHOOL_COLUMNS)
    if district is not None:
        named = districts.by_ref(session, district)
        if named is None:
            return []
        query = query.where(School.district_id == named.id)
    if district_id is not None:
        query = query.where(School.district_id == district_id)
    if bbox is not None:
        query = query.where(bbox_clause(School.lat, School.lon, bbox))
    return list(session.execute(query.order_by(School.id)).all())


def active_partnerships(session: Session) -> list[Row[Any]]:
    """Every active partnership with its school, organization (and name) and categories, in
    id order: the gap analysis counts a need they address as met."""
    return list(
        session.execute(
            select(
                Partnership.id,
                Partnership.school_id,
                Partnership.organization_id,
                Organization.name.label("organization_name"),
                Partnership.need_categories,
            )
            .join(Organization, Organization.id == Partnership.organization_id)
            .where(Partnership.status == "active")
            .order_by(Partnership.id)
        ).all()
    )


def schools_served_per_year(
    session: Session,
) -> tuple[dict[int, int], dict[int, int]]:
    """The most distinct schools each organization, and each offering named on partnerships,
    served in one school year (July-June), over partnerships that ran (active, completed,
    ended): the history a capacity estimate is made from."""
    rows = session.execute(
        select(
            Partnership.id,
            Partnership.organization_id,
            Partnership.school_id,
            Partnership.term_start,
        ).where(Partnership.status.in_(("active", "completed", "ended")))
    ).all()
    if not rows:
        return {}, {}
    offerings: dict[int, list[int]] = {}
    for pid, oid in session.execute(
        select(partnership_offerings.c.partnership_id, partnership_offerings.c.offering_id)
    ):
        offerings.setdefault(pid, []).append(oid)
    by_org: dict[tuple[int, int], set[int]] = {}
    by_offering: dict[tuple[int, int], set[int]] = {}
    for pid, org, school, start in rows:
        year = start.year if start.month >= 7 else start.year - 1
        by_org.setdefault((org, year), set()).add(school)
        for oid in offerings.get(pid, []):
            by_offering.setdefault((oid, year), set()).add(school)

    def most(groups: dict[tuple[int, int], set[int]]) -> dict[int, int]:
        out: dict[int, int] = {}
        for (key, _year), schools in groups.items():
            out[key] = max(out.get(key, 0), len(schools))
        return out

    return most(by_org), most(by_offering)


def polygon_cover(
    session: Session, school_ids: Sequence[int], lats: np.ndarray, lons: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(school ids, organization ids) where the organization's polygon service area covers the
    school, boundary included, for the given schools."""
    if not len(school_ids):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if session.get_bind().dialect.name == "postgresql":
        area = literal_column("organizations.service_area_geog", type_=Geography)
        point = literal_column("schools.geog", type_=Geography)
        query = (
            select(School.id, Organization.id)
            .join(Organization, func.ST_Covers(area, point))
            .where(Organization.service_area_kind == "polygon")
        )
        if len(school_ids) <= IN_LIST_MAX:
            query = query.where(School.id.in_(sorted(school_ids)))
        rows = session.execute(query).all()
        wanted = set(school_ids)
        pairs = [(s, o) for s, o in rows if s in wanted]
    else:
        areas = session.execute(
            select(Organization.id, type_coerce(Organization.service_area, Text)).where(
                Organization.service_area_kind == "polygon",
                Organization.service_area.is_not(None),
            )
        ).all()
        ids = np.asarray(school_ids, dtype=np.int64)
        pairs = []
        for org_id, raw in areas:
            inside = geo.covers(_area_shape(raw), lats, lons)
            pairs.extend((int(s), org_id) for s in ids[inside])
    if not pairs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    data = np.asarray(pairs, dtype=np.int64)
    return data[:, 0], data[:, 1]


@lru_cache(maxsize=4096)
def _area_shape(raw: str) -> Any:
    """A stored service area as shapely, parsed once per distinct text (they rarely change)."""
    return geo.parse_service_area(json.loads(raw))


def _category_clause(categories: Sequence[str]) -> Any:
    return or_(*[tag_has_branch(Offering.categories, c) for c in categories])


@dataclass(frozen=True, slots=True)
class AssetRow:
    """An asset: an offering at one location of its organization."""

    offering_id: int
    organization_id: int
    location_id: int
    lat: float
    lon: float
    categories: tuple[str, ...]
    delivery: tuple[str, ...]


@lru_cache(maxsize=65_536)
def _tags(raw: str | None) -> tuple[str, ...]:
    """A TagList column read raw (",a,b,"): tag lists repeat, so each is split once."""
    return tuple(part for part in (raw or "").split(",") if part)


def assets_in_box(
    session: Session,
    bbox: BBox,
    categories: Sequence[str],
    visibility: Visibility = Visibility(),
) -> list[AssetRow]:
    """Every asset located in the box (edges included) that the caller may see, ordered by
    (offering id, location id)."""
    query = (
        select(
            Offering.id,
            Offering.organization_id,
            Location.id,
            Location.lat,
            Location.lon,
            type_coerce(Offering.categories, Text),
            type_coerce(Offering.delivery, Text),
        )
        .join(Location, Location.organization_id == Offering.organization_id)
        .where(bbox_clause(Location.lat, Location.lon, bbox))
    )
    if categories:
        query = query.where(_category_clause(categories))
    visible = visibility_clause(visibility)
    if visible is not None:
        query = query.join(Organization, Organization.id == Offering.organization_id).where(visible)
    rows = session.execute(query.order_by(Offering.id, Location.id))
    return [
        AssetRow(offering, org, location, lat, lon, _tags(cats), _tags(delivery))
        for offering, org, location, lat, lon, cats, delivery in rows
    ]


def asset_page(
    session: Session,
    bbox: BBox,
    categories: Sequence[str],
    after: tuple[int, int] | None,
    limit: int,
    visibility: Visibility = Visibility(),
) -> list[Row[Any]]:
    """Assets in the box with their offering and organization, keyset-paged on
    (offering id, location id)."""
    query = (
        select(
            Offering.id.label("offering_id"),
            Location.id.label("location_id"),
            Location.lat,
            Location.lon,
            Location.precision,
            Offering.title,
            Offering.categories,
            Offering.delivery,
            Offering.cost,
            Offering.capacity_schools,
            Offering.capacity_students,
            Organization.id.label("organization_id"),
            Organization.name.label("organization_name"),
            Organization.verification,
            Organization.service_area_kind,
            Organization.service_radius_km,
        )
        .join(Organization, Organization.id == Offering.organization_id)
        .join(Location, Location.organization_id == Offering.organization_id)
        .where(bbox_clause(Location.lat, Location.lon, bbox))
    )
    if categories:
        query = query.where(_category_clause(categories))
    visible = visibility_clause(visibility)
    if visible is not None:
        query = query.where(visible)
    if after is not None:
        query = query.where(tuple_(Offering.id, Location.id) > tuple_(*after))
    query = query.order_by(Offering.id, Location.id).limit(limit)
    return list(session.execute(query).all())


def count_assets(session: Session, bbox: BBox, visibility: Visibility = Visibility()) -> int:
    """How many assets `asset_page` pages through for this box and caller."""
    query = (
        select(func.count())
        .select_from(Offering)
        .join(Organization, Organization.id == Offering.organization_id)
        .join(Location, Location.organization_id == Offering.organization_id)
        .where(bbox_clause(Location.lat, Location.lon, bbox))
    )
    visible = visibility_clause(visibility)
    if visible is not None:
        query = query.where(visible)
    return int(session.scalar(query) or 0)


def first_asset_keys(
    session: Session, bbox: BBox, categories: Sequence[str], organization_ids: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """Per organization, the smallest (offering id, location id) among its assets in the box:
    its assets are every offering at every location, so that is (min offering, min location)."""
    if not organization_ids:
        return {}
    query = (
        select(Offering.organization_id, func.min(Offering.id), func.min(Location.id))
        .join(Location, Location.organization_id == Offering.organization_id)
        .where(
            bbox_clause(Location.lat, Location.lon, bbox),
            Offering.organization_id.in_(sorted(organization_ids)),
        )
        .group_by(Offering.organization_id)
    )
    if categories:
        query = query.where(_category_clause(categories))
    return {org: (off, loc) for org, off, loc in session.execute(query)}


def service_areas(session: Session, organization_ids: Sequence[int]) -> list[Row[Any]]:
    """Declared service areas (polygon or radius) of these organizations, with their locations."""
    if not organization_ids:
        return []
    rows = session.execute(
        select(
            Organization.id,
            Organization.name,
            Organization.service_area_kind,
            Organization.service_area,
            Organization.service_radius_km,
        )
        .where(
            Organization.id.in_(sorted(organization_ids)),
            Organization.service_area_kind.in_(("polygon", "radius")),
        )
        .order_by(Organization.id)
    ).all()
    return list(rows)


def locations_of(session: Session, organization_ids: Sequence[int]) -> dict[int, list[tuple]]:
    """(lat, lon) of each organization's locations, in location id order."""
    out: dict[int, list[tuple]] = {}
    if not organization_ids:
        return out
    for org, lat, lon in session.execute(
        select(Location.organization_id, Location.lat, Location.lon)
        .where(Location.organization_id.in_(sorted(organization_ids)), Location.lat.is_not(None))
        .order_by(Location.id)
    ):
        out.setdefault(org, []).append((lat, lon))
    return out
