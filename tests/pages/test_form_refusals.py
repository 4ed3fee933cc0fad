"""A page's form answers a service refusal with the status the JSON API gives the same caller
for the same refusal (403, 404, 409, 415 ...), not 422 for everything; the page shows the
refusal in its error summary as before and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.models import ApiKey, ImportJob, NeedsAssessment, Offering, Organization
from app.pages.session import CSRF_COOKIE, SESSION_COOKIE
from tests.api.factories import offering, organization, school
from tests.conftest import user_token

SUMMARY = '<div class="errors" role="alert">'
SCHOOLS_CSV = (
    "external_id,name,district,address,city,state,postal_code,lat,lon,grade_low,grade_high\n"
    "s-1,Lakeview Elementary,Oakland Unified School District,1 Lake St,Oakland,CA,94610,"
    "37.80,-122.25,K,5\n"
)


class Caller:
    """One principal twice: a signed-in browser (pages) and a bearer client (the JSON API)."""

    def __init__(self, app, db, email: str, role: str, **grants: object) -> None:  # type: ignore[no-untyped-def]
        _, token = user_token(db, email, role, **grants)
        self.browser = TestClient(app, raise_server_exceptions=False)
        self.browser.cookies.set(SESSION_COOKIE, token)
        self.browser.get("/sign-in")
        self.csrf = self.browser.cookies[CSRF_COOKIE]
        self.api = TestClient(app, raise_server_exceptions=False)
        self.api.headers["Authorization"] = f"Bearer {token}"

    def post_form(self, url: str, **kwargs):  # type: ignore[no-untyped-def]
        data = {"csrf_token": self.csrf, **kwargs.pop("data", {})}
        return self.browser.post(url, data=data, follow_redirects=False, **kwargs)

    def close(self) -> None:
        self.browser.close()
        self.api.close()


@pytest.fixture
def caller(app, db) -> Iterator:  # type: ignore[no-untyped-def]
    made: list[Caller] = []

    def make(email: str, role: str, **grants: object) -> Caller:
        made.append(Caller(app, db, email, role, **grants))
        return made[-1]

    yield make
    for c in made:
        c.close()


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def _refused_alike(page, api, status: int) -> None:  # type: ignore[no-untyped-def]
    """The page answers the API's status for the refusal, as HTML."""
    assert api.status_code == status, api.text
    assert page.status_code == status, page.text
    assert page.headers["content-type"].startswith("text/html")


def _verified_org_with_offering(client) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    org_id = client.post("/v1/organizations", json=organization()).json()["id"]
    verified = client.post(f"/v1/organizations/{org_id}/verification", json={"state": "verified"})
    assert verified.status_code == 200, verified.text
    made = client.post(f"/v1/organizations/{org_id}/offerings", json=offering())
    assert made.status_code == 201, made.text
    return org_id, made.json()["id"]


# --- nonprofits ------------------------------------------------------------------------------


def test_a_too_short_password_at_sign_up_is_the_apis_422_in_the_summary(anon, client):
    form = {"csrf_token": "", "email": "new@club.test", "password": "short"}
    anon.get("/sign-up")
    form["csrf_token"] = anon.cookies[CSRF_COOKIE]
    page = anon.post("/sign-up", data=form, follow_redirects=False)
    api = anon.post("/v1/users", json={"email": "new@club.test", "password": "short"})
    _refused_alike(page, api, 422)
    assert SUMMARY in page.text and "password" in page.text


def test_school_staff_may_not_register_an_organization_through_the_page(caller, client, db):
    # The API refuses the role (403); the page registered the organization and made the
    # staff member its member.
    school_id = client.post("/v1/schools", json=school()).json()["id"]
    staff = caller("staff@school.test", "school_staff", schools=[school_id])
    page = staff.post_form(
        "/my/organizations/new",
        data={"name": "Fruitvale Reading Circle", "type": "nonprofit", "postal_code": "94601"},
    )
    api = staff.api.post("/v1/organizations", json=organization())
    _refused_alike(page, api, 403)
    assert _count(db, Organization) == 0


def test_an_offering_for_another_organization_is_the_apis_403(caller, client, db):
    org_id, _ = _verified_org_with_offering(client)
    stranger = caller("director@other.test", "org_member")
    page = stranger.post_form(
        f"/my/organizations/{org_id}/offerings/new",
        data={"title": "Chess club", "categories": "stem", "grade_low": "0", "grade_high": "5"},
    )
    api = stranger.api.post(f"/v1/organizations/{org_id}/offerings", json=offering())
    _refused_alike(page, api, 403)
    assert _count(db, Offering) == 1


def test_a_domain_rule_broken_by_a_new_offering_is_the_apis_422_naming_the_field(
    caller, client, db
):
    org_id, _ = _verified_org_with_offering(client)
    member = caller("director@club.test", "org_member", organizations=[org_id])
    fields = {"categories": "no.such.category", "grade_low": "0", "grade_high": "5"}
    page = member.post_form(
        f"/my/organizations/{org_id}/offerings/new", data={"title": "Chess club", **fields}
    )
    api = member.api.post(
        f"/v1/organizations/{org_id}/offerings", json=offering(categories=["no.such.category"])
    )
    _refused_alike(page, api, 422)
    assert SUMMARY in page.text and "categories" in page.text
    assert _count(db, Offering) == 1


def test_editing_another_organizations_offering_is_the_apis_403(caller, client, db):
    _, offering_id = _verified_org_with_offering(client)
    stranger = caller("director@other.test", "org_member")
    page = stranger.post_form(
        f"/my/offerings/{offering_id}",
        data={"title": "Taken over", "categories": "stem", "grade_low": "0", "grade_high": "5"},
    )
    api = stranger.api.patch(f"/v1/offerings/{offering_id}", json={"title": "Taken over"})
    _refused_alike(page, api, 403)
    assert client.get(f"/v1/offerings/{offering_id}").json()["title"] != "Taken over"


def test_an_edit_that_breaks_a_domain_rule_is_the_apis_422_in_the_summary(caller, client):
    org_id, offering_id = _verified_org_with_offering(client)
    member = caller("director@club.test", "org_member", organizations=[org_id])
    page = member.post_form(
        f"/my/offerings/{offering_id}",
        data={"title": "Robots", "categories": "no.such", "grade_low": "0", "grade_high": "5"},
    )
    api = member.api.patch(f"/v1/offerings/{offering_id}", json={"categories": ["no.such"]})
    _refused_alike(page, api, 422)
    assert SUMMARY in page.text and "categories" in page.text


# --- district admin --------------------------------------------------------------------------


@pytest.fixture
def district_id(client) -> int:  # type: ignore[no-untyped-def]
    client.post("/v1/schools", json=school())
    return client.get("/v1/districts").json()["items"][0]["id"]


def test_deciding_on_an_organization_the_district_does_not_reach_is_the_apis_403(
    caller, client, db, district_id
):
    far = organization(
        locations=[{**organization()["locations"][0], "lat": 40.7128, "lon": -74.006}]
    )
    org_id = client.post("/v1/organizations", json=far).json()["id"]
    admin = caller("admin@district.test", "district_admin", district_id=district_id)
    url = f"/organizations/{org_id}/verification"
    page = admin.post_form("/admin" + url, data={"state": "verified"})
    api = admin.api.post("/v1" + url, json={"state": "verified"})
    _refused_alike(page, api, 403)
    assert SUMMARY in page.text
    assert client.get(f"/v1/organizations/{org_id}").json()["verification"] == "unverified"


def test_deciding_on_an_unknown_organization_is_the_apis_404(caller, district_id):
    admin = caller("admin@district.test", "district_admin", district_id=district_id)
    page = admin.post_form("/admin/organizations/999/verification", data={"state": "verified"})
    api = admin.api.post("/v1/organizations/999/verification", json={"state": "verified"})
    _refused_alike(page, api, 404)


def test_rejecting_without_a_reason_is_the_apis_422_naming_the_field(caller, client, district_id):
    org_id = client.post("/v1/organizations", json=organization()).json()["id"]
    admin = caller("admin@district.test", "district_admin", district_id=district_id)
    url = f"/organizations/{org_id}/verification"
    page = admin.post_form("/admin" + url, data={"state": "rejected"})
    api = admin.api.post("/v1" + url, json={"state": "rejected"})
    _refused_alike(page, api, 422)
    assert SUMMARY in page.text and "reason" in page.text


def test_a_key_for_another_district_is_the_apis_403(caller, client, db, district_id):
    other = client.post("/v1/districts", json={"name": "Elsewhere Unified"}).json()["id"]
    admin = caller("admin@district.test", "district_admin", district_id=district_id)
    page = admin.post_form(
        f"/admin/districts/{other}/keys", data={"name": "Portal", "scope": "read", "origins": ""}
    )
    api = admin.api.post(
        f"/v1/districts/{other}/api-keys", json={"name": "Portal", "scope": "read"}
    )
    _refused_alike(page, api, 403)
    assert _count(db, ApiKey) == 0


def test_a_key_for_an_unknown_district_is_the_apis_404(caller, db, district_id):
    operator = caller("root@partnermap.test", "admin")
    page = operator.post_form(
        "/admin/districts/999/keys", data={"name": "Portal", "scope": "read", "origins": ""}
    )
    api = operator.api.post("/v1/districts/999/api-keys", json={"name": "Portal", "scope": "read"})
    _refused_alike(page, api, 404)
    assert _count(db, ApiKey) == 0


def test_a_key_with_a_bad_origin_is_the_apis_422_naming_the_field(caller, db, district_id):
    admin = caller("admin@district.test", "district_admin", district_id=district_id)
    origin = "portal.example.org/path"
    page = admin.post_form(
        f"/admin/districts/{district_id}/keys",
        data={"name": "Portal", "scope": "read", "origins": origin},
    )
    api = admin.api.post(
        f"/v1/districts/{district_id}/api-keys",
        json={"name": "Portal", "scope": "read", "allowed_origins": [origin]},
    )
    _refused_alike(page, api, 422)
    assert SUMMARY in page.text and "allowed_origins.0" in page.text


def _upload(who: Caller, kind: str, name: str, content: bytes, media: str):  # type: ignore[no-untyped-def]
    fields = {"kind": kind, "source": "district-portal"}
    page = who.post_form("/admin/imports", data=fields, files={"file": (name, content, media)})
    api = who.api.post("/v1/imports", data=fields, files={"file": (name, content, media)})
    return page, api


def test_a_district_uploading_offerings_is_the_apis_403_with_the_reason(caller, db, district_id):
    admin = caller("admin@district.test", "district_admin", district_id=district_id)
    page, api = _upload(admin, "offerings", "offerings.csv", SCHOOLS_CSV.encode(), "text/csv")
    _refused_alike(page, api, 403)
    assert SUMMARY in page.text and "Districts import schools" in page.text
    assert _count(db, ImportJob) == 0


def test_a_spreadsheet_upload_is_the_apis_415_with_the_reason(caller, db, district_id):
    admin = caller("admin@district.test", "district_admin", district_id=district_id)
    page, api = _upload(admin, "schools", "schools.xlsx", b"PK\x03\x04", "application/octet-stream")
    _refused_alike(page, api, 415)
    assert SUMMARY in page.text and "CSV UTF-8" in page.text
    assert _count(db, ImportJob) == 0


def test_an_upload_missing_its_source_is_still_a_422_naming_the_field(caller, district_id):
    admin = caller("admin@district.test", "district_admin", district_id=district_id)
    page = admin.post_form(
        "/admin/imports",
        data={"kind": "schools", "source": ""},
        files={"file": ("schools.csv", SCHOOLS_CSV.encode(), "text/csv")},
    )
    assert page.status_code == 422
    assert SUMMARY in page.text and "source" in page.text


# --- schools ---------------------------------------------------------------------------------


def test_staff_filing_another_schools_needs_is_the_apis_refusal(caller, client, db):
    mine = client.post("/v1/schools", json=school()).json()["id"]
    other = client.post("/v1/schools", json=school(name="Other", nces_id=None)).json()["id"]
    staff = caller("staff@school.test", "school_staff", schools=[mine])
    page = staff.post_form(
        f"/schools/{other}/needs",
        data={"category": ["arts.music"], "priority": ["1"], "notes": [""]},
    )
    api = staff.api.post(
        f"/v1/schools/{other}/needs-assessments",
        json={"assessed_on": "2026-09-01", "needs": [{"category": "arts.music", "priority": 1}]},
    )
    _refused_alike(page, api, api.status_code)
    assert api.status_code in (403, 404)
    assert _count(db, NeedsAssessment) == 0


def test_a_nonprofit_member_may_not_file_a_schools_needs_through_the_page(caller, client, db):
    school_id = client.post("/v1/schools", json=school()).json()["id"]
    member = caller("director@club.test", "org_member")
    page = member.post_form(
        f"/schools/{school_id}/needs",
        data={"category": ["arts.music"], "priority": ["1"], "notes": [""]},
    )
    api = member.api.post(
        f"/v1/schools/{school_id}/needs-assessments",
        json={"assessed_on": "2026-09-01", "needs": [{"category": "arts.music", "priority": 1}]},
    )
    _refused_alike(page, api, 403)
    assert _count(db, NeedsAssessment) == 0


def test_an_unknown_need_is_the_apis_422_naming_the_row(caller, client, db):
    school_id = client.post("/v1/schools", json=school()).json()["id"]
    staff = caller("staff@school.test", "school_staff", schools=[school_id])
    page = staff.post_form(
        f"/schools/{school_id}/needs",
        data={"category": ["no.such"], "priority": ["1"], "notes": [""]},
    )
    api = staff.api.post(
        f"/v1/schools/{school_id}/needs-assessments",
        json={"assessed_on": "2026-09-01", "needs": [{"category": "no.such", "priority": 1}]},
    )
    _refused_alike(page, api, 422)
    assert SUMMARY in page.text and "row 1: category" in page.text
    assert _count(db, NeedsAssessment) == 0
