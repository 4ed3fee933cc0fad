"""The CSV templates (organizations, offerings, schools) and one record of each, built and
checked with the API's own schemas and rules and mapped to its row by the API's own write path
(app.services.catalog_rows). Shared by the bulk CSV import, the API upload and the
school-directory import; app.services.import_writes writes the records."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.imports.geocode import Geocoder
from app.imports.rows import Column, validate
from app.schemas.offerings import OfferingCreate
from app.schemas.organizations import OrganizationCreate
from app.schemas.schools import SchoolCreate
from app.services.catalog_rows import (
    ORGANIZATION_FIELDS,
    SERVICE_AREA_COLUMNS,
    location_rows,
    offering_row,
    organization_row,
)
from app.services.schools import INDICATORS
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
    Column("district", help="the district's name (or a name it is known by)"),
    Column(
        "district_nces_id",
        help="NCES LEA id (7 digits): finds the district before its name does",
    ),
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
    defaults: dict[str, Any] = field(default_factory=dict)  # written on insert only


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
    keys = [k for k in ORGANIZATION_FIELDS if k in present]
    if "type" in present:
        keys.append("type_inferred")
    if any(c in present for c in _AREA_COLUMNS):
        keys += SERVICE_AREA_COLUMNS
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


# --- schools -----------------------------------------------------------------------------------


def school_record(
    line: int, v: dict[str, Any], present: Sequence[str], source: str, geocoder: Geocoder
) -> tuple[Record | None, Problems]:
    data = {c.name: v[c.name] for c in SCHOOL_COLUMNS if v.get(c.name) is not None}
    data["source"] = source
    lea = data.pop("district_nces_id", None)
    if lea is not None and not re.fullmatch(r"\d{7}", lea):
        return None, [("district_nces_id", f"'{lea}' is not a 7-digit NCES LEA id")]
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
    values["district_nces_id"] = lea  # resolved to a district by the writer
    return Record(line, values.pop("external_id"), values), []


def school_update_keys(present: Sequence[str]) -> list[str]:
    keys = [
        c.name
        for c in SCHOOL_COLUMNS
        if c.name in present and c.name not in ("external_id", "district_nces_id")
    ]
    if "district_nces_id" in present and "district" not in keys:
        keys.append("district")
    if "district" in keys:
        keys.append("district_id")
    if any(c in present for c in ("lat", "lon", "postal_code")):
        keys += [k for k in ("lat", "lon", "location_precision") if k not in keys]
    if any(c in present for c in INDICATORS):
        keys.append("need_index")
    return keys
