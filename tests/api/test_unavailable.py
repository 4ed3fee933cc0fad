"""A database that is down or locked is a 503 with Retry-After; an unexpected error is one
logged 500 that does not bring the connection down."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.routing import Route

from app.db import Database
from app.main import create_app
from app.settings import Settings


def _app(url: str) -> FastAPI:
    settings = Settings(
        warm_ranking_index=False,
        database_url=url,
        rate_limit_per_minute_ip=0,
        rate_limit_per_minute_key=0,
    )
    return create_app(settings, database=Database(url))


def _assert_unavailable(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()
    assert body["type"].endswith("/unavailable")
    assert "SELECT" not in body["detail"]  # no SQL or driver internals leave the service


def test_a_database_that_is_down_is_a_503_with_retry_after():
    # Nothing listens on port 1: the driver's connection is refused, as when PostgreSQL is down.
    app = _app("postgresql+psycopg://postgres@127.0.0.1:1/partnermap_down")
    with TestClient(app) as client:
        _assert_unavailable(client.get("/v1/organizations"))


def test_a_database_that_is_down_under_the_idempotency_key_is_a_503_too():
    """The Idempotency-Key's claim reads the database before any route (outside the routes'
    error handlers): down, it is the same 503 (it was a 500). PortalCORS keeps the origins it
    had when its read fails, so an Origin alone is no error."""
    app = _app("postgresql+psycopg://postgres@127.0.0.1:1/partnermap_down")
    with TestClient(app) as client:
        headers = {"Idempotency-Key": "down-1"}
        _assert_unavailable(client.post("/v1/organizations", json={}, headers=headers))


def test_a_page_says_the_service_is_unavailable_in_the_visitors_language():
    """A person on a page gets a page, not the API's problem+json: 503, Retry-After, in the
    language asked for (the JSON API under /v1 keeps its problem, above)."""
    app = _app("postgresql+psycopg://postgres@127.0.0.1:1/partnermap_down")
    with TestClient(app) as client:
        english = client.get("/organizations/1", headers={"Accept": "text/html"})
        spanish = client.get("/organizations/1", params={"lang": "es"})
    assert english.status_code == spanish.status_code == 503
    assert english.headers["content-type"].startswith("text/html")
    assert int(english.headers["retry-after"]) >= 1
    assert "<h1>Temporarily unavailable</h1>" in english.text
    assert "<h1>No disponible por el momento</h1>" in spanish.text


@pytest.fixture
def locked_sqlite(tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A SQLite file another connection holds an exclusive lock on."""
    path = tmp_path / "locked.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE held (x)")
    try:
        yield f"sqlite:///{path}"
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_locked_sqlite_database_is_a_503_with_retry_after(locked_sqlite):
    with TestClient(_app(locked_sqlite)) as client:
        _assert_unavailable(client.get("/v1/organizations"))


def test_an_unexpected_error_is_one_logged_500_problem_and_not_re_raised(settings, db, caplog):  # type: ignore[no-untyped-def]
    app = create_app(settings, database=db)

    def boom(request: Request) -> None:
        raise RuntimeError("a bug")

    # A bare route, outside the permission door, stands for a bug in any handler.
    app.router.routes.append(Route("/boom", boom))
    # raise_server_exceptions=True (the default) re-raises whatever the app lets escape.
    with TestClient(app) as client, caplog.at_level(logging.INFO):
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/internal")
    logged = [r for r in caplog.records if r.exc_info and r.exc_info[1].args == ("a bug",)]
    assert len(logged) == 1
