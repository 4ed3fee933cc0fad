"""Export the directory as an Open Referral HSDS 3.0 tabular data package (a folder of CSV files
and a datapackage.json), which `partnermap import hsds` reads back unchanged.

- organizations, locations (+ addresses, languages), services (offerings: grades as ages, cost
  as cost_options, schedule tags as schedules), service_at_location (each offering at each of
  its organization's sites), phones and contacts.
- Categories are terms of a "PartnerMap" taxonomy linked by `attributes`; so are the facts HSDS
  has no field for (organization type, coordinate precision, delivery, populations, capacity,
  active dates, service area), as `partnermap:` terms with the value in `attributes.value`.
- Ids are UUIDs: a record's external_id when it is one (a record that came from HSDS keeps its
  id), else a UUID derived from (source, external_id) or the PartnerMap id — the same on every
  export. Rows are written in a fixed order, so export -> import -> export gives the same files.
- Text cells a spreadsheet would run (=, +, -, @ first) are prefixed with an apostrophe; the
  importer strips it again.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.imports.csvfile import write_rows
from app.imports.hsds_terms import FACETS, NAMESPACE, TAXONOMY_ID, TAXONOMY_NAME, term_id
from app.models import Location, Offering, Organization
from app.repositories import imports as repo
from app.taxonomy import load_taxonomy

COLUMNS = {
    "organizations": [
        "id",
        "name",
        "alternate_name",
        "description",
        "email",
        "website",
        "tax_status",
        "tax_id",
        "year_incorporated",
        "legal_status",
        "logo",
        "uri",
        "parent_organization_id",
    ],
    "services": [
        "id",
        "organization_id",
        "program_id",
        "name",
        "alternate_name",
        "description",
        "url",
        "email",
        "status",
        "interpretation_services",
        "application_process",
        "fees_description",
        "wait_time",
        "fees",
        "accreditations",
        "eligibility_description",
        "minimum_age",
        "maximum_age",
        "assured_date",
        "assurer_email",
        "licenses",
        "alert",
        "last_modified",
    ],
    "locations": [
        "id",
        "location_type",
        "url",
        "organization_id",
        "name",
        "alternate_name",
        "description",
        "transportation",
        "latitude",
        "longitude",
        "external_identifier",
        "external_identifier_type",
    ],
    "addresses": [
        "id",
        "location_id",
        "attention",
        "address_1",
        "address_2",
        "city",
        "region",
        "state_province",
        "postal_code",
        "country",
        "address_type",
    ],
    "service_at_location": ["id", "service_id", "location_id", "description"],
    "phones": [
        "id",
        "location_id",
        "service_id",
        "organization_id",
        "contact_id",
        "service_at_location_id",
        "number",
        "extension",
        "type",
        "description",
    ],
    "contacts": [
        "id",
        "organization_id",
        "service_id",
        "service_at_location_id",
        "location_id",
        "name",
        "title",
        "department",
        "email",
    ],
    "languages": ["id", "service_id", "location_id", "phone_id", "name", "code", "note"],
    "schedules": [
        "id",
        "service_id",
        "location_id",
        "service_at_location_id",
        "valid_from",
        "valid_to",
        "dtstart",
        "timezone",
        "until",
        "count",
        "wkst",
        "freq",
        "interval",
        "byday",
        "byweekno",
        "bymonthday",
        "byyearday",
        "description",
        "opens_at",
        "closes_at",
        "schedule_link",
        "attending_type",
        "notes",
    ],
    "cost_options": [
        "id",
        "service_id",
        "valid_from",
        "valid_to",
        "option",
        "currency",
        "amount",
        "amount_description",
    ],
    "taxonomies": ["id", "name", "description", "uri", "version"],
    "taxonomy_terms": [
        "id",
        "code",
        "name",
        "description",
        "parent_id",
        "taxonomy",
        "language",
        "taxonomy_id",
        "term_uri",
    ],
    "attributes": ["id", "link_id", "taxonomy_term_id", "link_type", "link_entity", "value"],
}
WEEKDAYS = "MO,TU,WE,TH,FR"
# How each schedule tag is written; the importer's rules read each back as the same tag.
SCHEDULES = {
    "during_school": {
        "freq": "WEEKLY",
        "byday": WEEKDAYS,
        "opens_at": "08:00",
        "closes_at": "15:00",
        "description": "During the school day",
    },
    "after_school": {
        "freq": "WEEKLY",
        "byday": WEEKDAYS,
        "opens_at": "15:00",
        "closes_at": "18:00",
        "description": "After school",
    },
    "weekends": {"freq": "WEEKLY", "byday": "SA,SU", "description": "Weekends"},
    "summer": {"description": "Summer"},
}


def _uuid(*parts: Any) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def record_id(kind: str, source: str | None, external_id: str | None, pk: int) -> str:
    """The HSDS id of a record: its external_id when that is a UUID, else a stable UUID."""
    if external_id:
        try:
            return str(uuid.UUID(external_id))
        except ValueError:
            return _uuid(kind, source or "partnermap", external_id)
    return _uuid(kind, "partnermap-id", pk)


class _Package:
    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {t: [] for t in COLUMNS}

    def add(self, table: str, **row: Any) -> None:
        self.rows[table].append(row)

    def attribute(self, link_id: str, entity: str, code: str, value: Any, n: int = 0) -> None:
        self.add(
            "attributes",
            id=_uuid("attribute", link_id, code, n, value),
            link_id=link_id,
            taxonomy_term_id=term_id(code),
            link_type="partnermap",
            link_entity=entity,
            value=None if value is None else str(value),
        )


def export_hsds(*, session: Session, path: Path, sources: list[str] | None = None) -> dict:
    """Write the organizations (of the given sources, or all) and their offerings to `path`."""
    path.mkdir(parents=True, exist_ok=True)
    organizations = repo.organizations_for_export(session, sources)
    offerings = repo.offerings_for_export(session, [o.id for o in organizations])
    by_org: dict[int, list[Offering]] = {}
    for offering in offerings:
        by_org.setdefault(offering.organization_id, []).append(offering)
    package = _Package()
    _taxonomy(package)
    today = dt.date.today()
    named = sorted(
        ((record_id("organization", o.source, o.external_id, o.id), o) for o in organizations),
        key=lambda pair: pair[0],
    )
    for org_id, org in named:
        location_ids = _organization(package, org_id, org)
        services = sorted(
            (
                (record_id("service", s.source, s.external_id, s.id), s)
                for s in by_org.get(org.id, [])
            ),
            key=lambda pair: pair[0],
        )
        for service_id, offering in services:
            _service(package, service_id, org_id, offering, location_ids, today)
    counts = {}
    for table, rows in package.rows.items():
        counts[table] = write_rows(path / f"{table}.csv", COLUMNS[table], rows)
    (path / "datapackage.json").write_text(json.dumps(_datapackage(), indent=2) + "\n")
    return counts


def _taxonomy(package: _Package) -> None:
    taxonomy = load_taxonomy()
    package.add(
        "taxonomies",
        id=TAXONOMY_ID,
        name=TAXONOMY_NAME,
        description="PartnerMap school-partnership categories and PartnerMap facts "
        "that HSDS has no field for (codes starting partnermap:)",
        version=taxonomy.version,
    )
    for c in taxonomy.categories:
        package.add(
            "taxonomy_terms",
            id=term_id(c.code),
            code=c.code,
            name=c.name,
            description=c.description,
            parent_id=term_id(c.parent) if c.parent else None,
            taxonomy=TAXONOMY_NAME,
            taxonomy_id=TAXONOMY_ID,
        )
    for code, (entity, meaning) in FACETS.items():
        package.add(
            "taxonomy_terms",
            id=term_id(code),
            code=code,
            name=code.split(":", 1)[1],
            description=f"On a {entity}: {meaning}",
            taxonomy=TAXONOMY_NAME,
            taxonomy_id=TAXONOMY_ID,
        )


def _organization(package: _Package, org_id: str, org: Organization) -> list[str]:
    package.add(
        "organizations",
        id=org_id,
        name=org.name,
        description=org.description,
        email=org.email,
        website=org.website,
    )
    package.attribute(org_id, "organization", "partnermap:organization_type", org.type)
    for n, language in enumerate(org.languages):
        package.attribute(org_id, "organization", "partnermap:language", language, n)
    area = _service_area(org)
    if area:
        package.attribute(org_id, "organization", "partnermap:service_area", area)
    if org.phone:
        package.add(
            "phones",
            id=_uuid(org_id, "phone"),
            organization_id=org_id,
            number=org.phone,
            type="voice",
        )
    if org.contact_name:
        package.add(
            "contacts", id=_uuid(org_id, "contact"), organization_id=org_id, name=org.contact_name
        )
    location_ids = []
    for n, loc in enumerate(org.locations):
        location_ids.append(_location(package, _uuid(org_id, "location", n), org_id, loc, org))
    return location_ids


def _location(package: _Package, loc_id: str, org_id: str, loc: Location, org: Organization) -> str:
    package.add(
        "locations",
        id=loc_id,
        location_type="physical",
        organization_id=org_id,
        name=loc.name,
        description=loc.note,
        latitude=loc.lat,
        longitude=loc.lon,
    )
    package.attribute(loc_id, "location", "partnermap:location_precision", loc.precision)
    if loc.address or loc.city or loc.state or loc.postal_code:
        package.add(
            "addresses",
            id=_uuid(loc_id, "address"),
            location_id=loc_id,
            address_1=loc.address,
            city=loc.city,
            state_province=loc.state,
            postal_code=loc.postal_code,
            country="US",
            address_type="physical",
        )
    for n, language in enumerate(org.languages):
        package.add("languages", id=_uuid(loc_id, "language", n), location_id=loc_id, code=language)
    return loc_id


def _service(
    package: _Package,
    service_id: str,
    org_id: str,
    o: Offering,
    location_ids: list[str],
    today: dt.date,
) -> None:
    status = "inactive" if o.active_until and o.active_until < today else "active"
    package.add(
        "services",
        id=service_id,
        organization_id=org_id,
        name=o.title,
        description=o.description,
        status=status,
        fees_description=o.cost_note,
        minimum_age=o.grade_low + 5,
        maximum_age=o.grade_high + 6,
    )
    for loc_id in location_ids:
        package.add(
            "service_at_location",
            id=_uuid(service_id, loc_id),
            service_id=service_id,
            location_id=loc_id,
        )
    for n, language in enumerate(o.languages):
        package.add(
            "languages", id=_uuid(service_id, "language", n), service_id=service_id, code=language
        )
    for tag in o.schedule:
        package.add(
            "schedules",
            id=_uuid(service_id, "schedule", tag),
            service_id=service_id,
            **SCHEDULES[tag],
        )
    if o.cost == "free":
        package.add(
            "cost_options",
            id=_uuid(service_id, "cost"),
            service_id=service_id,
            option="Free",
            currency="USD",
            amount=0,
        )
    elif o.cost == "fee" and o.cost_amount is not None:
        package.add(
            "cost_options",
            id=_uuid(service_id, "cost"),
            service_id=service_id,
            option="Fee",
            currency="USD",
            amount=str(o.cost_amount),
            amount_description="per school year",
        )
    elif o.cost == "sliding_scale":
        package.add(
            "cost_options",
            id=_uuid(service_id, "cost"),
            service_id=service_id,
            option="Sliding scale",
        )
    for code in o.categories:
        package.add(
            "attributes",
            id=_uuid("attribute", service_id, code),
            link_id=service_id,
            taxonomy_term_id=term_id(code),
            link_type="category",
            link_entity="service",
        )
    facets: list[tuple[str, Any]] = [
        *(("partnermap:schedule", t) for t in o.schedule),
        *(("partnermap:delivery", d) for d in o.delivery),
        *(("partnermap:population", p) for p in o.populations),
        ("partnermap:cost", o.cost),
        ("partnermap:capacity_schools", o.capacity_schools),
        ("partnermap:capacity_students", o.capacity_students),
        ("partnermap:active_from", o.active_from and o.active_from.isoformat()),
        ("partnermap:active_until", o.active_until and o.active_until.isoformat()),
        ("partnermap:uncategorized", None if o.categories else "true"),
    ]
    for n, (code, value) in enumerate(facets):
        if value is not None:
            package.attribute(service_id, "service", code, value, n)


def _service_area(org: Organization) -> str | None:
    if org.service_area_kind == "radius":
        return json.dumps({"kind": "radius", "radius_km": org.service_radius_km})
    if org.service_area_kind == "region":
        return json.dumps({"kind": "region", "region": org.service_region})
    if org.service_area_kind == "polygon" and org.service_area:
        return json.dumps({"kind": "polygon", "geometry": org.service_area}, separators=(",", ":"))
    return None


def _datapackage() -> dict[str, Any]:
    return {
        "profile": "tabular-data-package",
        "name": "partnermap-hsds-export",
        "title": "PartnerMap directory as Open Referral HSDS 3.0",
        "resources": [
            {
                "name": table,
                "path": f"{table}.csv",
                "profile": "tabular-data-resource",
                "schema": {"fields": [{"name": c} for c in columns]},
            }
            for table, columns in COLUMNS.items()
        ],
    }
