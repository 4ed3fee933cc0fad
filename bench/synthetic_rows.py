"""Bulk inserts of a synthetic catalog (bench.synthetic) for the benchmarks that need one in
the database. Core inserts, not the ORM or the API: loading 100,000 rows must not dominate
a benchmark of something else. Synthetic data is for scale only; the demo uses real records."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session
from tqdm import tqdm

import geo
from app.models import Location, Offering, Organization
from app.schemas.organizations import (
    NoServiceArea,
    PolygonServiceArea,
    RadiusServiceArea,
    ServiceArea,
)
from app.services.catalog_rows import service_area_row

BATCH = 5_000


def insert_catalog(
    session: Session, table: Any, source: str, *, service_areas: bool, progress: bool = False
) -> dict[int, int]:
    """Organizations (one location each, at their first offering), then offerings.

    service_areas: give organizations the table's service areas and verification states;
    otherwise every organization is verified and reaches by distance alone.
    Returns the table's organization numbers mapped to database ids.
    """
    numbers = sorted({int(i) for i in table.organization_ids})
    first = {int(o): i for i, o in reversed(list(enumerate(table.organization_ids)))}
    org_ids: dict[int, int] = {}
    for start in tqdm(range(0, len(numbers), BATCH), "organizations", disable=not progress):
        chunk = numbers[start : start + BATCH]
        ids = session.scalars(
            insert(Organization).returning(Organization.id, sort_by_parameter_order=True),
            [organization_row(table, k, first[k], source, service_areas) for k in chunk],
        ).all()
        org_ids.update(zip(chunk, ids, strict=True))
    session.execute(
        insert(Location),
        [
            {
                "organization_id": org_ids[k],
                "lat": float(table.lat[first[k]]),
                "lon": float(table.lon[first[k]]),
                "precision": "exact",
            }
            for k in numbers
        ],
    )
    for start in tqdm(range(0, len(table), BATCH), "offerings", disable=not progress):
        stop = min(len(table), start + BATCH)
        session.execute(
            insert(Offering), [offering_row(table, i, org_ids, source) for i in range(start, stop)]
        )
    return org_ids


def organization_row(
    table: Any, k: int, row: int, source: str, service_areas: bool
) -> dict[str, Any]:
    area: ServiceArea = NoServiceArea(kind="none")
    verified = True
    if service_areas:
        verified = bool(table.verified[row])
        if bool(table.has_service_area[row]):
            circle = geo.service_area_from_radius(
                float(table.lat[row]), float(table.lon[row]), 8_000.0, segments=24
            )
            area = PolygonServiceArea.model_validate(
                {"kind": "polygon", "geometry": geo.to_geojson(circle)}
            )
        elif not math.isnan(float(table.service_radius_km[row])):
            area = RadiusServiceArea(
                kind="radius", radius_km=round(float(table.service_radius_km[row]), 3)
            )
    return service_area_row(area) | {
        "source": source,
        "external_id": f"org-{k}",
        "name": f"Synthetic partner {k}",
        "type": "nonprofit",
        "type_inferred": False,
        "languages": [],
        "verification": "verified" if verified else "unverified",
    }


def offering_row(table: Any, i: int, org_ids: dict[int, int], source: str) -> dict[str, Any]:
    def number(value: float, kind: type) -> Any:
        return None if math.isnan(value) else kind(value)

    return {
        "organization_id": org_ids[int(table.organization_ids[i])],
        "source": source,
        "external_id": f"offering-{i}",
        "title": table.texts[i][:120],
        "description": table.texts[i],
        "categories": list(table.categories[i]),
        "grade_low": int(table.grade_low[i]),
        "grade_high": int(table.grade_high[i]),
        "schedule": sorted(table.schedule[i]),
        "delivery": sorted(table.delivery[i]),
        "languages": sorted(table.languages[i]),
        "cost": table.cost[i],
        "cost_amount": number(table.cost_amount[i], float),
        "capacity_schools": number(table.schools_left[i], int),
        "capacity_students": number(table.students_left[i], int),
        "populations": sorted(table.populations[i]),
        "active_from": table.active_from[i],
        "active_until": table.active_until[i],
    }
