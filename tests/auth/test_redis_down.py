"""REDIS_URL set and Redis not answering (nothing listens on its port): the service stays up.
Rate limits pass requests uncounted (and stop asking Redis for a few seconds after each
failure), the log-in throttle cannot count and answers 503 with Retry-After, pre-flights
are answered from the database's origins, and a key's write is not failed by the shared
generation it cannot bump. Every case was a 500 before."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import user_token
from tests.pages.test_embed import _key

DOWN = "redis://127.0.0.1:1/0"  # connection refused at once, as a stopped Redis
PORTAL = "https://portal.example.org"


@pytest.fixture
def worker(db, settings):  # type: ignore[no-untyped-def]
    settings = settings.model_copy(update={"redis_url": DOWN, "rate_limit_per_minute_ip": 60})
    with TestClient(create_app(settings, database=db), raise_server_exceptions=False) as client:
        yield client


def test_requests_pass_uncounted_and_the_outage_is_logged_once_per_retry(worker, caplog):
    with caplog.at_level(logging.WARNING, logger="partnermap.limits"):
        statuses = [worker.get("/v1/taxonomy").status_code for _ in range(5)]
    assert statuses == [200] * 5
    warnings = [r for r in caplog.records if "Redis does not answer" in r.getMessage()]
    assert len(warnings) == 1  # then no request asks Redis again for SHARED_RETRY_S


def test_a_log_in_is_a_503_naming_the_shared_store(worker, db):
    user_token(db, "principal@partnermap.test", "admin")
    answer = worker.post(
        "/v1/auth/token",
        data={"username": "principal@partnermap.test", "password": "wrong-password"},
    )
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert int(answer.headers["retry-after"]) >= 1
    assert "Redis" in answer.json()["detail"]


def test_a_preflight_from_a_keys_origin_is_answered_from_the_database(worker, db):
    _key(db, origins=(PORTAL,))  # its origins.changed() cannot bump the shared generation
    answer = worker.options(
        "/v1/schools",
        headers={"Origin": PORTAL, "Access-Control-Request-Method": "GET"},
    )
    assert answer.status_code == 204, answer.text
    assert answer.headers["access-control-allow-origin"] == PORTAL


def test_the_sign_in_page_says_the_service_is_unavailable(worker, db):
    """The page's log-in counts attempts in Redis too: a person gets the unavailable page."""
    user_token(db, "principal@partnermap.test", "admin")
    worker.get("/sign-in")
    answer = worker.post(
        "/sign-in",
        data={
            "email": "principal@partnermap.test",
            "password": "wrong-password",
            "csrf_token": worker.cookies["pm_csrf"],
        },
    )
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("text/html")
    assert "<h1>Temporarily unavailable</h1>" in answer.text
    assert "retry-after" in answer.headers
