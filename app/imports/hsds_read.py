"""Read an Open Referral HSDS directory into plain tables, whatever form it comes in:

- an HSDS 3.0 tabular data package (a folder of organizations.csv, services.csv, …);
- HSDS JSON: one object (service, organization, service_at_location, location, taxonomy term),
  a list of them, a paginated API response ({"contents": […]}), or the tabular form keyed by
  file name ({"services.csv": […], …});
- Code for America's Ohana API CSV layout (services.csv with location_id and taxonomy_ids,
  taxonomy.csv, regular_schedules.csv), an HSDS 1.x ancestor.

The result is always HSDS 3.0 tables: {"services": [{"id": …, "organization_id": …}, …], …},
each row carrying `_file` and `_row` for messages. An HSDS package is read whole (directories
are thousands of records, not millions); the bulk CSV import is the streamed path.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.imports.csvfile import FileProblem, open_csv

TABLES = (
    "organizations",
    "services",
    "locations",
    "addresses",
    "service_at_location",
    "phones",
    "contacts",
    "languages",
    "schedules",
    "cost_options",
    "service_areas",
    "taxonomies",
    "taxonomy_terms",
    "attributes",
)
Row = dict[str, Any]
# JSON size cap: a directory export larger than this should come as a CSV package.
MAX_JSON_BYTES = 200 * 1024 * 1024


@dataclass
class Tables:
    layout: str
    rows: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    ignored: list[str] = field(default_factory=list)
    _seen: set[tuple[str, str]] = field(default_factory=set)

    def add(self, table: str, row: Row) -> None:
        """Add a row once per (table, id); rows without an id are kept as they come."""
        key = row.get("id")
        if key not in (None, ""):
            if (table, str(key)) in self._seen:
                return
            self._seen.add((table, str(key)))
        self.rows[table].append(row)

    def get(self, table: str) -> list[Row]:
        return self.rows.get(table, [])

    def index(self, table: str, column: str) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = defaultdict(list)
        for row in self.get(table):
            value = row.get(column)
            if value not in (None, ""):
                out[str(value)].append(row)
        return out


def read(path: Path, *, encoding: str = "utf-8") -> Tables:
    """The HSDS tables of a folder or a JSON file."""
    if path.is_dir():
        if _is_ohana(path, encoding):
            return _read_ohana(path, encoding)
        return _read_csv_package(path, encoding)
    if path.suffix.lower() == ".json":
        return _read_json(path)
    if not path.exists():
        raise FileProblem(f"{path} does not exist")
    raise FileProblem(
        f"{path.name}: give an HSDS folder (a CSV data package, or Ohana CSV files) or a .json file"
    )


# --- HSDS 3.0 CSV data package -----------------------------------------------------------------


def _csv_table(path: Path, encoding: str, required: Iterable[str] = ("id",)) -> list[Row]:
    rows = []
    try:
        with open_csv(path, encoding=encoding, required=required) as reader:
            for line, cells, problem in reader:
                if cells is None:
                    raise FileProblem(problem or "unreadable record", line=line)
                rows.append({**cells, "_file": path.name, "_row": line})
    except FileProblem as exc:
        raise FileProblem(f"{path.name}: {exc}") from None
    return rows


def _read_csv_package(folder: Path, encoding: str) -> Tables:
    tables = Tables(layout="HSDS CSV data package")
    found = False
    for table in TABLES:
        file = folder / f"{table}.csv"
        if file.is_file():
            found = True
            for row in _csv_table(file, encoding):
                tables.add(table, row)
    if not found or not tables.get("organizations"):
        raise FileProblem(
            f"{folder} has no organizations.csv; an HSDS data package needs organizations.csv "
            "and services.csv"
        )
    known = {f"{t}.csv" for t in TABLES} | {"datapackage.json"}
    tables.ignored = sorted(p.name for p in folder.iterdir() if p.name not in known)
    return tables


# --- HSDS JSON ---------------------------------------------------------------------------------


def _read_json(path: Path) -> Tables:
    if path.stat().st_size > MAX_JSON_BYTES:
        raise FileProblem(f"{path.name} is over {MAX_JSON_BYTES // 2**20} MiB; export CSV")
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FileProblem(f"{path.name} is not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise FileProblem(f"{path.name} is not valid JSON: {exc.msg}", line=exc.lineno) from None
    tables = Tables(layout="HSDS JSON")
    if isinstance(data, dict) and any(str(k).endswith(".csv") for k in data):
        for name, rows in data.items():
            table = str(name).removesuffix(".csv")
            if table not in TABLES:
                tables.ignored.append(str(name))
                continue
            for n, row in enumerate(rows if isinstance(rows, list) else [], start=1):
                if isinstance(row, dict):
                    tables.add(table, {**_scalars(row), "_file": name, "_row": n})
        return tables
    items = data.get("contents") if isinstance(data, dict) and "contents" in data else data
    for n, item in enumerate(items if isinstance(items, list) else [items], start=1):
        if not isinstance(item, dict):
            raise FileProblem(f"{path.name}: item {n} is not an object")
        _flatten_any(item, tables, f"{path.name}#{n}")
    if not tables.get("organizations") and not tables.get("services"):
        raise FileProblem(f"{path.name} holds no HSDS organization or service")
    return tables


def _scalars(obj: Row) -> Row:
    return {k: v for k, v in obj.items() if not isinstance(v, (dict, list))}


def _flatten_any(item: Row, t: Tables, where: str) -> None:
    if "service" in item and "location" in item:
        _service_at_location(item, t, where, service_id=None)
    elif "status" in item or "service_at_locations" in item:
        _service(item, t, where, organization_id=None)
    elif "services" in item or "legal_status" in item or "organization_identifiers" in item:
        _organization(item, t, where)
    elif "latitude" in item or "location_type" in item or "addresses" in item:
        _location(item, t, where, organization_id=None)
    elif "code" in item and "name" in item:
        _term(item, t, where)
    else:
        raise FileProblem(f"{where}: not an HSDS organization, service, location or term")


def _organization(org: Row, t: Tables, where: str) -> str | None:
    oid = org.get("id")
    t.add("organizations", {**_scalars(org), "_file": where})
    for svc in org.get("services") or []:
        _service(svc, t, where, organization_id=oid)
    for loc in org.get("locations") or []:
        _location(loc, t, where, organization_id=oid)
    for phone in org.get("phones") or []:
        _child("phones", phone, t, where, organization_id=oid)
    for contact in org.get("contacts") or []:
        _child("contacts", contact, t, where, organization_id=oid)
    _attributes(org, t, where, "organization")
    return oid


def _service(svc: Row, t: Tables, where: str, organization_id: str | None) -> None:
    sid = svc.get("id")
    org = svc.get("organization")
    if isinstance(org, dict):
        organization_id = _organization(org, t, where)
    t.add(
        "services",
        {
            **_scalars(svc),
            "organization_id": svc.get("organization_id") or organization_id,
            "_file": where,
        },
    )
    for sal in svc.get("service_at_locations") or []:
        _service_at_location(sal, t, where, service_id=sid, organization_id=organization_id)
    for table in ("languages", "schedules", "phones", "contacts", "cost_options", "service_areas"):
        for child in svc.get(table) or []:
            _child(table, child, t, where, service_id=sid)
    _attributes(svc, t, where, "service")


def _service_at_location(
    sal: Row, t: Tables, where: str, service_id: str | None, organization_id: str | None = None
) -> None:
    svc = sal.get("service")
    if isinstance(svc, dict):
        _service(svc, t, where, organization_id=None)
        service_id = svc.get("id")
        organization_id = (
            t.rows["services"][-1].get("organization_id") if t.get("services") else None
        )
    loc = sal.get("location")
    location_id = sal.get("location_id")
    if isinstance(loc, dict):
        location_id = loc.get("id")
        _location(loc, t, where, organization_id=organization_id, weak=True)
    t.add(
        "service_at_location",
        {**_scalars(sal), "service_id": service_id, "location_id": location_id, "_file": where},
    )
    for table in ("schedules", "phones", "contacts"):
        for child in sal.get(table) or []:
            _child(table, child, t, where, service_at_location_id=sal.get("id"))


def _location(
    loc: Row, t: Tables, where: str, organization_id: str | None, weak: bool = False
) -> None:
    row = {**_scalars(loc), "_file": where}
    if not row.get("organization_id") and organization_id and not weak:
        row["organization_id"] = organization_id
    t.add("locations", row)
    for table in ("addresses", "languages", "phones", "schedules", "contacts"):
        for child in loc.get(table) or []:
            _child(table, child, t, where, location_id=loc.get("id"))
    _attributes(loc, t, where, "location")


def _child(table: str, obj: Row, t: Tables, where: str, **parent: Any) -> None:
    row = {**_scalars(obj), "_file": where}
    for key, value in parent.items():
        row.setdefault(key, value)
    t.add(table, row)
    if table == "phones":
        for lang in obj.get("languages") or []:
            _child("languages", lang, t, where, phone_id=obj.get("id"))


def _attributes(obj: Row, t: Tables, where: str, entity: str) -> None:
    for attr in obj.get("attributes") or []:
        term = attr.get("taxonomy_term")
        term_id = attr.get("taxonomy_term_id")
        if isinstance(term, dict):
            term_id = term.get("id")
            _term(term, t, where)
        t.add(
            "attributes",
            {
                **_scalars(attr),
                "link_id": obj.get("id"),
                "link_entity": entity,
                "taxonomy_term_id": term_id,
                "_file": where,
            },
        )


def _term(term: Row, t: Tables, where: str) -> None:
    detail = term.get("taxonomy_detail")
    row = {**_scalars(term), "_file": where}
    if isinstance(detail, dict):
        row.setdefault("taxonomy_id", detail.get("id"))
        t.add("taxonomies", {**_scalars(detail), "_file": where})
    t.add("taxonomy_terms", row)


# --- Ohana API CSV layout ----------------------------------------------------------------------

_WEEKDAYS = {
    "monday": "MO",
    "tuesday": "TU",
    "wednesday": "WE",
    "thursday": "TH",
    "friday": "FR",
    "saturday": "SA",
    "sunday": "SU",
}


def _is_ohana(folder: Path, encoding: str) -> bool:
    services = folder / "services.csv"
    if not services.is_file():
        return False
    with open_csv(services, encoding=encoding) as reader:
        return "taxonomy_ids" in reader.columns and "location_id" in reader.columns


def _read_ohana(folder: Path, encoding: str) -> Tables:
    t = Tables(layout="Ohana API CSV")

    def table(name: str) -> list[Row]:
        file = folder / f"{name}.csv"
        return _csv_table(file, encoding) if file.is_file() else []

    for org in table("organizations"):
        t.add("organizations", org)
    location_org: dict[str, str] = {}
    for loc in table("locations"):
        virtual = str(loc.get("virtual", "")).strip().lower() == "true"
        location_org[loc["id"]] = loc.get("organization_id", "")
        t.add("locations", {**loc, "location_type": "virtual" if virtual else "physical"})
        _ohana_languages(t, loc, location_id=loc["id"])
    for kind, name in (("physical", "addresses"), ("postal", "mail_addresses")):
        for addr in table(name):
            t.add(
                "addresses",
                {**addr, "id": f"{name}-{addr['id']}", "address_type": kind},
            )
    for svc in table("services"):
        location_id = svc.get("location_id", "")
        t.add(
            "services",
            {
                **svc,
                "organization_id": location_org.get(location_id, ""),
                "url": svc.get("website", ""),
                "fees_description": svc.get("fees", ""),
            },
        )
        if location_id:
            t.add(
                "service_at_location",
                {
                    "id": f"sal-{svc['id']}",
                    "service_id": svc["id"],
                    "location_id": location_id,
                    "_file": svc["_file"],
                    "_row": svc["_row"],
                },
            )
        _ohana_languages(t, svc, service_id=svc["id"])
        for n, term_id in enumerate(svc.get("taxonomy_ids", "").split(",")):
            if term_id.strip():
                t.add(
                    "attributes",
                    {
                        "id": f"attr-{svc['id']}-{n}",
                        "link_id": svc["id"],
                        "link_entity": "service",
                        "taxonomy_term_id": term_id.strip(),
                        "_file": svc["_file"],
                        "_row": svc["_row"],
                    },
                )
    taxonomy = folder / "taxonomy.csv"
    if taxonomy.is_file():
        for term in _csv_table(taxonomy, encoding, required=("taxonomy_id", "name")):
            t.add(
                "taxonomy_terms",
                {
                    **term,
                    "id": term["taxonomy_id"],
                    "code": term["taxonomy_id"],
                    "taxonomy": "Open Eligibility",
                },
            )
    for phone in table("phones"):
        t.add("phones", {**phone, "type": phone.get("number_type", "")})
    for contact in table("contacts"):
        t.add("contacts", contact)
    for sched in table("regular_schedules"):
        day = _WEEKDAYS.get(str(sched.get("weekday", "")).strip().lower(), "")
        t.add("schedules", {**sched, "freq": "WEEKLY", "byday": day})
    used = {
        "organizations",
        "locations",
        "addresses",
        "mail_addresses",
        "services",
        "taxonomy",
        "phones",
        "contacts",
        "regular_schedules",
    }
    t.ignored = sorted(
        p.name for p in folder.iterdir() if p.suffix == ".csv" and p.stem not in used
    )
    return t


def _ohana_languages(t: Tables, row: Row, **parent: str) -> None:
    for n, name in enumerate(str(row.get("languages") or "").split(",")):
        if name.strip():
            owner = next(iter(parent.values()))
            t.add(
                "languages",
                {
                    "id": f"lang-{next(iter(parent))}-{owner}-{n}",
                    "name": name.strip(),
                    "_file": row.get("_file"),
                    "_row": row.get("_row"),
                    **parent,
                },
            )
