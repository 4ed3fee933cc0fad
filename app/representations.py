"""How resources are represented to clients: JSON bodies shaped from rows, CSV tables
(RFC 4180) and GeoJSON feature collections (RFC 7946), with the OpenAPI schemas that describe
the CSV and GeoJSON forms. Routers choose a representation; this module renders it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

import geo
from app.auth.principal import Principal
from app.models import Agreement, ImportJob, Offering, Organization, Partnership
from app.schemas.agreements import AgreementOut
from app.schemas.assets import GapsOut, SchoolCoverageOut
from app.schemas.imports import ImportJobOut
from app.schemas.offerings import OfferingOut
from app.schemas.organizations import OrganizationOut, ServiceAreaOut
from app.schemas.partnerships import PartnershipOut
from app.schemas.schools import SchoolOut
from app.services import partnerships as partnership_service

CSV = "text/csv"
GEOJSON = "application/geo+json"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CONTACTS = {"email": None, "phone": None, "contact_name": None}


# --- JSON bodies from rows ---------------------------------------------------------------------


def offering_out(offering: Offering, distance_m: float | None = None) -> OfferingOut:
    columns = {c.key: getattr(offering, c.key) for c in Offering.__mapper__.column_attrs}
    return OfferingOut.model_validate(
        {**columns, "organization": offering.organization, "distance_m": distance_m}
    )


def organization_out(
    org: Organization, principal: Principal, distance_m: float | None = None
) -> OrganizationOut:
    """The organization as this caller may see it: contact details are for district people
    and the organization's own members."""
    hidden = {} if principal.sees_contacts(org.id) else CONTACTS
    columns = {c.key: getattr(org, c.key) for c in Organization.__mapper__.column_attrs}
    return OrganizationOut.model_validate(
        {
            **columns,
            **hidden,
            "locations": org.locations,
            "service_area": ServiceAreaOut(
                kind=org.service_area_kind,
                geometry=geo.display_geojson(org.service_area) if org.service_area else None,
                radius_km=org.service_radius_km,
                region=org.service_region,
            ),
            "distance_m": distance_m,
        }
    )


def job_out(job: ImportJob) -> ImportJobOut:
    report: dict[str, Any] = job.report or {}
    return ImportJobOut.model_validate(
        {
            "id": job.id,
            "kind": job.kind,
            "source": job.source,
            "filename": job.filename,
            "dry_run": job.dry_run,
            "skip_invalid": job.skip_invalid,
            "status": job.status,
            "detail": report.get("detail"),
            "rows": report.get("rows"),
            "counts": report.get("counts") or {},
            "errors": report.get("errors", 0),
            "warnings": report.get("warnings", 0),
            "by_problem": report.get("by_problem", []),
            "issues": [
                {k: i.get(k) for k in ("severity", "problem", "row", "field", "value")}
                for i in report.get("issues", [])
            ],
            "issues_truncated": report.get("issues_truncated", False),
            "created_at": job.created_at,
            "started_at": job.started_at,
            "finished_at": job.finished_at,
        }
    )


# --- GeoJSON -------------------------------------------------------------------------------------


class GeoJSONResponse(JSONResponse):
    media_type = GEOJSON


def geojson(features: list[dict[str, Any]], **members: Any) -> GeoJSONResponse:
    """A FeatureCollection with these foreign members (`next_cursor`, `summary`, ...)."""
    body = geo.feature_collection(features, **members)
    return GeoJSONResponse(jsonable_encoder(body))


def point_geometry(points: list[tuple[float | None, float | None]]) -> dict[str, Any] | None:
    """Point, MultiPoint or null geometry for (lat, lon) pairs, in RFC 7946 [lon, lat] order
    (pairs without a point, locations kept without coordinates, are left out)."""
    placed = [(lat, lon) for lat, lon in points if lat is not None and lon is not None]
    if not placed:
        return None
    if len(placed) == 1:
        lat, lon = placed[0]
        return {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}
    return {
        "type": "MultiPoint",
        "coordinates": [[round(lon, 7), round(lat, 7)] for lat, lon in placed],
    }


def offering_feature(offering: Offering, item: OfferingOut) -> dict[str, Any]:
    points = [(loc.lat, loc.lon) for loc in offering.organization.locations]
    return {
        "type": "Feature",
        "id": item.id,
        "geometry": point_geometry(points),
        "properties": jsonable_encoder(item),
    }


def organization_feature(org: OrganizationOut) -> dict[str, Any]:
    properties = jsonable_encoder(org.model_dump(exclude={"locations"}))
    geometry = point_geometry([(loc.lat, loc.lon) for loc in org.locations])
    return {"type": "Feature", "id": org.id, "geometry": geometry, "properties": properties}


def school_feature(school: SchoolOut) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": school.id,
        "geometry": point_geometry([(school.lat, school.lon)]),
        "properties": jsonable_encoder(school),
    }


def gaps_geojson(report: GapsOut) -> GeoJSONResponse:
    """One Point per school of the area with its listed needs, one Polygon per desert."""
    listed: dict[int, list[dict[str, Any]]] = {}
    for item in report.items:
        listed.setdefault(item.school_id, []).append(
            {
                "need_id": item.need_id,
                "category": item.category,
                "priority": item.priority,
                "status": item.status,
                "students_affected": item.students_affected,
                "effective_coverage": item.effective_coverage,
            }
        )
    features = [
        geo.point_feature(
            s.school_id,
            s.lat,
            s.lon,
            {
                "kind": "school",
                **s.model_dump(exclude={"lat", "lon"}),
                "needs_listed": listed.get(s.school_id, []),
            },
        )
        for s in report.schools
    ]
    for d in report.deserts:
        level, x, y = geo.parse_cell_id(d.cell)
        features.append(
            geo.feature(
                f"desert:{d.category}:{d.cell}",
                geo.cell_geometry(level, x, y),
                {"kind": "desert", **d.model_dump(exclude={"bbox"})},
            )
        )
    return geojson(
        features,
        area=report.area.model_dump(),
        summary=report.summary.model_dump(),
        thresholds=report.thresholds.model_dump(),
        model_version=report.model_version,
    )


def coverage_geojson(
    result: SchoolCoverageOut, places: Mapping[int, tuple[float, float]]
) -> GeoJSONResponse:
    """The school and each listed offering at `places` (where its reach is measured from)."""
    school = result.school
    features = [
        geo.point_feature(
            f"school:{school.id}",
            school.lat,
            school.lon,
            {
                "kind": "school",
                **school.model_dump(exclude={"lat", "lon"}),
                **result.summary.model_dump(),
            },
        )
    ]
    serves: dict[int, list[dict[str, Any]]] = {}
    listed: dict[int, Any] = {}
    for need in result.needs:
        for o in need.reaching:
            listed[o.offering_id] = o
            serves.setdefault(o.offering_id, []).append(
                {
                    "need_id": need.need_id,
                    "category": need.category,
                    "fit": o.fit,
                    "share": o.share,
                    "issue": o.issue,
                }
            )
    for offering_id in sorted(listed):
        o = listed[offering_id]
        properties = {
            "kind": "offering",
            "offering_id": offering_id,
            "title": o.title,
            "organization_id": o.organization_id,
            "organization_name": o.organization_name,
            "distance_km": o.distance_km,
            "via": o.via,
            "needs": serves[offering_id],
        }
        place = places.get(offering_id)
        if place is None:
            features.append(geo.feature(f"offering:{offering_id}", None, properties))
        else:
            lat, lon = place
            features.append(geo.point_feature(f"offering:{offering_id}", lat, lon, properties))
    return geojson(features, school_id=school.id)


# --- CSV -----------------------------------------------------------------------------------------


def csv_table(
    rows: Iterable[dict[str, Any]], columns: Sequence[str], next_url: str | None
) -> Response:
    """A CSV table (RFC 4180); lists are joined with ';', null is empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else None
    return Response(out.getvalue(), media_type=f"{CSV}; charset=utf-8", headers=headers)


def _cell(value: Any) -> Any:
    """A CSV cell: lists and mappings joined, formulas defused."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = ";".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = ";".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, str) and value[:1] in FORMULA_START:
        # Names come from the public; a spreadsheet must not run one as a formula (OWASP).
        return "'" + value
    return value


def asset_map_rows(mode: str, features: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The asset map's table: cells as they are, assets with their coordinates as columns."""
    if mode == "cells":
        return [f["properties"] for f in features]
    return [
        {
            **f["properties"],
            "lon": f["geometry"]["coordinates"][0],
            "lat": f["geometry"]["coordinates"][1],
        }
        for f in features
        if f["properties"]["kind"] == "asset"
    ]


def coverage_rows(result: SchoolCoverageOut) -> list[dict[str, Any]]:
    """One row per (need, offering); a need without offerings on a row of its own. The need's
    and the offering's `capacity_estimated` both show (the offering's with a prefix)."""
    rows: list[dict[str, Any]] = []
    for need in result.needs:
        head = need.model_dump(exclude={"reaching"})
        rows += [
            {
                **head,
                **o.model_dump(exclude={"capacity_estimated"}),
                "offering_capacity_estimated": o.capacity_estimated,
            }
            for o in need.reaching
        ] or [head]
    return rows


# --- OpenAPI forms and CSV columns of the asset map, gaps and coverage -----------------------


def csv_and_geojson(schema: dict[str, Any]) -> dict:
    """The 200 response's other media types (the route's own class gives the first)."""
    return {200: {"content": {CSV: {"schema": {"type": "string"}}, GEOJSON: {"schema": schema}}}}


def collection(feature_properties: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI schema of a FeatureCollection whose features carry these properties."""
    return {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"const": "FeatureCollection"},
            "features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "geometry", "properties"],
                    "properties": {
                        "type": {"const": "Feature"},
                        "id": {"type": ["string", "integer"]},
                        "geometry": {"type": ["object", "null"]},
                        "properties": feature_properties,
                    },
                },
            },
            **extra,
        },
    }


KIND = {"type": "object", "properties": {"kind": {"type": "string"}}, "required": ["kind"]}

ASSET_MAP_GEOJSON = collection(
    KIND,
    {
        "area": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
        "resolution": {"type": "integer"},
        "mode": {"enum": ["cells", "assets"]},
        "grid": {"type": "object"},
        "summary": {"type": "object"},
        "next_cursor": {"type": ["string", "null"]},
    },
)
CELL_COLUMNS = ("cell", "assets", "offerings", "organizations", "virtual", "by_category")
ASSET_COLUMNS = (
    "offering_id",
    "location_id",
    "lat",
    "lon",
    "organization_id",
    "organization_name",
    "verified",
    "title",
    "categories",
    "branches",
    "delivery",
    "virtual",
    "cost",
    "capacity_schools",
    "capacity_students",
    "location_precision",
    "service_area",
    "service_radius_km",
)


GAPS_GEOJSON = collection(
    KIND,
    {
        "summary": {"type": "object"},
        "area": {"type": "object"},
        "thresholds": {"type": "object"},
        "model_version": {"type": "string"},
    },
)
GAP_COLUMNS = (
    "rank",
    "school_id",
    "school_name",
    "district",
    "lat",
    "lon",
    "need_index",
    "enrollment",
    "need_id",
    "category",
    "category_name",
    "priority",
    "students_affected",
    "status",
    "effective_coverage",
    "offerings",
    "best_fit",
    "capacity_estimated",
    "met_by_partnership",
)


COVERAGE_GEOJSON = collection(KIND, {"school_id": {"type": "integer"}})
COVERAGE_COLUMNS = (
    "need_id",
    "category",
    "category_name",
    "priority",
    "students_affected",
    "status",
    "effective_coverage",
    "offerings",
    "best_fit",
    "capacity_estimated",
    "offering_id",
    "title",
    "organization_id",
    "organization_name",
    "fit",
    "share",
    "contribution",
    "distance_km",
    "via",
    "capacity_schools",
    "capacity_students",
    "offering_capacity_estimated",
    "schools_counting_on_it",
    "issue",
)


# --- partnerships ------------------------------------------------------------------------------


def partnership_outs(
    partnerships: list[Partnership], names: dict[str, dict[int, str]]
) -> list[PartnershipOut]:
    """The partnerships with their sides' names (`names`: services.partnerships.names)."""
    return [
        PartnershipOut.model_validate(
            {
                **{c.key: getattr(p, c.key) for c in Partnership.__mapper__.column_attrs},
                "school_name": names["school"][p.school_id],
                "organization_name": names["organization"][p.organization_id],
                "offering_ids": [o.id for o in p.offerings],
                "next_states": partnership_service.next_states(p.status),
            }
        )
        for p in partnerships
    ]


def agreement_out(agreement: Agreement) -> AgreementOut:
    return AgreementOut.model_validate(
        {
            **{k: getattr(agreement, k) for k in AgreementOut.model_fields if k != "fully_signed"},
            "fully_signed": partnership_service.fully_signed(agreement),
        }
    )
