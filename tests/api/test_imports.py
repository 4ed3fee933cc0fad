"""POST /v1/imports (CSV upload as a job) and GET /v1/imports/{id}."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Offering, Organization
from tests.imports.helpers import OFFERINGS, ORGANIZATIONS, count


def upload(client, text: str | bytes, kind: str = "organizations", **form):  # type: ignore[no-untyped-def]
    body = text.encode() if isinstance(text, str) else text
    name = form.pop("filename", f"{kind}.csv")
    media = form.pop("media", "text/csv")
    data = {"kind": kind, "source": "portal", **{k: str(v).lower() for k, v in form.items()}}
    return client.post("/v1/imports", data=data, files={"file": (name, body, media)})


def test_an_upload_is_accepted_as_a_job_and_imported(client, db):
    response = upload(client, ORGANIZATIONS)
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/v1/imports/{job['id']}"
    assert (job["kind"], job["source"], job["filename"]) == (
        "organizations",
        "portal",
        "organizations.csv",
    )
    done = client.get(f"/v1/imports/{job['id']}").json()
    assert done["status"] == "imported"
    assert done["counts"]["organizations"] == {
        "added": 2,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
    }
    assert done["finished_at"] is not None
    assert count(db, Organization, source="portal") == 2


def test_offerings_find_their_organizations_in_the_same_source(client, db):
    upload(client, ORGANIZATIONS)
    done = client.get(upload(client, OFFERINGS, "offerings").headers["location"]).json()
    assert done["status"] == "imported", done
    assert count(db, Offering) == 3
    again = client.get(upload(client, OFFERINGS, "offerings").headers["location"]).json()
    assert again["counts"]["offerings"]["unchanged"] == 3


def test_a_dry_run_is_checked_and_writes_nothing(client, db):
    job = upload(client, ORGANIZATIONS, dry_run=True).json()
    done = client.get(f"/v1/imports/{job['id']}").json()
    assert (done["status"], done["dry_run"]) == ("checked", True)
    assert done["counts"]["organizations"]["added"] == 2
    assert count(db, Organization) == 0


def test_row_errors_fail_the_job_with_row_and_field_and_nothing_is_written(client, db):
    bad = ORGANIZATIONS + "o3,Bad type,spaceship,,,,,,,,,\n"
    done = client.get(upload(client, bad).headers["location"]).json()
    assert done["status"] == "failed"
    assert [(i["row"], i["field"]) for i in done["issues"]] == [(4, "type")]
    assert count(db, Organization) == 0


def test_skip_invalid_imports_the_rest(client, db):
    bad = ORGANIZATIONS + "o3,Bad type,spaceship,,,,,,,,,\n"
    done = client.get(upload(client, bad, skip_invalid=True).headers["location"]).json()
    assert done["status"] == "imported"
    assert done["counts"]["organizations"]["skipped"] == 1
    assert count(db, Organization) == 2


def test_a_broken_file_fails_the_job_with_a_clear_detail(client, db):
    done = client.get(
        upload(client, b"external_id,name,type\nx,Caf\xe9,nonprofit\n").headers["location"]
    ).json()
    assert done["status"] == "failed"
    assert "not valid utf-8" in done["detail"]


def test_a_spreadsheet_that_is_not_csv_is_415(client):
    response = upload(
        client,
        b"PK\x03\x04",
        filename="partners.xlsx",
        media="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert "CSV" in response.json()["detail"]


def test_a_json_file_is_415(client):
    response = upload(client, '[{"name": "A"}]')
    assert response.status_code == 415
    assert "JSON" in response.json()["detail"]


def test_an_untyped_part_must_be_named_csv(client):
    assert (
        upload(
            client, ORGANIZATIONS, filename="x.csv", media="application/octet-stream"
        ).status_code
        == 202
    )
    assert (
        upload(client, ORGANIZATIONS, filename="x", media="application/octet-stream").status_code
        == 415
    )


def test_an_upload_over_the_body_limit_is_413(client, db):
    big = ORGANIZATIONS + "o9,Big,nonprofit," + "x" * 300_000 + ",,,,,,,,\n"
    response = upload(client, big)
    assert response.status_code == 413
    assert count(db, Organization) == 0


def test_an_unknown_kind_is_422_naming_the_field(client):
    response = upload(client, ORGANIZATIONS, kind="volunteers")
    assert response.status_code == 422
    assert ["body", "kind"] in [e["loc"] for e in response.json()["errors"]]


def test_a_missing_file_is_422(client):
    response = client.post("/v1/imports", data={"kind": "organizations"})
    assert response.status_code == 422
    assert ["body", "file"] in [e["loc"] for e in response.json()["errors"]]


def test_an_unknown_job_is_404(client):
    response = client.get("/v1/imports/999")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_the_openapi_documents_every_status(client):
    spec = client.get("/openapi.json").json()
    post = spec["paths"]["/v1/imports"]["post"]
    assert {"202", "413", "415", "422"} <= set(post["responses"])
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert {"200", "404"} <= set(spec["paths"]["/v1/imports/{job_id}"]["get"]["responses"])


def test_a_job_imports_under_its_source_only(client, db):
    upload(client, ORGANIZATIONS)
    with db.session() as session:
        assert set(session.scalars(select(Organization.source))) == {"portal"}
