"""A database that stalls (accepts, never answers) or is down: requests are 503s within the
connect timeout, /ready within its own, /health stays 200, and a browser's call that needs no
database (Origin header) still answers."""

from __future__ import annotations

import inspect
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from starlette.routing import Route

from app.auth.origins import OriginCache
from app.db import Database
from app.main import create_app
from app.routers import health
from app.settings import Settings


@pytest.fixture
def stalled_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never says a word, as a
    PostgreSQL whose processes are stopped."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def _app(url: str, **overrides: object) -> FastAPI:
    values: dict[str, object] = {
        "warm_ranking_index": False,
        "database_url": url,
        "rate_limit_per_minute_ip": 0,
        "rate_limit_per_minute_key": 0,
        "db_connect_timeout_s": 2,
        "ready_timeout_s": 0.5,
    }
    settings = Settings(**{**values, **overrides})  # type: ignore[arg-type]
    return create_app(settings, database=Database.of(settings))


def _stalled(port: int) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/partnermap_stalled"


def test_a_stalled_database_is_a_503_with_retry_after_within_the_connect_timeout(stalled_port):
    with TestClient(_app(_stalled(stalled_port)), raise_server_exceptions=False) as client:
        started = time.monotonic()
        response = client.get("/v1/organizations", headers={"Authorization": "Bearer x"})
        elapsed = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert elapsed < 8  # far under the 20 s request deadline that would otherwise answer


def test_ready_is_a_503_within_its_own_timeout_when_the_database_stalls(stalled_port):
    app = _app(_stalled(stalled_port), db_connect_timeout_s=15)
    with TestClient(app, raise_server_exceptions=False) as client:
        started = time.monotonic()
        response = client.get("/ready")
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert elapsed < 8  # its 0.5 s, not the 15 s connect timeout


def test_health_answers_200_without_the_database_even_with_credentials(stalled_port):
    # A token is checked against the database by the permission door; the probe skips it.
    app = _app(_stalled(stalled_port), db_connect_timeout_s=15)
    with TestClient(app, raise_server_exceptions=False) as client:
        started = time.monotonic()
        response = client.get("/health", headers={"Authorization": "Bearer not-checked"})
    assert response.status_code == 200
    assert time.monotonic() - started < 8  # not the 15 s connect timeout


def test_probes_run_on_the_event_loop_with_no_dependencies():
    # Sync handlers and dependencies take a worker thread, which a stalled database holds.
    routes = {r.path: r for r in health.router.routes if isinstance(r, APIRoute)}
    for path in ("/health", "/ready"):
        assert inspect.iscoroutinefunction(routes[path].endpoint), path
        assert routes[path].dependant.dependencies == [], path


def test_postgresql_sessions_carry_the_statement_and_lock_timeouts(database):
    if not database.is_postgis:
        pytest.skip("PostgreSQL settings")
    settings = Settings(
        database_url=str(database.url.render_as_string(hide_password=False)),
        db_statement_timeout_ms=1234,
        db_lock_timeout_ms=567,
    )
    db = Database.of(settings)
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "1234ms"
            assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "567ms"
    finally:
        db.dispose()


def test_sqlite_waits_busy_timeout_for_a_lock(tmp_path):
    db = Database.of(Settings(database_url=f"sqlite:///{tmp_path / 'b.db'}"))
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_a_browser_call_needing_no_database_answers_while_it_is_down():
    app = _app("postgresql+psycopg://postgres@127.0.0.1:1/partnermap_down")
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/v1/taxonomy", headers={"Origin": "https://portal.example.org"})
    assert response.status_code == 200, response.text


def test_a_preflight_from_an_allowed_origin_passes_while_the_database_is_down():
    app = _app(
        "postgresql+psycopg://postgres@127.0.0.1:1/partnermap_down",
        cors_origins=["https://portal.example.org"],
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.options(
            "/v1/organizations",
            headers={
                "Origin": "https://portal.example.org",
                "Access-Control-Request-Method": "GET",
            },
        )
    assert response.status_code == 204, response.text


def test_the_origin_cache_keeps_the_last_origins_when_the_database_fails():
    answers: list[set[str] | Exception] = [
        {"https://a.example.org"},
        OperationalError("SELECT", {}, Exception("down")),
    ]

    def load() -> set[str]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    cache = OriginCache(load, ttl_seconds=0)
    assert cache.current() == {"https://a.example.org"}
    assert cache.current() == {"https://a.example.org"}
    assert answers == []


def test_a_request_whose_answer_does_not_start_in_time_is_a_503_with_retry_after():
    # A handler stuck in a worker thread, as on a pooled connection to a frozen server.
    app = _app("sqlite:///:memory:", request_timeout_s=0.5)
    released = threading.Event()
    app.router.routes.append(Route("/stuck", lambda request: released.wait(30)))
    with TestClient(app, raise_server_exceptions=False) as client:
        started = time.monotonic()
        response = client.get("/stuck")
        elapsed = time.monotonic() - started
        assert client.get("/health").status_code == 200  # the connection is still usable
        released.set()
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) >= 1
    assert "x-request-id" in response.headers
    assert elapsed < 10  # the handler alone would take 30 s


def test_a_page_whose_answer_does_not_start_in_time_is_the_unavailable_page(monkeypatch, tmp_path):
    """The same deadline for a person on a page (its data read stuck, as on a frozen server):
    the HTML "unavailable" page with Retry-After, not the API's problem+json."""
    from app.pages import public

    released = threading.Event()

    def stuck(**_: object) -> None:
        released.wait(30)

    monkeypatch.setattr(public.organizations, "visible", stuck)
    app = _app(f"sqlite:///{tmp_path / 'stuck.db'}", request_timeout_s=0.5)
    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/organizations/1", headers={"Accept": "text/html"})
        released.set()
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert int(page.headers["retry-after"]) >= 1
    assert "<h1>Temporarily unavailable</h1>" in page.text
    assert "x-request-id" in page.headers


def test_a_connection_dropped_mid_transaction_rolls_back_without_a_new_error(tmp_path):
    """A connection the database dropped (a PostgreSQL restart or crash) is invalidated; rolling
    its transaction back must not raise again. The write counter's rollback hook read the
    connection's `info`, which then tried to reconnect and raised PendingRollbackError, so the
    request's OperationalError (a 503) became a 500 (tests/faults, PostGIS restart)."""
    from sqlalchemy import text

    database = Database(f"sqlite:///{tmp_path / 'dropped.db'}")
    try:
        with database.engine.connect() as conn:
            conn.begin()
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.invalidate()
            conn.rollback()
    finally:
        database.dispose()
