"""Use cases of the OGC API - Features service: the collections PartnerMap publishes to GIS
clients (QGIS, ArcGIS, GDAL), their extents, and pages of their features as GeoJSON.

Each collection reads through the services and repositories the /v1 API uses, with the same
visibility rules. `offerings` has one Point per offering at each location of its organization
(an asset of the asset map, id `offering:location`), so a layer holds one geometry type;
offerings of organizations without a location have no feature. `gaps` has one Point per unmet
or thin need at its school (id: the need's id) and `deserts` one Polygon per desert grid cell,
both as GET /v1/gaps computes them over the schools within the caller's reach.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

import geo
from app.auth.policy import permits
from app.auth.principal import Principal, visibility_of
from app.domain_errors import NotFound
from app.filters import Area, SchoolFilters
from app.pagination import MAX_ID, Cursor
from app.repositories import assets as asset_repo
from app.repositories import organizations as organization_repo
from app.repositories import schools as school_repo
from app.schemas.assets import GapsOut
from app.schemas.schools import SchoolOut
from app.services import assets as gap_service
from app.services import schools as school_service
from app.services.asset_map import asset_feature
from app.services.catalog_index import CatalogIndex
from geo import BBox
from matching import RankingConfig

WORLD = BBox(-180.0, -90.0, 180.0, 90.0)
GAP_STATUSES = ("unmet", "thin")
DESERT_LEVEL = 13  # as GET /v1/gaps: cells of ~3.85 km at 38°N


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    private: bool = False  # the gap analysis: listed and served to district readers only


COLLECTIONS = (
    Collection(
        "offerings",
        "Offerings",
        "What community partners provide to schools: one point per offering at each location "
        "of its organization (id `offering:location`).",
    ),
    Collection(
        "organization-locations",
        "Organization locations",
        "Where community organizations are: one point per location.",
    ),
    Collection("schools", "Schools", "The public school directory, one point per school."),
    Collection(
        "gaps",
        "Gaps",
        "Unmet and thin current needs of the schools within your reach, one point per need "
        "at its school, in gap order (as GET /v1/gaps).",
        private=True,
    ),
    Collection(
        "deserts",
        "Deserts",
        "Grid cells where high-need schools sit far from every in-person asset of a "
        "category (as GET /v1/gaps).",
        private=True,
    ),
)
PRIVATE = tuple(c.id for c in COLLECTIONS if c.private)


@dataclass(frozen=True)
class Analysis:
    """What the gap analysis collections need beyond the database: the worker's ranking index
    and the ranking configuration."""

    ranking_index: CatalogIndex
    ranking: RankingConfig


@dataclass(frozen=True)
class FeaturePage:
    features: list[dict[str, Any]]
    number_matched: int
    next_cursor: str | None
    prev_cursor: str | None = None


def collections(*, principal: Principal) -> list[Collection]:
    """The collections this caller may read: the gap analysis only for district readers."""
    return [c for c in COLLECTIONS if not c.private or _reads_gaps(principal)]


def collection(*, principal: Principal, collection_id: str) -> Collection:
    for c in collections(principal=principal):
        if c.id == collection_id:
            return c
    raise NotFound(f"There is no collection '{collection_id}'.")


def _reads_gaps(principal: Principal) -> bool:
    return permits(principal, "GET", "/ogc/collections/gaps/items")


def extent(*, session: Session, principal: Principal, collection_id: str) -> BBox:
    """The box holding the collection's features for this caller (the world when empty)."""
    if collection_id in ("offerings", "organization-locations"):
        found = organization_repo.location_extent(session, visibility_of(principal))
    else:
        own = None if collection_id == "schools" or principal.is_admin else principal.district_id
        found = school_repo.extent(session, own)
    return WORLD if found is None else BBox(*found)


def items(
    *,
    session: Session,
    principal: Principal,
    collection_id: str,
    bbox: BBox | None,
    limit: int,
    cursor: str | None,
    analysis: Analysis,
) -> FeaturePage:
    """A page of the collection's features in a fixed order, after `cursor`."""
    collection(principal=principal, collection_id=collection_id)
    page: Callable[..., FeaturePage] = _PAGES[collection_id]
    extra = {"analysis": analysis} if collection_id in PRIVATE else {}
    return page(session, principal, bbox, limit, cursor, **extra)


def item(
    *,
    session: Session,
    principal: Principal,
    collection_id: str,
    feature_id: str,
    analysis: Analysis,
) -> dict[str, Any]:
    """One feature by its id; one the caller may not see is missing."""
    collection(principal=principal, collection_id=collection_id)
    extra = {"analysis": analysis} if collection_id in PRIVATE else {}
    found = _ITEMS[collection_id](session, principal, feature_id, **extra)
    if found is None:
        raise NotFound(f"Collection '{collection_id}' has no feature '{feature_id}'.")
    return found


# --- offerings --------------------------------------------------------------------------------


def _offerings(
    session: Session, principal: Principal, bbox: BBox | None, limit: int, cursor: str | None
) -> FeaturePage:
    visibility, box = visibility_of(principal), bbox or WORLD
    after = _pair(cursor) if cursor else None
    rows = asset_repo.asset_page(session, box, [], after, limit + 1, visibility)
    more, rows = len(rows) > limit, rows[:limit]
    return FeaturePage(
        [asset_feature(r, []) for r in rows],
        asset_repo.count_assets(session, box, visibility),
        f"{rows[-1].offering_id}:{rows[-1].location_id}" if more else None,
    )


def _offering(session: Session, principal: Principal, feature_id: str) -> dict[str, Any] | None:
    key = _pair(feature_id)
    if key is None:
        return None
    # The keyset page that starts just before the key holds it first, if it exists and shows.
    before = (key[0], key[1] - 1)
    rows = asset_repo.asset_page(session, WORLD, [], before, 1, visibility_of(principal))
    if not rows or (rows[0].offering_id, rows[0].location_id) != key:
        return None
    return asset_feature(rows[0], [])


def _pair(text: str) -> tuple[int, int] | None:
    offering, _, location = text.partition(":")
    if not (_digits(offering) and _digits(location)):
        return None
    return min(int(offering), MAX_ID), min(int(location), MAX_ID)


# --- organization locations -------------------------------------------------------------------


def _locations(
    session: Session, principal: Principal, bbox: BBox | None, limit: int, cursor: str | None
) -> FeaturePage:
    visibility = visibility_of(principal)
    rows = organization_repo.location_page(session, bbox, visibility, _id(cursor), limit + 1)
    more, rows = len(rows) > limit, rows[:limit]
    return FeaturePage(
        [_location_feature(r) for r in rows],
        organization_repo.location_count(session, bbox, visibility),
        str(rows[-1].id) if more else None,
    )


def _location(session: Session, principal: Principal, feature_id: str) -> dict[str, Any] | None:
    location_id = _id(feature_id)
    if location_id is None:
        return None
    rows = organization_repo.location_page(
        session, None, visibility_of(principal), None, 1, location_id=location_id
    )
    return _location_feature(rows[0]) if rows else None


def _location_feature(r: Any) -> dict[str, Any]:
    properties = {
        "location_id": r.id,
        "organization_id": r.organization_id,
        "organization_name": r.organization_name,
        "organization_type": r.organization_type,
        "verified": r.verification == "verified",
        "name": r.name,
        "address": r.address,
        "city": r.city,
        "state": r.state,
        "postal_code": r.postal_code,
        "precision": r.precision,
    }
    return geo.point_feature(r.id, r.lat, r.lon, properties)


def _id(text: str | None) -> int | None:
    return min(int(text), MAX_ID) if text and _digits(text) else None


def _digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts '²', which int() refuses."""
    return text.isascii() and text.isdigit()


# --- schools ----------------------------------------------------------------------------------


def _schools(
    session: Session, principal: Principal, bbox: BBox | None, limit: int, cursor: str | None
) -> FeaturePage:
    filters, area = SchoolFilters(), Area(bbox=bbox)
    after = _id(cursor)
    rows = school_service.list_page(
        session=session,
        filters=filters,
        area=area,
        cursor=None if after is None else Cursor(id=after),
        limit=limit + 1,
    )
    more, schools = len(rows) > limit, [s for s, _ in rows[:limit]]
    return FeaturePage(
        [_school_feature(s) for s in schools],
        school_repo.count(session, filters, area),
        str(schools[-1].id) if more else None,
    )


def _school(session: Session, principal: Principal, feature_id: str) -> dict[str, Any] | None:
    school_id = _id(feature_id)
    if school_id is None:
        return None
    return _school_feature(school_service.get(session=session, school_id=school_id))


def _school_feature(school: Any) -> dict[str, Any]:
    """The public directory entry (what GET /v1/schools shows anyone); never needs."""
    properties = SchoolOut.model_validate(school).model_dump(
        exclude={"id", "lat", "lon", "distance_m"}
    )
    return geo.point_feature(school.id, school.lat, school.lon, properties)


# --- the gap analysis -------------------------------------------------------------------------


def _report(
    session: Session,
    principal: Principal,
    bbox: BBox | None,
    offset: int,
    limit: int,
    analysis: Analysis,
) -> GapsOut:
    """GET /v1/gaps over the schools in the box within the caller's reach (all of them)."""
    return gap_service.gaps(
        session=session,
        ranking_index=analysis.ranking_index,
        principal=principal,
        ranking=analysis.ranking,
        district=None,
        bbox=bbox,
        categories=[],
        statuses=GAP_STATUSES,
        level=DESERT_LEVEL,
        offset=offset,
        limit=limit,
    )


def _gaps(
    session: Session,
    principal: Principal,
    bbox: BBox | None,
    limit: int,
    cursor: str | None,
    *,
    analysis: Analysis,
) -> FeaturePage:
    offset = _id(cursor) or 0
    report = _report(session, principal, bbox, offset, limit, analysis)
    matched = report.summary.unmet + report.summary.thin
    return FeaturePage(
        [_gap_feature(row) for row in report.items],
        matched,
        str(offset + limit) if offset + limit < matched else None,
        str(max(0, offset - limit)) if offset else None,
    )


def _gap(
    session: Session, principal: Principal, feature_id: str, *, analysis: Analysis
) -> dict[str, Any] | None:
    need_id = _id(feature_id)
    if need_id is None:
        return None
    report = _report(session, principal, None, 0, MAX_ID, analysis)
    return next((_gap_feature(r) for r in report.items if r.need_id == need_id), None)


def _gap_feature(row: Any) -> dict[str, Any]:
    return geo.point_feature(row.need_id, row.lat, row.lon, row.model_dump(exclude={"lat", "lon"}))


def _deserts(
    session: Session,
    principal: Principal,
    bbox: BBox | None,
    limit: int,
    cursor: str | None,
    *,
    analysis: Analysis,
) -> FeaturePage:
    offset = _id(cursor) or 0
    found = _report(session, principal, bbox, 0, 1, analysis).deserts
    return FeaturePage(
        [_desert_feature(d) for d in found[offset : offset + limit]],
        len(found),
        str(offset + limit) if offset + limit < len(found) else None,
        str(max(0, offset - limit)) if offset else None,
    )


def _desert(
    session: Session, principal: Principal, feature_id: str, *, analysis: Analysis
) -> dict[str, Any] | None:
    found = _report(session, principal, None, 0, 1, analysis).deserts
    features = (_desert_feature(d) for d in found)
    return next((f for f in features if f["id"] == feature_id), None)


def _desert_feature(desert: Any) -> dict[str, Any]:
    """A desert cell; its id is `category:level-x-y` (a cell id without slashes, for URLs)."""
    level, x, y = geo.parse_cell_id(desert.cell)
    return geo.feature(
        f"{desert.category}:{level}-{x}-{y}",
        geo.cell_geometry(level, x, y),
        desert.model_dump(exclude={"bbox"}),
    )


_PAGES: dict[str, Callable[..., FeaturePage]] = {
    "offerings": _offerings,
    "organization-locations": _locations,
    "schools": _schools,
    "gaps": _gaps,
    "deserts": _deserts,
}
_ITEMS: dict[str, Callable[..., dict[str, Any] | None]] = {
    "offerings": _offering,
    "organization-locations": _location,
    "schools": _school,
    "gaps": _gap,
    "deserts": _desert,
}
