"""Idempotency-Key on POST: a retry after a timeout gets the first answer, not a duplicate."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.main import create_app
from app.models import Organization
from tests.api.factories import organization
from tests.conftest import user_token


def _organizations(db) -> int:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Organization)) or 0)


def test_a_retried_post_with_the_same_key_replays_the_first_answer_and_creates_once(client, db):
    headers = {"Idempotency-Key": "b0c5b3a2-retry-1"}
    first = client.post("/v1/organizations", json=organization(), headers=headers)
    again = client.post("/v1/organizations", json=organization(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert _organizations(db) == 1


def test_the_same_key_with_another_body_is_a_422_naming_the_header(client, db):
    headers = {"Idempotency-Key": "reused"}
    assert client.post("/v1/organizations", json=organization(), headers=headers).status_code == 201
    other = client.post("/v1/organizations", json=organization(name="Other"), headers=headers)
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert _organizations(db) == 1


def test_posts_without_a_key_or_with_new_keys_each_create(client, db):
    client.post("/v1/organizations", json=organization())
    client.post("/v1/organizations", json=organization())
    client.post("/v1/organizations", json=organization(), headers={"Idempotency-Key": "k1"})
    client.post("/v1/organizations", json=organization(), headers={"Idempotency-Key": "k2"})
    assert _organizations(db) == 4


def test_a_key_belongs_to_its_caller(client, app, db):
    _, token = user_token(db, "second-operator@partnermap.test", "admin")
    headers = {"Idempotency-Key": "shared"}
    assert client.post("/v1/organizations", json=organization(), headers=headers).status_code == 201
    with TestClient(app) as other:
        other.headers["Authorization"] = f"Bearer {token}"
        second = other.post("/v1/organizations", json=organization(), headers=headers)
    assert second.status_code == 201 and "idempotent-replayed" not in second.headers
    assert _organizations(db) == 2


def test_an_expired_key_runs_the_request_again(db, settings):
    settings.idempotency_ttl_hours = 1e-9
    _, token = user_token(db, "operator@partnermap.test", "admin")
    with TestClient(create_app(settings, database=db)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        for _ in range(2):
            made = client.post(
                "/v1/organizations", json=organization(), headers={"Idempotency-Key": "old"}
            )
            assert made.status_code == 201 and "idempotent-replayed" not in made.headers
    assert _organizations(db) == 2


def test_a_malformed_key_is_a_422(client):
    refused = client.post(
        "/v1/organizations", json=organization(), headers={"Idempotency-Key": "a b"}
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
