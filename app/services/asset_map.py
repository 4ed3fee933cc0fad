"""Use case of the asset map: community assets by category over an area, counted per grid
cell at coarse levels and drawn one by one, with their service areas, at fine levels."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Row
from sqlalchemy.orm import Session

import geo
from app.domain_errors import NotFound
from app.filters import Visibility
from app.repositories import assets as repo
from app.schemas.assets import (
    AssetCell,
    AssetPoint,
    AssetSummary,
    ServiceAreaFeature,
)
from app.taxonomy import branch, per_distinct, within
from geo import (
    AssetColumns,
    AssetCounts,
    BBox,
    count_assets,
    padded_box,
)

# Asset map: at this grid level and finer, assets are drawn one by one with service areas.
FINE_LEVEL = 15
# A district's map area: its schools' bounding box widened by this much (a city decay scale).
DISTRICT_PAD_KM = 5.0


@dataclass(frozen=True)
class AssetMap:
    """A page of the asset map: cells (coarse) or assets and service areas (fine)."""

    area: BBox
    level: int
    mode: str  # "cells" | "assets"
    features: list[dict[str, Any]]
    summary: AssetSummary
    next_cursor: str | None


def map_area(*, session: Session, district: str | None, bbox: BBox | None) -> BBox:
    """The box to map: the one given, or the district's schools' box widened a little."""
    if bbox is not None:
        return bbox
    assert district is not None
    schools = repo.schools_in_area(session, district=district, bbox=None)
    if not schools:
        raise NotFound(f"No district with schools has the id, slug or name '{district}'.")
    return padded_box([s.lat for s in schools], [s.lon for s in schools], DISTRICT_PAD_KM)


def asset_map(
    *,
    session: Session,
    visibility: Visibility,
    area: BBox,
    categories: Sequence[str],
    level: int,
    cursor: str | None,
    limit: int,
) -> AssetMap:
    """Assets by category over the area: per grid cell below FINE_LEVEL, else one by one;
    only those of organizations the caller may see."""
    if level >= FINE_LEVEL:
        return _asset_points(session, visibility, area, categories, level, cursor, limit)
    cells = geo.cell_range(area, level)
    area = cells.bbox()
    rows = repo.assets_in_box(session, area, categories, visibility)
    x, y = geo.cell_xy([r.lat for r in rows], [r.lon for r in rows], level)
    inside = np.flatnonzero(cells.contains(x, y))
    columns, branches = _asset_columns(rows, categories)
    columns, x, y = columns.take(inside), x[inside], y[inside]
    keys, cell = np.unique(x * (1 << level) + y, return_inverse=True)
    after = int(cursor.split(":", 1)[0]) if cursor else -1
    first = int(np.searchsorted(keys, after, side="right"))
    page = keys[first : first + limit]
    counts = count_assets(columns, cell.ravel(), len(keys), len(branches))
    features = []
    for position, key in enumerate(page.tolist(), start=first):
        cx, cy = key >> level, key & ((1 << level) - 1)
        name = geo.cell_id(level, cx, cy)
        properties = AssetCell(cell=name, **_summary_of(counts, position, branches).model_dump())
        features.append(
            geo.feature(name, geo.cell_geometry(level, cx, cy), properties.model_dump())
        )
    next_cursor = str(int(page[-1])) if first + limit < len(keys) else None
    return AssetMap(area, level, "cells", features, _total(columns, branches), next_cursor)


def _asset_points(
    session: Session,
    visibility: Visibility,
    area: BBox,
    categories: Sequence[str],
    level: int,
    cursor: str | None,
    limit: int,
) -> AssetMap:
    after = _asset_cursor(cursor)
    page = repo.asset_page(session, area, categories, after, limit + 1, visibility)
    more = len(page) > limit
    page = page[:limit]
    features = [asset_feature(r, categories) for r in page]
    features += _service_area_features(session, area, categories, page, after)
    next_cursor = f"{page[-1].offering_id}:{page[-1].location_id}" if more else None
    columns, branches = _asset_columns(
        repo.assets_in_box(session, area, categories, visibility), categories
    )
    return AssetMap(area, level, "assets", features, _total(columns, branches), next_cursor)


def _branches(codes: Sequence[str], categories: Sequence[str]) -> tuple[str, ...]:
    """Top-level branches of the offering's categories (only those within the filter)."""
    return tuple(sorted({branch(c) for c in codes if within(c, categories)}))


def _asset_columns(
    rows: Sequence[Row[Any]], categories: Sequence[str]
) -> tuple[AssetColumns, list[str]]:
    """Assets as columns, each paired with the top-level branches it counts in."""
    per = per_distinct([tuple(r.categories) for r in rows], lambda c: _branches(c, categories))
    branches = sorted(set(itertools.chain.from_iterable(per)))
    index = {b: i for i, b in enumerate(branches)}
    lengths = np.fromiter((len(p) for p in per), dtype=np.intp, count=len(per))
    columns = AssetColumns(
        offering=np.array([r.offering_id for r in rows], dtype=np.int64),
        organization=np.array([r.organization_id for r in rows], dtype=np.int64),
        virtual=np.array(["virtual" in r.delivery for r in rows], dtype=bool),
        pair_asset=np.repeat(np.arange(len(rows)), lengths),
        pair_category=np.array(
            [index[b] for b in itertools.chain.from_iterable(per)], dtype=np.intp
        ),
    )
    return columns, branches


def _summary_of(counts: AssetCounts, g: int, branches: list[str]) -> AssetSummary:
    return AssetSummary(
        assets=int(counts.assets[g]),
        offerings=int(counts.offerings[g]),
        organizations=int(counts.organizations[g]),
        virtual=int(counts.virtual[g]),
        by_category={b: int(n) for b, n in zip(branches, counts.by_category[g], strict=True) if n},
    )


def _total(columns: AssetColumns, branches: list[str]) -> AssetSummary:
    counts = count_assets(columns, np.zeros(len(columns), dtype=np.intp), 1, len(branches))
    return _summary_of(counts, 0, branches)


def _asset_cursor(cursor: str | None) -> tuple[int, int] | None:
    if not cursor:
        return None
    offering, _, location = cursor.partition(":")
    return min(int(offering), 2**31 - 1), min(int(location or 0), 2**31 - 1)


def asset_feature(r: Row[Any], categories: Sequence[str]) -> dict[str, Any]:
    """An asset row of `asset_page` as a Point feature (id `offering:location`)."""
    properties = AssetPoint(
        offering_id=r.offering_id,
        location_id=r.location_id,
        organization_id=r.organization_id,
        organization_name=r.organization_name,
        verified=r.verification == "verified",
        title=r.title,
        categories=r.categories,
        branches=_branches(r.categories, categories),
        delivery=r.delivery,
        virtual="virtual" in r.delivery,
        cost=r.cost,
        capacity_schools=r.capacity_schools,
        capacity_students=r.capacity_students,
        location_precision=r.precision,
        service_area=r.service_area_kind,
        service_radius_km=r.service_radius_km,
    )
    return geo.point_feature(
        f"{r.offering_id}:{r.location_id}", r.lat, r.lon, properties.model_dump()
    )


def _service_area_features(
    session: Session,
    area: BBox,
    categories: Sequence[str],
    page: list[Row[Any]],
    after: tuple[int, int] | None,
) -> list[dict[str, Any]]:
    """Declared areas of the organizations whose first asset (in page order) is on this
    page, so each appears once however the map is paged."""
    org_ids = sorted(
        {r.organization_id for r in page if r.service_area_kind in ("polygon", "radius")}
    )
    firsts = repo.first_asset_keys(session, area, categories, org_ids)
    start = after or (0, 0)
    new = [o for o in org_ids if o in firsts and firsts[o] > start]
    rows = repo.service_areas(session, new)
    radius_orgs = [r.id for r in rows if r.service_area_kind == "radius"]
    locations = repo.locations_of(session, radius_orgs)
    features = []
    for r in rows:
        if r.service_area_kind == "polygon":
            geometry = geo.display_geojson(r.service_area)  # without the densified vertices
        else:
            circles = [
                geo.service_area_from_radius(lat, lon, r.service_radius_km * 1000.0, segments=32)
                for lat, lon in locations.get(r.id, [])
            ]
            if not circles:
                continue
            geometry = geo.to_geojson(_union(circles))
        properties = ServiceAreaFeature(
            organization_id=r.id,
            organization_name=r.name,
            area_kind=r.service_area_kind,
            radius_km=r.service_radius_km,
        )
        features.append(geo.feature(f"service_area:{r.id}", geometry, properties.model_dump()))
    return features


def _union(parts: list[Any]) -> Any:
    import shapely
    from shapely import MultiPolygon, Polygon

    merged = shapely.union_all(parts)
    return MultiPolygon([p for p in shapely.get_parts(merged) if isinstance(p, Polygon)])
