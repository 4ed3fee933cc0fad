"""A district admin's pages: the gaps map and table with their CSV, portal API keys (the
secret shown once, revoked at once) and CSV imports followed to their row-level report —
every form CSRF-checked, every page refused to other roles."""

from __future__ import annotations

import csv
import io

import pytest

from app.pages.session import CSRF_COOKIE, SESSION_COOKIE
from tests.api.factories import assessment, school
from tests.conftest import user_token

SCHOOLS_CSV = (
    "external_id,name,nces_id,state_id,district,address,city,state,postal_code,lat,lon,"
    "grade_low,grade_high,enrollment,frl_pct,title_i,el_pct,swd_pct,chronic_absence_pct,"
    "locale,languages\n"
    "s-1,Lakeview Elementary,,,Oakland Unified School District,1 Lake St,Oakland,CA,94610,"
    "37.80,-122.25,K,5,300,80,true,30,10,12,city,en;es\n"
    "s-2,Broken Row Elementary,,,Oakland Unified School District,2 Lake St,Oakland,CA,94610,"
    "north,-122.25,K,5,300,80,true,30,10,12,city,en\n"
)


def sign_in(anon, db, email: str, role: str, **grants: object) -> str:  # type: ignore[no-untyped-def]
    """Sign the test browser in as a new user; returns the CSRF token its forms send."""
    _, token = user_token(db, email, role, **grants)
    anon.cookies.set(SESSION_COOKIE, token)
    anon.get("/sign-in")
    return anon.cookies[CSRF_COOKIE]


@pytest.fixture
def district_id(client) -> int:  # type: ignore[no-untyped-def]
    """A district of two assessed schools (one need unmet, as nobody offers anything)."""
    for name, lat in (("Allendale Elementary", 37.7887), ("Brookfield Elementary", 37.74)):
        made = client.post("/v1/schools", json=school(name=name, lat=lat)).json()
        posted = client.post(f"/v1/schools/{made['id']}/needs-assessments", json=assessment())
        assert posted.status_code == 201, posted.text
    return client.get("/v1/districts").json()["items"][0]["id"]


@pytest.fixture
def admin_csrf(anon, db, district_id) -> str:  # type: ignore[no-untyped-def]
    return sign_in(anon, db, "admin@district.test", "district_admin", district_id=district_id)


# --- gaps --------------------------------------------------------------------------------------


def test_the_gaps_page_lists_the_districts_unmet_needs_and_links_its_csv(anon, admin_csrf):
    page = anon.get("/admin/gaps")
    assert page.status_code == 200, page.text
    assert "Allendale Elementary" in page.text and "Brookfield Elementary" in page.text
    assert 'id="gap-map"' in page.text and "/admin/gaps.geojson" in page.text
    assert "Mental health and social-emotional learning" in page.text
    assert 'href="/admin/gaps.csv"' in page.text


def test_the_gaps_csv_is_the_apis_table_as_a_download(anon, client, admin_csrf):
    download = anon.get("/admin/gaps.csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    api = client.get("/v1/gaps", params={"district": rows[0]["district"], "format": "csv"})
    assert download.text == api.text
    assert {r["status"] for r in rows} <= {"unmet", "thin"} and rows


def test_the_gaps_map_reads_the_apis_geojson(anon, admin_csrf):
    data = anon.get("/admin/gaps.geojson").json()
    kinds = {f["properties"]["kind"] for f in data["features"]}
    assert "school" in kinds


def test_gaps_in_spanish_name_the_categories_in_spanish(anon, admin_csrf):
    page = anon.get("/admin/gaps?lang=es")
    assert "Salud mental y aprendizaje socioemocional" in page.text
    assert "Necesidades no cubiertas" in page.text


def test_a_nonprofit_member_may_not_open_the_gaps_page(anon, db):
    sign_in(anon, db, "member@org.test", "org_member")
    response = anon.get("/admin/gaps")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")


# --- API keys ----------------------------------------------------------------------------------


def _make_key(anon, csrf, district_id, origins="https://portal.example.org"):  # type: ignore[no-untyped-def]
    return anon.post(
        f"/admin/districts/{district_id}/keys",
        data={"csrf_token": csrf, "name": "Family portal", "scope": "read", "origins": origins},
    )


def test_a_key_is_made_with_its_origins_and_its_secret_shown_once(anon, admin_csrf, district_id):
    made = _make_key(anon, admin_csrf, district_id)
    assert made.status_code == 201, made.text
    secret = made.text.split('id="secret" class="secret" readonly value="')[1].split('"')[0]
    assert secret.startswith("pmk_")
    listed = anon.get("/admin/keys").text
    assert "Family portal" in listed and "https://portal.example.org" in listed
    assert secret not in listed  # never shown again
    anon.cookies.clear()
    used = anon.get("/v1/gaps", params={"district": district_id}, headers={"X-API-Key": secret})
    assert used.status_code == 200


def test_a_key_for_a_bad_origin_is_refused_naming_the_field(anon, admin_csrf, district_id):
    made = _make_key(anon, admin_csrf, district_id, origins="portal.example.org/path")
    assert made.status_code == 422
    assert "allowed_origins.0" in made.text
    assert "No key yet." in anon.get("/admin/keys").text


def test_a_key_without_the_csrf_token_is_not_made(anon, admin_csrf, district_id):
    made = _make_key(anon, "someone-elses", district_id)
    assert made.status_code == 403
    assert "No key yet." in anon.get("/admin/keys").text


def test_a_revoked_key_is_refused_at_once(anon, admin_csrf, district_id):
    made = _make_key(anon, admin_csrf, district_id)
    secret = made.text.split('readonly value="')[1].split('"')[0]
    key_id = made.text.split(f"/admin/districts/{district_id}/keys/")[1].split("/")[0]
    revoked = anon.post(
        f"/admin/districts/{district_id}/keys/{key_id}/revoke",
        data={"csrf_token": admin_csrf},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert "revoked" in anon.get("/admin/keys").text
    anon.cookies.clear()
    used = anon.get("/v1/gaps", params={"district": district_id}, headers={"X-API-Key": secret})
    assert used.status_code == 401


def test_another_districts_keys_are_not_reachable(anon, db, client, district_id):
    other = client.post("/v1/districts", json={"name": "Elsewhere Unified"}).json()["id"]
    csrf = sign_in(anon, db, "admin@district.test", "district_admin", district_id=district_id)
    made = _make_key(anon, csrf, other)
    assert made.status_code in (403, 404)
    assert made.headers["content-type"].startswith("text/html")


# --- imports -----------------------------------------------------------------------------------


def _upload(anon, csrf, content=SCHOOLS_CSV, kind="schools", **extra):  # type: ignore[no-untyped-def]
    return anon.post(
        "/admin/imports",
        data={"csrf_token": csrf, "kind": kind, "source": "district-portal", **extra},
        files={"file": ("schools.csv", content.encode(), "text/csv")},
        follow_redirects=False,
    )


def test_an_uploaded_csv_becomes_a_job_with_its_row_level_report(anon, admin_csrf):
    queued = _upload(anon, admin_csrf, skip_invalid="on")
    assert queued.status_code == 303, queued.text
    job = anon.get(queued.headers["location"])  # the test client ran the job already
    assert job.status_code == 200
    assert "imported" in job.text
    assert 'id="job-issues"' in job.text and "lat" in job.text and "north" in job.text
    assert "data-poll" not in job.text  # ended: nothing to follow


def test_a_district_may_not_upload_offerings(anon, admin_csrf):
    page = anon.get("/admin/imports")
    assert '<option value="schools">' in page.text
    assert '<option value="offerings">' not in page.text
    refused = _upload(anon, admin_csrf, kind="offerings")
    assert refused.status_code == 403  # as POST /v1/imports answers it
    assert "Districts import schools" in refused.text


def test_a_spreadsheet_is_refused_with_the_reason(anon, admin_csrf):
    response = anon.post(
        "/admin/imports",
        data={"csrf_token": admin_csrf, "kind": "schools", "source": "x"},
        files={"file": ("schools.xlsx", b"PK\x03\x04", "application/octet-stream")},
    )
    assert response.status_code == 415  # as POST /v1/imports answers it
    assert "CSV UTF-8" in response.text


def test_an_upload_without_the_csrf_token_is_not_queued(anon, admin_csrf):
    response = _upload(anon, "wrong")
    assert response.status_code == 403
    assert anon.get("/admin/imports/1").status_code == 404


def test_another_districts_job_is_a_404_page(anon, db, admin_csrf, client):
    queued = _upload(anon, admin_csrf)
    other = client.post("/v1/districts", json={"name": "Elsewhere Unified"}).json()["id"]
    anon.cookies.clear()
    sign_in(anon, db, "other@district.test", "district_admin", district_id=other)
    response = anon.get(queued.headers["location"])
    assert response.status_code == 404
    assert "Page not found" in response.text


def test_the_operator_picks_the_district_first(anon, db, district_id):
    sign_in(anon, db, "root@partnermap.test", "admin")
    picker = anon.get("/admin/keys")
    assert picker.status_code == 200
    assert f'href="/admin/keys?district={district_id}"' in picker.text
    keys = anon.get(f"/admin/keys?district={district_id}")
    assert "Oakland Unified School District" in keys.text and "No key yet." in keys.text
    gaps = anon.get(f"/admin/gaps?district={district_id}")
    assert f'href="/admin/gaps.csv?district={district_id}"' in gaps.text
