"""What the public and other tenants must never see: needs assessments, private contacts,
unverified organizations; and how an organization gets verified."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.auth.principal import ANONYMOUS, DISTRICT_ADMIN, ORG_MEMBER, SCHOOL_STAFF
from app.models import AuditEvent
from tests.auth.test_permission_matrix import SPECS
from tests.auth.world import build

SECRETS = ("confidential notes", "confidential need")
CONTACTS = ("@example.org", "510-555-0100")


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    return build(db)


READS = [key for key in SPECS if key[0] == "GET" or key == ("POST", "/v1/matches")]


@pytest.mark.parametrize("key", READS, ids=[f"{m} {p}" for m, p in READS])
@pytest.mark.parametrize("fmt", [None, "csv", "geojson"])
def test_no_endpoint_shows_the_public_a_needs_assessment(anon, world, key, fmt):
    for target in ("own", "other"):
        url, kwargs = SPECS[key].call(world, ANONYMOUS, target)
        if fmt:
            kwargs = {**kwargs, "params": {**kwargs.get("params", {}), "format": fmt}}
        response = anon.request(key[0], url, **kwargs)
        assert not any(secret in response.text for secret in SECRETS), (url, response.text[:300])
        assert not re.search(r'"needs_assessment_id":\s*\d', response.text)


def test_public_lists_show_verified_organizations_without_contacts(anon, world):
    names = {o["name"] for o in anon.get("/v1/organizations").json()["items"]}
    assert names == {"verified", "other"}
    text = anon.get("/v1/organizations", params={"format": "geojson"}).text
    assert not any(c in text for c in CONTACTS)
    offerings = anon.get("/v1/offerings").json()["items"]
    assert {o["organization"]["name"] for o in offerings} == {"verified", "other"}
    assets = anon.get("/v1/asset-map", params={"bbox": "-122.4,37.7,-122.1,37.9", "resolution": 16})
    assert {f["properties"].get("organization_name") for f in assets.json()["features"]} <= {
        "verified",
        "other",
    }


def test_public_rankings_hold_verified_partners_only(anon, client, world):
    body = {
        "location": {"lat": 37.8, "lon": -122.25, "grade_low": 6, "grade_high": 8},
        "needs": [{"category": "stem", "priority": 1}],
    }
    public = anon.post("/v1/matches", json=body).json()["items"]
    assert public and all(m["offering"]["verified"] for m in public)
    everyone = client.post("/v1/matches", json=body).json()["items"]
    assert any(not m["offering"]["verified"] for m in everyone)  # operators see all, flagged


def test_members_see_their_own_contacts_and_unverified_organization_only(anon, world):
    member = world.headers[ORG_MEMBER]
    own = anon.get(f"/v1/organizations/{world.orgs['unverified']}", headers=member).json()
    assert own["email"] == "unverified@example.org"
    other = anon.get(f"/v1/organizations/{world.orgs['other']}", headers=member).json()
    assert other["email"] is None and other["phone"] is None and other["contact_name"] is None
    listed = anon.get("/v1/organizations", headers=member).json()["items"]
    assert {o["name"] for o in listed} == {"verified", "unverified", "other"}


def test_district_people_see_contacts(anon, world):
    for role in (SCHOOL_STAFF, DISTRICT_ADMIN):
        org = anon.get(f"/v1/organizations/{world.orgs['other']}", headers=world.headers[role])
        assert org.json()["email"] == "other@example.org"


def test_gaps_of_a_district_list_only_its_own_schools_for_its_admin(anon, world):
    admin_a = world.headers[DISTRICT_ADMIN]
    box = anon.get("/v1/gaps", params={"bbox": "-122.4,37.7,-122.1,37.9"}, headers=admin_a).json()
    assert {s["school_id"] for s in box["schools"]} == {world.school_a}


def test_self_registered_organizations_wait_for_a_district_to_verify_them(anon, world):
    from tests.api import factories

    anon.post("/v1/users", json={"email": "new@example.org", "password": "long enough pass"})
    token = anon.post(
        "/v1/auth/token", data={"username": "new@example.org", "password": "long enough pass"}
    ).json()["access_token"]
    mine = {"Authorization": f"Bearer {token}"}
    created = anon.post("/v1/organizations", json=factories.organization(), headers=mine)
    assert created.status_code == 201 and created.json()["verification"] == "unverified"
    org_id = created.json()["id"]
    assert anon.get("/v1/me", headers=mine).json()["organization_ids"] == [org_id]
    assert anon.get(f"/v1/organizations/{org_id}").status_code == 404
    assert (
        anon.patch(
            f"/v1/organizations/{org_id}", json={"description": "Ours"}, headers=mine
        ).status_code
        == 200
    )
    # School matches open once verified.
    assert anon.get(f"/v1/organizations/{org_id}/school-matches", headers=mine).status_code == 403

    district = world.headers[DISTRICT_ADMIN]
    path = f"/v1/organizations/{org_id}/verification"
    no_reason = anon.post(path, json={"state": "rejected"}, headers=district)
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["loc"] == ["body", "reason"]
    verified = anon.post(path, json={"state": "verified"}, headers=district)
    assert verified.status_code == 200
    assert verified.json()["verified_by_district_id"] == world.district_a
    assert anon.get(f"/v1/organizations/{org_id}").status_code == 200

    rejected = anon.post(
        path, json={"state": "rejected", "reason": "Not a real group"}, headers=district
    )
    assert rejected.json()["verification_reason"] == "Not a real group"
    assert anon.get(f"/v1/organizations/{org_id}").status_code == 404


def test_members_cannot_verify_their_own_organization(anon, world):
    member = world.headers[ORG_MEMBER]
    path = f"/v1/organizations/{world.orgs['unverified']}/verification"
    assert anon.post(path, json={"state": "verified"}, headers=member).status_code == 403
    patched = anon.patch(
        f"/v1/organizations/{world.orgs['unverified']}",
        json={"verification": "verified"},
        headers=member,
    )
    assert patched.status_code == 422  # not a field of the change any more


def test_a_district_admin_sees_its_events_and_organization_events_only(anon, client, db, world):
    from tests.api import factories

    client.post(f"/v1/schools/{world.school_b}/needs-assessments", json=factories.assessment())
    client.post(f"/v1/schools/{world.school_a}/needs-assessments", json=factories.assessment())
    client.patch(f"/v1/organizations/{world.orgs['other']}", json={"name": "Renamed"})
    events = anon.get("/v1/audit", headers=world.headers[DISTRICT_ADMIN]).json()["items"]
    assert {e["district_id"] for e in events if e["resource_type"] == "needs_assessment"} == {
        world.district_a
    }
    renamed = [e for e in events if e["resource_type"] == "organization"]
    assert renamed and renamed[0]["fields"] == ["name"] and renamed[0]["action"] == "update"
    with db.session() as session:
        assert session.scalar(
            select(AuditEvent.id).where(AuditEvent.district_id == world.district_b)
        )


def test_audit_pages_and_filters(anon, client, world):
    from tests.api import factories

    for _ in range(3):
        client.post(f"/v1/schools/{world.school_a}/needs-assessments", json=factories.assessment())
    first = client.get("/v1/audit", params={"limit": 2, "resource_type": "needs_assessment"})
    body = first.json()
    assert len(body["items"]) == 2 and body["next_cursor"]
    rest = client.get(
        "/v1/audit",
        params={"limit": 2, "resource_type": "needs_assessment", "cursor": body["next_cursor"]},
    ).json()
    ids = [e["id"] for e in body["items"] + rest["items"]]
    assert len(ids) == 3 and ids == sorted(ids, reverse=True)
    assert client.get("/v1/audit", params={"since": "2999-01-01T00:00:00Z"}).json()["items"] == []


def test_a_refused_write_leaves_no_audit_event(client, db, world):
    from tests.api import factories

    with db.session() as session:
        before = len(session.scalars(select(AuditEvent)).all())
    school = factories.school(nces_id="060177000041")
    assert client.post("/v1/schools", json=school).status_code == 201
    assert client.post("/v1/schools", json=school).status_code == 409
    with db.session() as session:
        assert len(session.scalars(select(AuditEvent)).all()) == before + 1
