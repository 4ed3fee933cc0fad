"""One CSV record of each template (organizations, offerings, schools) built and checked with the
API's own schemas and rules, and the batched write of checked records. Shared by the bulk CSV
import, the API upload and the school-directory import."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.imports.geocode import Geocoder
from app.imports.report import Counts, ImportReport
from app.imports.rows import Column, validate
from app.models import Offering, School
from app.repositories import imports as repo
from app.schemas.offerings import OfferingCreate
from app.schemas.organizations import OrganizationCreate
from app.schemas.schools import SchoolCreate
from app.services.catalog_rows import location_rows, offering_row, organization_row
from app.services.districts import ids_for_names
from app.services.schools import INDICATORS, need_indexes
from app.services.validation import Broken, offering_rules, reversed_grades

Problems = list[tuple[str, str]]

ORGANIZATION_COLUMNS = (
    Column("external_id", required=True, help="your id for it; re-imports update by it"),
    Column("name", required=True),
    Column(
        "type",
        required=True,
        help="nonprofit, business, higher_education, faith_based, government or community_group",
    ),
    Column("description"),
    Column("website", help="https://…"),
    Column("email"),
    Column("phone"),
    Column("contact_name"),
    Column("languages", "list", help="ISO 639-1 codes separated by ';', e.g. en;es"),
    Column("location_name"),
    Column("address"),
    Column("city"),
    Column("state"),
    Column("postal_code", help="a US ZIP code locates the record when lat/lon are empty"),
    Column("lat", "float"),
    Column("lon", "float"),
    Column("service_area", help="none, radius or region"),
    Column("service_radius_km", "float"),
    Column("service_region"),
)
OFFERING_COLUMNS = (
    Column("external_id", required=True, help="your id for it; re-imports update by it"),
    Column("organization_external_id", help="external_id of its organization (same source)"),
    Column("organization_id", "int", help="or the organization's PartnerMap id"),
    Column("title", required=True),
    Column("description"),
    Column("categories", "list", required=True, help="codes from GET /v1/taxonomy, ';'"),
    Column("grade_low", "grade", required=True, help="PK, TK, K or 1..12"),
    Column("grade_high", "grade", required=True),
    Column("schedule", "list", help="during_school;after_school;weekends;summer"),
    Column("delivery", "list", help="at_school;at_partner_site;virtual"),
    Column("languages", "list"),
    Column("cost", help="free, sliding_scale or fee"),
    Column("cost_amount", "float", help="USD per school-year (required for fee)"),
    Column("cost_note"),
    Column("capacity_schools", "int"),
    Column("capacity_students", "int"),
    Column("populations", "list"),
    Column("active_from", "date", help="YYYY-MM-DD"),
    Column("active_until", "date"),
)
SCHOOL_COLUMNS = (
    Column("external_id", required=True, help="your id for it; re-imports update by it"),
    Column("name", required=True),
    Column("nces_id", help="12-digit NCES school id (keep leading zeros)"),
    Column("state_id"),
    Column("district"),
    Column("address"),
    Column("city"),
    Column("state"),
    Column("postal_code"),
    Column("lat", "float"),
    Column("lon", "float"),
    Column("grade_low", "grade", required=True),
    Column("grade_high", "grade", required=True),
    Column("enrollment", "int"),
    Column("frl_pct", "float"),
    Column("title_i", "bool"),
    Column("el_pct", "float"),
    Column("swd_pct", "float"),
    Column("chronic_absence_pct", "float"),
    Column("locale", help="city, suburb, town or rural"),
    Column("languages", "list"),
)
COLUMNS = {
    "organizations": ORGANIZATION_COLUMNS,
    "offerings": OFFERING_COLUMNS,
    "schools": SCHOOL_COLUMNS,
}

_LOCATION_COLUMNS = ("location_name", "address", "city", "state", "postal_code", "lat", "lon")
_AREA_COLUMNS = ("service_area", "service_radius_km", "service_region")


@dataclass
class Record:
    line: int
    external_id: str
    values: dict[str, Any]
    locations: list[dict[str, Any]] | None = None
    organization_ref: str | int | None = None


def locate(
    values: dict[str, Any], geocoder: Geocoder, *, lat_key: str = "lat", lon_key: str = "lon"
) -> tuple[dict[str, Any] | None, Problems]:
    """lat/lon as given, or found from the address (approximate); problems when neither works."""
    lat, lon = values.get(lat_key), values.get(lon_key)
    if lat is not None and lon is not None:
        return {"lat": lat, "lon": lon, "precision": "exact", "note": None}, []
    if (lat is None) != (lon is None):
        missing = lon_key if lon is None else lat_key
        return None, [(missing, "give both lat and lon, or neither (then the ZIP code is used)")]
    place = geocoder.locate(
        address=values.get("address"),
        city=values.get("city"),
        state=values.get("state"),
        postal_code=values.get("postal_code"),
    )
    if place is None:
        code = values.get("postal_code")
        why = f"ZIP code '{code}' is not in the offline table" if code else "no ZIP code"
        return None, [(lat_key, f"no coordinates, and none could be found ({why})")]
    return {
        "lat": place.lat,
        "lon": place.lon,
        "precision": place.precision,
        "note": place.note,
    }, []


# --- organizations -----------------------------------------------------------------------------


def organization_record(
    line: int, v: dict[str, Any], present: Sequence[str], source: str, geocoder: Geocoder
) -> tuple[Record | None, Problems]:
    data: dict[str, Any] = {
        key: v.get(key)
        for key in ("name", "type", "description", "website", "email", "phone", "contact_name")
    }
    data["languages"] = v.get("languages") or []
    data["source"], data["external_id"] = source, v.get("external_id")
    problems: Problems = []
    if any(v.get(c) is not None for c in _LOCATION_COLUMNS):
        where, problems = locate(v, geocoder)
        if where is not None:
            data["locations"] = [
                {
                    "name": v.get("location_name"),
                    "address": v.get("address"),
                    "city": v.get("city"),
                    "state": v.get("state"),
                    "postal_code": v.get("postal_code"),
                    **where,
                }
            ]
    kind = v.get("service_area") or (
        "radius"
        if v.get("service_radius_km") is not None
        else "region"
        if v.get("service_region")
        else "none"
    )
    area: dict[str, Any] = {"kind": kind}
    if kind == "radius":
        area["radius_km"] = v.get("service_radius_km")
    elif kind == "region":
        area["region"] = v.get("service_region")
    elif kind == "polygon":
        problems.append(("service_area", "polygons cannot be given in CSV; use the API"))
    data["service_area"] = area
    model, errors = validate(OrganizationCreate, data, _organization_column)
    problems += errors
    if model is None or problems:
        return None, problems
    assert isinstance(model, OrganizationCreate)
    values = organization_row(model) | {"type_inferred": False}
    locations = None
    if any(c in present for c in _LOCATION_COLUMNS):
        locations = location_rows(model.locations)
    return Record(line, model.external_id or "", values, locations), []


def organization_update_keys(present: Sequence[str]) -> list[str]:
    keys = [
        k
        for k in ("name", "description", "website", "email", "phone", "contact_name", "languages")
        if k in present
    ]
    if "type" in present:
        keys += ["type", "type_inferred"]
    if any(c in present for c in _AREA_COLUMNS):
        keys += ["service_area_kind", "service_area", "service_radius_km", "service_region"]
    return keys


def _organization_column(loc: tuple[Any, ...]) -> str:
    if not loc:
        return "record"
    if loc[0] == "locations":
        field = loc[2] if len(loc) > 2 else "lat"
        return "location_name" if field == "name" else str(field)
    if loc[0] == "service_area":
        if len(loc) > 2:
            return {"radius_km": "service_radius_km", "region": "service_region"}.get(
                str(loc[2]), "service_area"
            )
        return "service_area"
    return str(loc[0])


def write_organizations(
    session: Session, source: str, records: list[Record], update_keys: Sequence[str]
) -> Counts:
    return repo.upsert_organizations(
        session,
        source,
        [repo.OrganizationRecord(r.external_id, r.values, r.locations) for r in records],
        update_keys,
    )


# --- offerings ---------------------------------------------------------------------------------

_OFFERING_FIELDS = tuple(
    c.name
    for c in OFFERING_COLUMNS
    if c.name not in ("organization_external_id", "organization_id")
)


def offering_record(
    line: int, v: dict[str, Any], present: Sequence[str], source: str
) -> tuple[Record | None, Problems]:
    data = {k: v[k] for k in _OFFERING_FIELDS if v.get(k) is not None}
    data["source"] = source
    model, problems = validate(OfferingCreate, data)
    ref: str | int | None = v.get("organization_external_id") or v.get("organization_id")
    if ref is None:
        problems.append(
            ("organization_external_id", "give organization_external_id or organization_id")
        )
    if model is None or problems:
        return None, problems
    assert isinstance(model, OfferingCreate)
    problems = rule_problems(offering_rules(model))
    if problems:
        return None, problems
    values = offering_row(model.model_dump(exclude={"source"}))
    return Record(line, values.pop("external_id"), values, organization_ref=ref), []


def rule_problems(broken: list[Broken]) -> Problems:
    """Broken rules of app.services.validation as (field, problem) pairs."""
    return [(str(b.loc[0]), b.message) for b in broken]


def offering_update_keys(present: Sequence[str]) -> list[str]:
    keys = [k for k in _OFFERING_FIELDS if k in present and k != "external_id"]
    if "organization_external_id" in present or "organization_id" in present:
        keys.append("organization_id")
    return keys


def write_offerings(
    session: Session,
    source: str,
    records: list[Record],
    update_keys: Sequence[str],
    report: ImportReport,
    organization_source: str | None = None,
) -> Counts:
    """Resolve each offering's organization, then upsert; unknown organizations are errors."""
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
    counts = repo.upsert_rows(session, Offering, source, rows, update_keys)
    counts.skipped += skipped
    return counts


# --- schools -----------------------------------------------------------------------------------


def school_record(
    line: int, v: dict[str, Any], present: Sequence[str], source: str, geocoder: Geocoder
) -> tuple[Record | None, Problems]:
    data = {c.name: v[c.name] for c in SCHOOL_COLUMNS if v.get(c.name) is not None}
    data["source"] = source
    where, problems = locate(v, geocoder)
    if where is not None:
        data["lat"], data["lon"] = where["lat"], where["lon"]
        data["location_precision"] = where["precision"]
    model, errors = validate(SchoolCreate, data)
    problems += [e for e in errors if not (where is None and e[0] in ("lat", "lon"))]
    if model is None or problems:
        return None, problems
    assert isinstance(model, SchoolCreate)
    broken = reversed_grades(model.grade_low, model.grade_high)
    if broken:
        return None, rule_problems([broken])
    values = model.model_dump(exclude={"source"})
    return Record(line, values.pop("external_id"), values), []


def school_update_keys(present: Sequence[str]) -> list[str]:
    keys = [c.name for c in SCHOOL_COLUMNS if c.name in present and c.name != "external_id"]
    if "district" in keys:
        keys.append("district_id")
    if any(c in present for c in ("lat", "lon", "postal_code")):
        keys += [k for k in ("lat", "lon", "location_precision") if k not in keys]
    if any(c in present for c in INDICATORS):
        keys.append("need_index")
    return keys


def write_schools(
    session: Session,
    source: str,
    records: list[Record],
    update_keys: Sequence[str],
    report: ImportReport,
    district: str | None = None,
) -> Counts:
    """Upsert schools with their need index and district (by name; new names add districts);
    an NCES id held by another record is an error. With `district` (a district's own upload)
    every school must be in it: rows naming another, or updating another's school, are
    errors, and rows naming none are put in it."""
    if district is not None:
        records = _own_district(session, source, records, district, report)
    taken = repo.nces_ids_taken(
        session, source, [(r.values.get("nces_id"), r.external_id) for r in records]
    )
    kept, skipped = [], 0
    for r in records:
        holder = taken.get(r.values.get("nces_id") or "")
        if holder:
            report.error(
                f"NCES id {r.values['nces_id']} already belongs to school '{holder[1]}' of "
                f"source '{holder[0]}'",
                row=r.line,
                field="nces_id",
            )
            skipped += 1
        else:
            kept.append(r)
    index = need_indexes([r.values for r in kept])
    district_ids = ids_for_names(session, [r.values.get("district") for r in kept])
    rows = [
        {
            **r.values,
            "external_id": r.external_id,
            "need_index": value,
            "district_id": district_ids.get(r.values.get("district") or ""),
        }
        for r, value in zip(kept, index, strict=True)
    ]
    counts = repo.upsert_rows(session, School, source, rows, update_keys)
    counts.skipped += skipped
    return counts


def _own_district(
    session: Session, source: str, records: list[Record], district: str, report: ImportReport
) -> list[Record]:
    owners = repo.school_districts(session, source, [r.external_id for r in records])
    kept = []
    for r in records:
        named = r.values.get("district")
        if (named and named != district) or (
            r.external_id in owners and owners[r.external_id] != district
        ):
            report.error(
                f"schools can be imported into your own district ({district}) only",
                row=r.line,
                field="district",
            )
            report.count("schools").skipped += 1
            continue
        r.values["district"] = district
        kept.append(r)
    return kept
