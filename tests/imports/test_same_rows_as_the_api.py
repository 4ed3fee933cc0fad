"""The API and the importers share one write path: the same organization or offering, sent to
the API or imported from a CSV template or an HSDS directory, is stored as the same row."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select

from app.imports import bulk_csv, hsds, hsds_export
from app.models import Offering, Organization
from tests.api.factories import offering, organization
from tests.imports.helpers import write

# Columns that say where and when a row came from, not what it holds.
PROVENANCE = {"id", "source", "external_id", "organization_id", "created_at", "updated_at"}
COARSE_SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[-122.3, 37.75], [-122.15, 37.75], [-122.15, 37.85], [-122.3, 37.85], [-122.3, 37.75]]
    ],
}


def stored(db, model: Any, source: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Every column of the source's rows but provenance, with locations for organizations."""
    with db.session() as session:
        rows = []
        for row in session.scalars(select(model).where(model.source == source)):
            values = {
                c.key: getattr(row, c.key)
                for c in inspect(model).column_attrs
                if c.key not in PROVENANCE
            }
            if model is Organization:
                values["locations"] = [
                    {
                        c.key: getattr(loc, c.key)
                        for c in inspect(type(loc)).column_attrs
                        if c.key not in (*PROVENANCE, "organization_id")
                    }
                    for loc in row.locations
                ]
            rows.append(values)
        return rows


def import_csv(db, path: Path, kind: str, source: str) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        report = bulk_csv.import_file(session=session, path=path, kind=kind, source=source)
    assert report.status == "imported", report.lines()


def test_an_organization_and_offering_sent_to_the_api_or_imported_from_csv_store_the_same_rows(
    client, db, tmp_path
):
    body = organization(
        website="HTTPS://Example.org",
        email="hello@example.org",
        service_area={"kind": "radius", "radius_km": 12.5},
    )
    body["locations"][0] |= {"name": "Main office", "precision": "exact"}
    created = client.post("/v1/organizations", json=body | {"source": "api", "external_id": "o1"})
    assert created.status_code == 201, created.text
    fee = offering(cost="fee", cost_amount=120.5, cost_note="per school", external_id="f1")
    made = client.post(f"/v1/organizations/{created.json()['id']}/offerings", json=fee)
    assert made.status_code == 201, made.text

    import_csv(
        db,
        write(
            tmp_path / "orgs.csv",
            "external_id,name,type,description,website,email,languages,location_name,address,"
            "city,state,postal_code,lat,lon,service_area,service_radius_km\n"
            f"o1,{body['name']},nonprofit,{body['description']},HTTPS://Example.org,"
            "hello@example.org,en;es,Main office,1 Frank H Ogawa Plaza,Oakland,CA,94612,"
            "37.8053,-122.2725,radius,12.5\n",
        ),
        "organizations",
        "csv",
    )
    import_csv(
        db,
        write(
            tmp_path / "offs.csv",
            "external_id,organization_external_id,title,description,categories,grade_low,"
            "grade_high,schedule,delivery,languages,cost,cost_amount,cost_note,"
            "capacity_schools,populations\n"
            f"f1,o1,{fee['title']},{fee['description']},stem,6,8,after_school,at_school,en;es,"
            "fee,120.5,per school,4,title_i\n",
        ),
        "offerings",
        "csv",
    )

    from_api, from_csv = stored(db, Organization, "api"), stored(db, Organization, "csv")
    assert from_api[0]["website"] == "HTTPS://Example.org"  # checked as a URL, kept as written
    assert from_api[0]["service_area_kind"] == "radius"
    assert from_api == from_csv
    # The API's offering keeps the organization's source; the import's is "csv".
    offerings = {o.source: o for o in _offerings(db)}
    assert offerings.keys() == {None, "csv"}
    assert stored_offering(offerings[None]) == stored_offering(offerings["csv"])


def _offerings(db) -> list[Offering]:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return list(session.scalars(select(Offering)))


def stored_offering(row: Offering) -> dict[str, Any]:
    return {
        c.key: getattr(row, c.key)
        for c in inspect(Offering).column_attrs
        if c.key not in PROVENANCE
    }


def test_a_polygon_service_area_from_the_api_or_an_hsds_import_is_stored_the_same(
    client, db, tmp_path
):
    body = organization(
        website="https://example.org", service_area={"kind": "polygon", "geometry": COARSE_SQUARE}
    )
    created = client.post("/v1/organizations", json=body)
    assert created.status_code == 201, created.text
    with db.session() as session:
        hsds_export.export_hsds(session=session, path=tmp_path / "x")
    _give_the_request_polygon(tmp_path / "x" / "attributes.csv")
    with db.session() as session:
        report = hsds.import_hsds(session=session, path=tmp_path / "x", source="hsds")
    assert report.status == "imported", report.lines()

    from_api, from_hsds = stored(db, Organization, None), stored(db, Organization, "hsds")
    area = from_api[0]["service_area"]
    assert area["type"] == "MultiPolygon"
    assert len(area["coordinates"][0][0]) > len(COARSE_SQUARE["coordinates"][0])  # densified
    assert from_hsds == from_api


def _give_the_request_polygon(attributes: Path) -> None:
    """Put the coarse polygon of the request (not the stored, densified one) in the export."""
    with open(attributes, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    polygons = 0
    for row in rows:
        if row["value"].startswith('{"kind":"polygon"'):
            row["value"] = json.dumps({"kind": "polygon", "geometry": COARSE_SQUARE})
            polygons += 1
    assert polygons == 1
    with open(attributes, "w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)
