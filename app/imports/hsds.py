"""Import an Open Referral HSDS directory: organizations -> organizations, services ->
offerings, locations (with addresses and coordinates) -> locations, taxonomy terms -> categories.

What maps to what (HSDS 3.0 names; see app/data/README.md for the full table):
- organization: name, description, email, website; phone and contact name from the first
  phone/contact linked to it; languages from its locations; type is not in HSDS, so it is
  inferred as `nonprofit` (type_inferred) unless a PartnerMap attribute says otherwise.
- location (physical ones; virtual and postal ones hold no site): name, description -> note,
  latitude/longitude, and the physical (else postal) address. No usable coordinates: the US ZIP
  code gives approximate ones (app.imports.geocode); neither: the location is left out, with a
  warning.
- service -> offering, when its taxonomy terms map to at least one category (hsds_terms) and it
  is active: name -> title, description, languages, grades from minimum/maximum_age (grade =
  age - 5 for the lowest, age - 6 for the highest, clipped to PK..12; a service only for ages
  over 18 or under 3 is left out), schedule from its schedules (weekend days, opening at or after
  15:00 = after school, before = during school, "summer" in the text), delivery from its
  locations (virtual / at the partner's site), cost from cost_options (all amounts 0 = free),
  fees_description -> cost_note.
- attributes with PartnerMap terms (our own exports) carry what HSDS has no field for, and win.

Problems with a whole record (no name, an unknown organization, a formula cell) are errors:
nothing is written unless invalid records are skipped. Problems with one optional value (a
malformed email, a too-long description) are warnings: the value is dropped or shortened.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from tqdm import tqdm

import geo
from app.imports import records as rec
from app.imports.bulk_csv import BATCH_SIZE
from app.imports.csvfile import FileProblem
from app.imports.geocode import Geocoder, default_geocoder
from app.imports.hsds_read import Row, Tables, read
from app.imports.hsds_terms import TermMap, language_code
from app.imports.report import ImportReport
from app.imports.rows import CellError, text_cell
from app.schemas.offerings import OfferingCreate
from app.schemas.organizations import OrganizationCreate
from app.services import import_writes as writes
from app.services.catalog_rows import (
    ORGANIZATION_FIELDS,
    SERVICE_AREA_COLUMNS,
    location_rows,
    offering_row,
    organization_row,
)
from app.services.validation import offering_rules
from matching.vocab import DELIVERIES, SCHEDULES

ORGANIZATION_OPTIONAL = {"description", "website", "email", "phone", "contact_name", "languages"}
OFFERING_OPTIONAL = {
    "description",
    "languages",
    "cost_note",
    "schedule",
    "delivery",
    "populations",
    "capacity_schools",
    "capacity_students",
}
ORGANIZATION_KEYS = [k for k in ORGANIZATION_FIELDS if k != "type"]  # HSDS has no type
PARTNERMAP_ORGANIZATION_KEYS = [*ORGANIZATION_KEYS, "type", "type_inferred", *SERVICE_AREA_COLUMNS]
OFFERING_KEYS = [
    "title",
    "description",
    "categories",
    "grade_low",
    "grade_high",
    "schedule",
    "delivery",
    "languages",
    "cost",
    "cost_amount",
    "cost_note",
]
PARTNERMAP_OFFERING_KEYS = [
    *OFFERING_KEYS,
    "capacity_schools",
    "capacity_students",
    "populations",
    "active_from",
    "active_until",
    "organization_id",
]
# An uncategorized service is checked as an offering of this category, then stored with none.
STAND_IN_CATEGORY = "stem"
AFTER_SCHOOL_FROM = 15 * 60  # minutes after midnight
_TIME = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?(?::\d{2})?\s*([ap]\.?m\.?)?\s*$", re.I)
_DAYS = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"}


class RecordError(Exception):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field, self.problem = field, problem


def default_source(path: Path) -> str:
    return f"hsds:{path.stem if path.is_file() else path.name}"[:64]


def import_hsds(
    *,
    session: Session,
    path: Path,
    source: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    encoding: str = "utf-8",
    progress: bool = False,
    geocoder: Geocoder | None = None,
) -> ImportReport:
    """Upsert an HSDS directory's organizations and offerings in one transaction."""
    source = source or default_source(path)
    report = ImportReport(kind="hsds", source=source, dry_run=dry_run, skip_invalid=skip_invalid)
    try:
        tables = read(path, encoding=encoding)
    except FileProblem as exc:
        report.fail(f"the directory cannot be imported: {exc}")
        return writes.finish(session, report, catalog=True)
    report.notes["layout"] = tables.layout
    if tables.ignored:
        report.notes["files not used"] = ", ".join(tables.ignored)
    directory = Directory(tables, geocoder or default_geocoder(), report)
    total = len(tables.get("organizations")) + len(tables.get("services"))
    bar = tqdm(
        total=total,
        unit="rec",
        desc="import hsds",
        file=sys.stderr,
        disable=not progress,
        mininterval=0.5,
    )
    try:
        organizations = []
        for row in tables.get("organizations"):
            report.rows += 1
            record = directory.organization(row)
            if record is None:
                report.count("organizations").skipped += 1
            else:
                organizations.append(record)
            bar.update()
        imported = {r.external_id for r, _ in organizations}
        offerings: dict[bool, list[rec.Record]] = {True: [], False: []}
        for row in tables.get("services"):
            report.rows += 1
            made = directory.offering(row, imported)
            if made is None:
                report.count("offerings").skipped += 1
            else:
                offerings[made[1]].append(made[0])
            bar.update()
        # Every record is read and checked before the first write, so the write lock (one
        # writer at a time on SQLite) is held for the writes only.
        for start in range(0, len(organizations), BATCH_SIZE):
            chunk = organizations[start : start + BATCH_SIZE]
            for pm in (True, False):
                part = [r for r, from_partnermap in chunk if from_partnermap == pm]
                keys = PARTNERMAP_ORGANIZATION_KEYS if pm else ORGANIZATION_KEYS
                if part:
                    report.count("organizations").add(
                        writes.write_organizations(session, source, part, keys)
                    )
        for pm, found in offerings.items():
            keys = PARTNERMAP_OFFERING_KEYS if pm else OFFERING_KEYS
            for start in range(0, len(found), BATCH_SIZE):
                report.count("offerings").add(
                    writes.write_offerings(
                        session, source, found[start : start + BATCH_SIZE], keys, report
                    )
                )
        report.unmapped_terms.update(directory.unmapped)
        located = directory.located
        if located:
            report.notes["locations placed by ZIP code"] = located
        if directory.unplaced:
            report.notes["locations kept without a point"] = directory.unplaced
        if directory.uncategorized:
            report.notes["offerings kept uncategorized (not ranked)"] = directory.uncategorized
    except DBAPIError as exc:
        report.fail(writes.refusal(exc))
    finally:
        bar.close()
    return writes.finish(session, report, catalog=True)


class Directory:
    """One HSDS directory's tables, indexed, turned into PartnerMap records."""

    def __init__(self, tables: Tables, geocoder: Geocoder, report: ImportReport) -> None:
        self.t = tables
        self.geocoder = geocoder
        self.report = report
        self.terms = TermMap({str(r["id"]): r for r in tables.get("taxonomy_terms")})
        self.attributes = tables.index("attributes", "link_id")
        self.addresses = tables.index("addresses", "location_id")
        self.languages_by_service = tables.index("languages", "service_id")
        self.languages_by_location = tables.index("languages", "location_id")
        self.phones = tables.index("phones", "organization_id")
        self.contacts = tables.index("contacts", "organization_id")
        self.schedules = tables.index("schedules", "service_id")
        self.cost_options = tables.index("cost_options", "service_id")
        self.sal_by_service = tables.index("service_at_location", "service_id")
        self.sal_by_location = tables.index("service_at_location", "location_id")
        self.locations = {str(r["id"]): r for r in tables.get("locations")}
        self.services = {str(r["id"]): r for r in tables.get("services")}
        self.org_ids = {str(r.get("id")) for r in tables.get("organizations")}
        self.unmapped: Counter[str] = Counter()
        self.located = 0
        self.unplaced = 0
        self.uncategorized = 0
        self._org_locations = self._assign_locations()

    # --- shared pieces ---------------------------------------------------------------------

    def _where(self, row: Row, kind: str) -> dict[str, Any]:
        return {
            "file": row.get("_file"),
            "row": row.get("_row"),
            "record": f"{kind} {row.get('id')}",
        }

    def _text(self, row: Row, column: str, *, field: str | None = None) -> str | None:
        value = row.get(column)
        if value is None or isinstance(value, (dict, list)):
            return None
        try:
            return text_cell(column, str(value))
        except CellError as exc:
            raise RecordError(field or column, exc.problem) from None

    def facets(self, record_id: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for attr in self.attributes.get(record_id, []):
            code = self.terms.facet(str(attr.get("taxonomy_term_id") or ""))
            if code:
                out.setdefault(code, []).append(str(attr.get("value") or ""))
        return out

    def _lenient(
        self,
        model: type[BaseModel],
        data: dict[str, Any],
        optional: set[str],
        where: dict[str, Any],
    ) -> BaseModel | None:
        """Validate with the API schema; a bad optional value is dropped (or a too-long text
        shortened) with a warning, anything else is an error for the record."""
        for _ in range(10):
            try:
                return model.model_validate(data)
            except ValidationError as exc:
                hard = []
                for err in exc.errors():
                    loc = tuple(err.get("loc", ()))
                    if loc and loc[0] in optional:
                        self.report.warn(_repair(data, loc, err), field=_dotted(loc), **where)
                    else:
                        hard.append(err)
                for list_field in optional:
                    if isinstance(data.get(list_field), list):
                        data[list_field] = [v for v in data[list_field] if v is not None]
                if hard:
                    for err in hard:
                        self.report.error(str(err.get("msg")), field=_dotted(err["loc"]), **where)
                    return None
        return None

    # --- organizations and locations -------------------------------------------------------

    def _assign_locations(self) -> dict[str, list[Row]]:
        """Each location goes to its organization, or (when that is not in the file) to the
        organization of the services at it."""
        out: dict[str, list[Row]] = {}
        for loc in self.t.get("locations"):
            owner = str(loc.get("organization_id") or "")
            if owner not in self.org_ids:
                owners = {
                    str(self.services[str(s.get("service_id"))].get("organization_id"))
                    for s in self.sal_by_location.get(str(loc.get("id")), [])
                    if str(s.get("service_id")) in self.services
                }
                owners &= self.org_ids
                if len(owners) != 1:
                    self.report.warn(
                        "its organization is not in the directory; location left out",
                        **self._where(loc, "location"),
                    )
                    continue
                owner = owners.pop()
            out.setdefault(owner, []).append(loc)
        return out

    def organization(self, row: Row) -> tuple[rec.Record, bool] | None:
        oid = str(row.get("id") or "")
        where = self._where(row, "organization")
        if not oid:
            self.report.error("no id", field="id", **where)
            return None
        try:
            facets = self.facets(oid)
            pm = bool(facets)
            phone = next(iter(self.phones.get(oid, [])), None)
            contact = next(iter(self.contacts.get(oid, [])), None)
            found = [loc for r in self._org_locations.get(oid, []) if (loc := self._location(r))]
            # a location without a point is kept beside the checked ones (no schema has it)
            locations = [loc for loc in found if loc["lat"] is not None]
            unplaced = [loc for loc in found if loc["lat"] is None]
            if "partnermap:language" in facets:
                languages = [v for v in facets["partnermap:language"] if v]
            else:
                languages = _unique(
                    language_code(lang.get("name"), lang.get("code"))
                    for r in self._org_locations.get(oid, [])
                    for lang in self.languages_by_location.get(str(r.get("id")), [])
                )
            data: dict[str, Any] = {
                "name": self._text(row, "name"),
                "type": (facets.get("partnermap:organization_type") or ["nonprofit"])[0],
                "description": self._text(row, "description"),
                "website": self._text(row, "website") or self._text(row, "url"),
                "email": self._text(row, "email"),
                "phone": self._text(phone, "number", field="phone") if phone else None,
                "contact_name": self._text(contact, "name", field="contact_name")
                if contact
                else None,
                "languages": languages,
                "locations": locations,
                "service_area": _service_area(facets),
                "external_id": oid,
            }
        except RecordError as exc:
            self.report.error(exc.problem, field=exc.field, **where)
            return None
        model = self._lenient(OrganizationCreate, data, ORGANIZATION_OPTIONAL, where)
        if model is None:
            return None
        assert isinstance(model, OrganizationCreate)
        try:
            row = organization_row(model)
        except geo.GeometryError as exc:
            self.report.error(exc.reason, field="service_area", **where)
            return None
        values = {key: row.pop(key) for key in ORGANIZATION_KEYS}
        defaults = row | {"type_inferred": "partnermap:organization_type" not in facets}
        if pm:
            values |= defaults
        record = rec.Record(
            row.get("_row") or 0,
            oid,
            values,
            location_rows(model.locations) + unplaced,
            defaults=defaults,
        )
        return record, pm

    def _location(self, row: Row) -> dict[str, Any] | None:
        if str(row.get("location_type") or "physical").lower() != "physical":
            return None
        where = self._where(row, "location")
        addresses = self.addresses.get(str(row.get("id")), [])
        address = next(
            (a for a in addresses if str(a.get("address_type") or "physical") == "physical"),
            next(iter(addresses), None),
        )
        try:
            fields = {
                "name": self._text(row, "name"),
                "note": self._text(row, "description", field="note"),
            }
            if address:
                line = ", ".join(
                    p
                    for p in (
                        self._text(address, "address_1", field="address"),
                        self._text(address, "address_2", field="address"),
                    )
                    if p
                )
                fields |= {
                    "address": line or None,
                    "city": self._text(address, "city"),
                    "state": self._text(address, "state_province", field="state"),
                    "postal_code": self._text(address, "postal_code"),
                }
        except RecordError as exc:
            self.report.warn(f"{exc.problem}; location left out", field=exc.field, **where)
            return None
        facets = self.facets(str(row.get("id")))
        lat, lon = _coordinate(row.get("latitude"), 90), _coordinate(row.get("longitude"), 180)
        precision = (facets.get("partnermap:location_precision") or ["exact"])[0]
        if lat is None or lon is None:
            place = self.geocoder.locate(
                address=fields.get("address"),
                city=fields.get("city"),
                state=fields.get("state"),
                postal_code=fields.get("postal_code"),
            )
            if place is None:
                given = f"latitude {row.get('latitude')!r}, longitude {row.get('longitude')!r}"
                self.report.warn(
                    f"no usable coordinates ({given}) and no US ZIP code to place it by; "
                    "location kept without a point (not on maps, not used for reach)",
                    field="latitude",
                    **where,
                )
                self.unplaced += 1
            else:
                lat, lon, precision = place.lat, place.lon, place.precision
                fields["note"] = _join_note(fields.get("note"), place.note)
                self.located += 1
        for key, limit in (
            ("name", 300),
            ("address", 300),
            ("city", 120),
            ("state", 64),
            ("postal_code", 20),
            ("note", 2000),
        ):
            value = fields.get(key)
            if value and len(value) > limit:
                self.report.warn(f"longer than {limit} characters; shortened", field=key, **where)
                fields[key] = value[:limit]
        if lat is None or lon is None:
            return {**fields, "lat": None, "lon": None, "precision": "none"}
        return {
            **fields,
            "lat": lat,
            "lon": lon,
            "precision": precision if precision in ("exact", "approximate") else "exact",
        }

    # --- services -> offerings -------------------------------------------------------------

    def offering(self, row: Row, organizations: set[str]) -> tuple[rec.Record, bool] | None:
        sid = str(row.get("id") or "")
        where = self._where(row, "service")
        org = str(row.get("organization_id") or "")
        if org not in organizations:
            if org in self.org_ids:
                self.report.warn("its organization was not imported; left out", **where)
            else:
                self.report.error(
                    f"organization '{org}' is not in the directory",
                    field="organization_id",
                    **where,
                )
            return None
        facets = self.facets(sid)
        term_ids = [
            str(a.get("taxonomy_term_id") or "")
            for a in self.attributes.get(sid, [])
            if str(a.get("link_entity") or "service") in ("service", "link_entity", "")
        ]
        categories, unmapped = self.terms.categories(term_ids)
        self.unmapped.update(unmapped)
        pm = any(self.terms.is_partnermap(self.terms.terms.get(t, {})) for t in term_ids)
        status = str(row.get("status") or "active").strip().lower()
        if not pm and status != "active":
            self.report.warn(f"status '{status}'; only active services are imported", **where)
            return None
        uncategorized = not categories
        if uncategorized:
            # Kept, so the directory comes back whole on export; with no category it is
            # never ranked nor counted as coverage (repositories.catalog leaves it out).
            terms = f" (terms: {', '.join(unmapped)})" if unmapped else " (no taxonomy terms)"
            if "partnermap:uncategorized" not in facets:  # our own export says so already
                self.report.warn(
                    f"no PartnerMap category{terms}; kept as uncategorized (not ranked)", **where
                )
            self.uncategorized += 1
            categories = [STAND_IN_CATEGORY]  # checked like any offering, stored with none
        try:
            grades = _grades(row.get("minimum_age"), row.get("maximum_age"))
            if isinstance(grades, str):
                self.report.warn(f"{grades}; left out", field="minimum_age", **where)
                return None
            data: dict[str, Any] = {
                "title": self._text(row, "name", field="title"),
                "description": self._text(row, "description"),
                "categories": categories,
                "grade_low": grades[0],
                "grade_high": grades[1],
                "languages": _unique(
                    language_code(lang.get("name"), lang.get("code"))
                    for lang in self.languages_by_service.get(sid, [])
                ),
                "cost_note": self._text(row, "fees_description", field="cost_note")
                or self._text(row, "fees", field="cost_note"),
                "external_id": sid,
            }
        except RecordError as exc:
            self.report.error(exc.problem, field=exc.field, **where)
            return None
        data |= self._facet_fields(facets) if pm else self._derived_fields(sid)
        data |= _cost(self.cost_options.get(sid, []), facets if pm else None)
        if data.get("cost_note") and len(data["cost_note"]) > 500:
            self.report.warn("longer than 500 characters; shortened", field="cost_note", **where)
            data["cost_note"] = data["cost_note"][:497] + "…"
        model = self._lenient(OfferingCreate, data, OFFERING_OPTIONAL, where)
        if model is None:
            return None
        assert isinstance(model, OfferingCreate)
        problems = rec.rule_problems(offering_rules(model))
        for fld, problem in problems:
            self.report.error(problem, field=fld, **where)
        if problems:
            return None
        values = offering_row(model.model_dump(exclude={"source", "external_id"}))
        if uncategorized:
            values["categories"] = []
        return rec.Record(row.get("_row") or 0, sid, values, organization_ref=org), pm

    def _facet_fields(self, facets: dict[str, list[str]]) -> dict[str, Any]:
        def one(code: str) -> str | None:
            values = facets.get(code)
            return values[0] if values else None

        def number(code: str) -> int | None:
            value = one(code)
            return int(value) if value and value.lstrip("-").isdigit() else None

        return {
            "schedule": facets.get("partnermap:schedule", []),
            "delivery": facets.get("partnermap:delivery", []),
            "populations": facets.get("partnermap:population", []),
            "cost": one("partnermap:cost"),
            "capacity_schools": number("partnermap:capacity_schools"),
            "capacity_students": number("partnermap:capacity_students"),
            "active_from": one("partnermap:active_from"),
            "active_until": one("partnermap:active_until"),
        }

    def _derived_fields(self, sid: str) -> dict[str, Any]:
        schedules = list(self.schedules.get(sid, []))
        delivery: set[str] = set()
        for sal in self.sal_by_service.get(sid, []):
            loc = self.locations.get(str(sal.get("location_id")))
            if loc is not None:
                kind = str(loc.get("location_type") or "physical").lower()
                delivery.add("virtual" if kind == "virtual" else "at_partner_site")
        return {
            "schedule": _schedule_tags(schedules),
            "delivery": [d for d in DELIVERIES if d in delivery],
        }


def _dotted(loc: Any) -> str:
    return ".".join(str(p) for p in loc)


def _repair(data: dict[str, Any], loc: tuple[Any, ...], err: Any) -> str:
    """Drop (or shorten) the bad optional value at `loc`; say what was done."""
    limit = (err.get("ctx") or {}).get("max_length")
    container: Any = data
    for part in loc[:-1]:
        container = container[part]
    key = loc[-1]
    if err.get("type") == "string_too_long" and limit and isinstance(container[key], str):
        container[key] = container[key][: int(limit) - 1] + "…"
        return f"longer than {limit} characters; shortened"
    shown = container[key]
    shown = f" ({shown!r})" if isinstance(shown, (str, int, float)) and len(str(shown)) < 60 else ""
    container[key] = None
    return f"{err.get('msg')}{shown}; value left out"


def _unique(values: Any) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _coordinate(value: Any, limit: float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if -limit <= number <= limit and number == number else None


def _join_note(note: str | None, extra: str) -> str:
    return f"{note} {extra}" if note else extra


def _grades(min_age: Any, max_age: Any) -> tuple[int, int] | str:
    """Grade span from an age span (grade = age - 5 at the bottom, age - 6 at the top)."""
    low_age, high_age = _age(min_age), _age(max_age)
    if low_age is not None and low_age > 18:
        return f"serves ages {low_age} and over, not school-age students"
    if high_age is not None and high_age < 3:
        return f"serves children under {high_age + 1}, not school-age students"
    low = -1 if low_age is None else max(-1, min(12, low_age - 5))
    high = 12 if high_age is None else max(-1, min(12, high_age - 6))
    return (low, max(low, high))


def _age(value: Any) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number == number and 0 <= number < 150 else None


def _minutes(text: Any) -> int | None:
    match = _TIME.match(str(text or ""))
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half:
        hour = hour % 12 + (12 if half.lower().startswith("p") else 0)
    return hour * 60 + minute if hour < 24 and minute < 60 else None


def _schedule_tags(rows: list[Row]) -> list[str]:
    tags: set[str] = set()
    for r in rows:
        text = f"{r.get('description') or ''} {r.get('notes') or ''}".lower()
        if "summer" in text:
            tags.add("summer")
        days = {d.strip().upper() for d in str(r.get("byday") or "").split(",")} & _DAYS
        if days & {"SA", "SU"}:
            tags.add("weekends")
        if days and days <= {"SA", "SU"}:
            continue
        opens = _minutes(r.get("opens_at"))
        if opens is not None:
            tags.add("after_school" if opens >= AFTER_SCHOOL_FROM else "during_school")
    return [t for t in SCHEDULES if t in tags]


def _cost(options: list[Row], facets: dict[str, list[str]] | None) -> dict[str, Any]:
    amounts = []
    for o in options:
        try:
            amount = float(o.get("amount"))
        except (TypeError, ValueError):
            continue
        currency = str(o.get("currency") or "USD").upper()
        amounts.append((amount, currency))
    if facets is not None:  # our own export: the cost kind is a facet, the fee a USD amount
        cost = (facets.get("partnermap:cost") or [None])[0]
        fee = next((a for a, c in amounts if c == "USD"), None)
        return {"cost": cost or None, "cost_amount": fee if cost == "fee" else None}
    if amounts and all(a == 0 for a, _ in amounts):
        return {"cost": "free"}
    return {}


def _service_area(facets: dict[str, list[str]]) -> dict[str, Any]:
    raw = (facets.get("partnermap:service_area") or [None])[0]
    if not raw:
        return {"kind": "none"}
    try:
        area = json.loads(raw)
    except ValueError:
        raise RecordError("service_area", "the PartnerMap service_area is not JSON") from None
    return area if isinstance(area, dict) else {"kind": "none"}
