"""What a worker keeps between rankings (the school's latest needs, a token's principal, what
results show, polygon service areas) ends at the next request after a write, on every worker:
two apps on one database stand for two workers."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.main import create_app
from app.models import District, User
from tests.api.factories import offering, organization, school
from tests.conftest import statements_sent, user_token

NEAR = {"lat": 37.790, "lon": -122.206}
NEEDS = [{"category": "mental_health_sel", "priority": 1}, {"category": "arts", "priority": 2}]


@pytest.fixture
def other(db, settings, client) -> Iterator[TestClient]:
    """A second worker on the same database, with the operator's token."""
    with TestClient(create_app(settings, database=db), raise_server_exceptions=False) as second:
        second.headers["Authorization"] = client.headers["Authorization"]
        yield second


def _school_with_needs(client, needs=NEEDS) -> int:
    sid = client.post("/v1/schools", json=school()).json()["id"]
    filed = client.post(
        f"/v1/schools/{sid}/needs-assessments", json={"assessed_on": "2026-09-01", "needs": needs}
    )
    assert filed.status_code == 201, filed.text
    return sid


def _partner(client, name="Partner", **changes) -> tuple[int, int]:
    body = organization(name=name, locations=[NEAR], service_area={"kind": "none"}, **changes)
    org = client.post("/v1/organizations", json=body)
    assert org.status_code == 201, org.text
    made = client.post(
        f"/v1/organizations/{org.json()['id']}/offerings",
        json=offering(categories=["arts"], grade_low=0, grade_high=5),
    )
    assert made.status_code == 201, made.text
    return org.json()["id"], made.json()["id"]


def _ranked(client, sid):
    response = client.get(f"/v1/schools/{sid}/matches")
    assert response.status_code == 200, response.text
    return response.json()


def test_a_repeated_ranking_reads_neither_the_assessment_nor_the_token_again(client, db):
    sid = _school_with_needs(client)
    _partner(client)
    _ranked(client, sid)
    with statements_sent(db) as statements:
        _ranked(client, sid)
    read = " ".join(statements)
    for table in ("needs_assessments", "access_tokens", "offerings", "organizations"):
        assert table not in read, table


def test_a_new_assessment_filed_on_another_worker_ranks_at_once(client, other):
    sid = _school_with_needs(client)
    _partner(client)
    first = _ranked(client, sid)
    refiled = other.post(
        f"/v1/schools/{sid}/needs-assessments",
        json={"assessed_on": "2026-10-01", "needs": [{"category": "arts", "priority": 1}]},
    )
    assert refiled.status_code == 201, refiled.text
    second = _ranked(client, sid)
    assert second["needs_assessment_id"] == refiled.json()["id"] != first["needs_assessment_id"]


def test_a_district_equity_default_set_elsewhere_applies_at_once(client, db):
    sid = _school_with_needs(client)  # in the factory's district, added by name
    _partner(client)
    assert _ranked(client, sid)["equity"] != 0.9
    with db.session() as session:  # as `partnermap districts` would, from another process
        session.execute(update(District).values(ranking_equity=0.9))
        session.commit()
    assert _ranked(client, sid)["equity"] == 0.9


def test_a_renamed_organization_shows_its_new_name_on_every_worker(client, other):
    sid = _school_with_needs(client)
    org, _ = _partner(client, name="Old name")
    assert {i["offering"]["organization_name"] for i in _ranked(client, sid)["items"]} == {
        "Old name"
    }
    renamed = other.patch(f"/v1/organizations/{org}", json={"name": "New name"})
    assert renamed.status_code == 200, renamed.text
    assert {i["offering"]["organization_name"] for i in _ranked(client, sid)["items"]} == {
        "New name"
    }


def test_a_token_revoked_on_another_worker_is_refused_at_once(app, db, settings):
    _, token = user_token(db, "staff@partnermap.test", "admin")
    headers = {"Authorization": f"Bearer {token}"}
    with (
        TestClient(app, raise_server_exceptions=False) as first,
        TestClient(create_app(settings, database=db), raise_server_exceptions=False) as second,
    ):
        assert first.get("/v1/me", headers=headers).status_code == 200
        assert second.post("/v1/auth/revoke", headers=headers).status_code == 204
        assert first.get("/v1/me", headers=headers).status_code == 401


def test_a_user_disabled_in_the_database_is_refused_at_once(app, db):
    user_id, token = user_token(db, "staff@partnermap.test", "admin")
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(app, raise_server_exceptions=False) as first:
        assert first.get("/v1/me", headers=headers).status_code == 200
        with db.session() as session:  # as the CLI or another worker would
            session.execute(update(User).where(User.id == user_id).values(is_active=False))
            session.commit()
        assert first.get("/v1/me", headers=headers).status_code == 401


def test_offering_writes_alone_do_not_reload_the_partnership_history(client, app, monkeypatch):
    from app.repositories import catalog

    sid = _school_with_needs(client)
    org, made = _partner(client)
    _ranked(client, sid)
    reads: list[int] = []
    real = catalog.partnership_history
    monkeypatch.setattr(catalog, "partnership_history", lambda s: reads.append(1) or real(s))
    changed = client.patch(f"/v1/offerings/{made}", json={"title": "Mural club"})
    assert changed.status_code == 200, changed.text
    assert "Mural club" in {i["offering"]["title"] for i in _ranked(client, sid)["items"]}
    assert reads == []
    renamed = client.patch(f"/v1/organizations/{org}", json={"name": "Renamed"})
    assert renamed.status_code == 200, renamed.text
    _ranked(client, sid)
    assert reads == [1]  # an organization change may be a partnership: the history is re-read
