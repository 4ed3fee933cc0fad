"""District portals: API keys (hashed, shown once, scoped, revocable) and CORS per key."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from app.main import create_app
from app.models import ApiKey, District
from tests.conftest import user_token

PORTAL = "https://portal.oakland.example.org"


@pytest.fixture
def district(db) -> int:  # type: ignore[no-untyped-def]
    with db.session() as session:
        row = District(name="Oakland Unified School District", slug="oakland")
        session.add(row)
        session.commit()
        return row.id


@pytest.fixture
def district_admin(db, district) -> dict[str, str]:  # type: ignore[no-untyped-def]
    _, token = user_token(db, "da@ousd.test", "district_admin", district_id=district)
    return {"Authorization": f"Bearer {token}"}


def _make_key(anon, district, headers, scope="read", origins=(PORTAL,)) -> dict:
    response = anon.post(
        f"/v1/districts/{district}/api-keys",
        json={"name": "portal", "scope": scope, "allowed_origins": list(origins)},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_key_is_shown_once_and_stored_only_as_a_hash(anon, db, district, district_admin):
    made = _make_key(anon, district, district_admin)
    key = made["key"]
    assert key.startswith(f"pmk_{made['prefix']}_")
    listed = anon.get(f"/v1/districts/{district}/api-keys", headers=district_admin).json()
    assert "key" not in listed[0] and key not in str(listed)
    # The secret is everything after the prefix: it may itself hold "_" (URL-safe base64).
    secret = key.removeprefix(f"pmk_{made['prefix']}_")
    assert len(secret) >= 32
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM api_keys")).all()
        events = conn.execute(text("SELECT * FROM audit_events")).all()
    assert rows and all(secret not in str(row) and key not in str(row) for row in rows)
    assert all(secret not in str(event) for event in events)


def test_keys_never_reach_the_logs(anon, district, district_admin, caplog):
    caplog.set_level(logging.DEBUG)
    made = _make_key(anon, district, district_admin)
    anon.get("/v1/schools", headers={"X-API-Key": made["key"]})
    anon.get("/v1/schools", params={"q": "x"}, headers={"X-API-Key": made["key"] + "x"})
    secret = made["key"].removeprefix(f"pmk_{made['prefix']}_")
    assert caplog.records and all(secret not in r.getMessage() for r in caplog.records)


def test_a_read_key_reads_its_district_and_cannot_write(anon, district, district_admin):
    key = {"X-API-Key": _make_key(anon, district, district_admin, "read")["key"]}
    assert anon.get("/v1/audit", headers=key).status_code == 200
    response = anon.post("/v1/schools", json={"name": "x"}, headers=key)
    assert response.status_code == 403


def test_a_read_write_key_adds_schools_to_its_own_district(anon, district, district_admin):
    from tests.api import factories

    key = {"X-API-Key": _make_key(anon, district, district_admin, "read_write")["key"]}
    response = anon.post("/v1/schools", json=factories.school(district=None), headers=key)
    assert response.status_code == 201
    assert response.json()["district_id"] == district
    assert response.json()["district"] == "Oakland Unified School District"


def test_a_revoked_key_is_refused_at_once(anon, district, district_admin):
    made = _make_key(anon, district, district_admin)
    key = {"X-API-Key": made["key"]}
    assert anon.get("/v1/me", headers=key).status_code == 200
    gone = anon.delete(f"/v1/districts/{district}/api-keys/{made['id']}", headers=district_admin)
    assert gone.status_code == 204
    assert anon.get("/v1/me", headers=key).status_code == 401


def test_a_key_with_the_wrong_secret_is_refused(anon, district, district_admin):
    made = _make_key(anon, district, district_admin)
    forged = made["key"][:-4] + ("AAAA" if not made["key"].endswith("AAAA") else "BBBB")
    assert anon.get("/v1/me", headers={"X-API-Key": forged}).status_code == 401


def test_last_used_is_recorded_without_a_write_per_request(anon, db, district, district_admin):
    made = _make_key(anon, district, district_admin)
    key = {"X-API-Key": made["key"]}
    anon.get("/v1/me", headers=key)
    with db.session() as session:
        first = session.scalar(select(ApiKey.last_used_at))
    assert first is not None
    anon.get("/v1/me", headers=key)
    with db.session() as session:
        assert session.scalar(select(ApiKey.last_used_at)) == first


def test_origins_must_be_exact_origins(anon, district, district_admin):
    for bad in ("*", "https://portal.example.org/path", "portal.example.org"):
        response = anon.post(
            f"/v1/districts/{district}/api-keys",
            json={"name": "p", "scope": "read", "allowed_origins": [bad]},
            headers=district_admin,
        )
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["loc"] == ["body", "allowed_origins", 0]


# --- CORS ------------------------------------------------------------------------------------


def _preflight(anon, origin: str, method: str = "GET"):
    return anon.options(
        "/v1/schools",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "x-api-key",
        },
    )


def test_preflight_from_a_keys_origin_is_allowed_without_wildcard(anon, district, district_admin):
    _make_key(anon, district, district_admin)
    response = _preflight(anon, PORTAL)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == PORTAL
    assert "x-api-key" in response.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in response.headers
    assert "Origin" in response.headers["vary"]


def test_a_fresh_union_of_origins_is_read_without_a_thread(
    anon, district, district_admin, monkeypatch
):
    import anyio.to_thread

    _make_key(anon, district, district_admin)
    assert _preflight(anon, PORTAL).status_code == 204  # loads the union (in a thread)
    loads: list[object] = []
    run_sync = anyio.to_thread.run_sync

    async def recorded(func, *args, **kwargs):  # type: ignore[no-untyped-def]
        loads.append(func)
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", recorded)
    assert _preflight(anon, PORTAL).status_code == 204
    assert _preflight(anon, "https://evil.example.com").status_code == 403
    assert loads == []  # both answered from the held union, on the event loop


def test_preflight_from_another_origin_is_refused(anon, district, district_admin):
    _make_key(anon, district, district_admin)
    response = _preflight(anon, "https://evil.example.com")
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers


def test_a_revoked_keys_origin_loses_its_preflight(anon, district, district_admin):
    made = _make_key(anon, district, district_admin)
    assert _preflight(anon, PORTAL).status_code == 204
    anon.delete(f"/v1/districts/{district}/api-keys/{made['id']}", headers=district_admin)
    assert _preflight(anon, PORTAL).status_code == 403


def test_the_settings_allowlist_adds_origins(db, settings):
    settings.cors_origins = ["https://app.partnermap.example"]
    with TestClient(create_app(settings, database=db)) as client:
        assert _preflight(client, "https://app.partnermap.example").status_code == 204


def test_a_request_with_a_key_from_an_origin_the_key_does_not_allow_is_403(
    anon, db, district, district_admin
):
    read_key = {"X-API-Key": _make_key(anon, district, district_admin)["key"]}
    other = _make_key(anon, district, district_admin, origins=["https://other.example.org"])
    allowed = anon.get("/v1/me", headers={**read_key, "Origin": PORTAL})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == PORTAL
    # The origin passes CORS (another key allows it) but not this key.
    refused = anon.get("/v1/me", headers={"X-API-Key": other["key"], "Origin": PORTAL})
    assert refused.status_code == 403
    assert refused.headers["access-control-allow-origin"] == PORTAL  # so the portal can read it
    # Server-to-server calls carry no Origin and are not limited by it.
    assert anon.get("/v1/me", headers={"X-API-Key": other["key"]}).status_code == 200


def test_responses_to_unknown_origins_carry_no_cors_headers(anon):
    response = anon.get("/v1/schools", headers={"Origin": "https://evil.example.com"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
