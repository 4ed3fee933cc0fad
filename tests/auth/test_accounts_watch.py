"""The accounts watch (Database.watch, ServingCache.peek): a bearer token's principal held by a
worker is checked on every request against the accounts' serving version as the worker's own
connection reads it — strictly (a commit on any connection that finished before the request is
seen), with no pooled session and no thread — and when the watch cannot answer, the request
reads through its session as before: never a stale principal, never a 500."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from app import deps
from app.auth.principal import DISTRICT_ADMIN
from app.db import PostgresWatch
from app.main import create_app
from app.models import AccessToken, ApiKey, District, ServingVersion
from app.repositories import serving
from app.services import accounts
from tests.conftest import portal_read_key, statements_sent, user_token


def _rows(watch) -> dict[str, int]:  # type: ignore[no-untyped-def]
    rows = asyncio.run(watch.rows())
    assert rows is not None
    return dict(rows)


def _stored_version(db) -> int | None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return session.scalar(
            select(ServingVersion.version).where(ServingVersion.name == "accounts")
        )


@pytest.fixture
def watch(db):  # type: ignore[no-untyped-def]
    made = serving.watch(db)
    assert made is not None
    yield made
    made.close()


def test_the_watch_sees_a_commit_from_another_connection_at_once(db, watch):
    user_token(db, "seen@partnermap.test", "admin")
    before = _rows(watch)["accounts"]
    assert _rows(watch)["accounts"] == before  # nothing committed: the same answer
    with db.session() as session:  # another connection, as another worker or the CLI
        session.execute(update(AccessToken).values(revoked_at=AccessToken.expires_at))
        session.commit()
    after = _rows(watch)["accounts"]
    assert after != before
    assert after == _stored_version(db)


def test_the_sqlite_watch_holds_no_read_transaction_between_reads(db, watch, backend):
    """A snapshot held open would keep every checkpoint from emptying the WAL."""
    if backend != "sqlite":
        pytest.skip("SQLite's WAL")
    user_token(db, "wal@partnermap.test", "admin")
    _rows(watch)
    user_token(db, "wal2@partnermap.test", "admin")  # a commit: the watch reads the row again
    _rows(watch)
    checkpoint = sqlite3.connect(db.url.database, timeout=5)
    try:
        busy, _, _ = checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        checkpoint.close()
    assert busy == 0


@pytest.fixture
def staff(db):  # type: ignore[no-untyped-def]
    user_id, token = user_token(db, "staff@partnermap.test", "admin")
    return user_id, {"Authorization": f"Bearer {token}"}


def test_a_held_principal_needs_no_session_and_no_thread(db, app, staff, monkeypatch):
    _, bearer = staff
    hops: list[Any] = []

    async def recorded(func, *args, **kwargs):  # type: ignore[no-untyped-def]
        hops.append(func)
        return func(*args, **kwargs)

    with TestClient(app, raise_server_exceptions=False) as worker:
        assert worker.get("/v1/me", headers=bearer).status_code == 200  # read, then held
        monkeypatch.setattr(deps, "run_in_threadpool", recorded)
        with statements_sent(db) as statements:
            assert worker.get("/v1/me", headers=bearer).status_code == 200
    assert statements == []
    assert hops == []  # get_principal answered on the event loop


def test_a_token_revoked_in_the_database_is_refused_at_the_next_request(db, app, staff):
    _, bearer = staff
    with TestClient(app, raise_server_exceptions=False) as worker:
        assert worker.get("/v1/me", headers=bearer).status_code == 200
        assert worker.get("/v1/me", headers=bearer).status_code == 200  # held
        with db.session() as session:  # as the CLI or another worker would
            session.execute(update(AccessToken).values(revoked_at=AccessToken.created_at))
            session.commit()
        assert worker.get("/v1/me", headers=bearer).status_code == 401


class _Blind:
    """A watch that cannot answer (its connection lost, the database refusing it)."""

    async def rows(self) -> None:
        return None

    def close(self) -> None:
        pass


def test_when_the_watch_cannot_answer_the_session_reads_and_decides(db, app, staff):
    _, bearer = staff
    app.state.serving_cache.watch = _Blind()
    with TestClient(app, raise_server_exceptions=False) as worker:
        assert worker.get("/v1/me", headers=bearer).status_code == 200
        with statements_sent(db) as statements:
            assert worker.get("/v1/me", headers=bearer).status_code == 200
        assert any("serving_versions" in s for s in statements)  # the fallback read
        with db.session() as session:
            session.execute(update(AccessToken).values(revoked_at=AccessToken.created_at))
            session.commit()
        refused = worker.get("/v1/me", headers=bearer)
        assert refused.status_code == 401, refused.text


def test_the_watch_carries_the_name_pgappname_gives_the_workers_connections(
    db, settings, staff, backend, monkeypatch
):
    """An operator (or bench.http_compare, counting each server's database CPU) who names a
    service's connections with PGAPPNAME finds its watch beside them, as NAME-watch."""
    if backend != "postgis":
        pytest.skip("pg_stat_activity")
    _, bearer = staff
    monkeypatch.setenv("PGAPPNAME", "pm_test_named")
    worker = create_app(settings, database=db)
    with TestClient(worker, raise_server_exceptions=False) as client:
        for _ in range(2):  # the first may read through the session; the second, the watch
            assert client.get("/v1/me", headers=bearer).status_code == 200
        with db.engine.connect() as conn:
            names = conn.execute(
                text(
                    "SELECT application_name FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name LIKE 'pm_test%'"
                )
            ).scalars()
            assert "pm_test_named-watch" in set(names)
    monkeypatch.delenv("PGAPPNAME")
    assert PostgresWatch.application_name() == PostgresWatch.APPLICATION


def test_a_killed_watch_connection_is_replaced_and_answers_stay_right(db, app, staff, backend):
    if backend != "postgis":
        pytest.skip("pg_terminate_backend")
    _, bearer = staff
    with TestClient(app, raise_server_exceptions=False) as worker:
        assert worker.get("/v1/me", headers=bearer).status_code == 200
        assert worker.get("/v1/me", headers=bearer).status_code == 200  # the watch connected
        with db.engine.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = :name"
                ),
                {"name": PostgresWatch.APPLICATION},
            ).scalar()
        assert killed == 1
        answered = worker.get("/v1/me", headers=bearer)  # the watch's read fails: the session
        assert answered.status_code == 200, answered.text
        time.sleep(PostgresWatch.RETRY_S)
        assert worker.get("/v1/me", headers=bearer).status_code == 200
        with statements_sent(db) as statements:  # a new watch connection answers again
            assert worker.get("/v1/me", headers=bearer).status_code == 200
        assert statements == []
        with db.session() as session:
            session.execute(update(AccessToken).values(revoked_at=AccessToken.created_at))
            session.commit()
        assert worker.get("/v1/me", headers=bearer).status_code == 401


class _Frozen:
    """A PostgreSQL connection whose server accepted the query and never answers."""

    pgconn = SimpleNamespace(finish=lambda: None)

    async def execute(self, *args: Any, **kwargs: Any) -> None:
        await asyncio.Event().wait()

    async def close(self) -> None:
        pass


def test_a_frozen_database_makes_a_held_principal_a_503_not_a_hang(db, app, staff):
    _, bearer = staff

    async def connect() -> _Frozen:
        return _Frozen()

    with TestClient(app, raise_server_exceptions=False) as worker:
        assert worker.get("/v1/me", headers=bearer).status_code == 200  # held
        app.state.serving_cache.watch = PostgresWatch(connect, "SELECT 1", timeout_s=0.3)
        started = time.monotonic()
        answer = worker.get("/v1/me", headers=bearer)
        assert time.monotonic() - started < 5
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert "retry-after" in answer.headers


class _Gated:
    """A connection whose reads the test answers one by one, with the version it names."""

    pgconn = SimpleNamespace(finish=lambda: None)

    def __init__(self) -> None:
        self.reads: list[asyncio.Future[list[tuple[str, int]]]] = []

    async def execute(self, *args: Any, **kwargs: Any) -> _Gated:
        self.reads.append(asyncio.get_running_loop().create_future())
        self._pending = self.reads[-1]
        return self

    async def fetchall(self) -> list[tuple[str, int]]:
        return await self._pending

    async def close(self) -> None:
        pass


def test_callers_share_only_a_read_that_started_after_they_asked():
    conn = _Gated()

    async def connect() -> _Gated:
        return conn

    async def scenario() -> tuple[list[Any], int]:
        watch = PostgresWatch(connect, "SELECT name, version FROM serving_versions", 5.0)
        first = asyncio.ensure_future(watch.rows())
        while not conn.reads:
            await asyncio.sleep(0)
        # Asked while the first read is in flight: a commit may have finished before they
        # asked and after that read's snapshot, so its answer is not theirs.
        later = [asyncio.ensure_future(watch.rows()) for _ in range(15)]
        await asyncio.sleep(0.01)
        conn.reads[0].set_result([("accounts", 1)])
        while len(conn.reads) < 2:
            await asyncio.sleep(0)
        conn.reads[1].set_result([("accounts", 2)])
        answers = await asyncio.gather(first, *later)
        return answers, len(conn.reads)

    answers, reads = asyncio.run(scenario())
    assert answers[0] == [("accounts", 1)]
    assert answers[1:] == [[("accounts", 2)]] * 15
    assert reads == 2


def test_a_keys_last_use_is_no_credential_change(db, settings, staff):
    """A key's first use each minute writes last_used_at: it must not empty every worker's
    held principals (migration 0012)."""
    with db.session() as session:
        district = District(name="Watch district", slug="wd")
        session.add(district)
        session.commit()
        district_id = district.id
    _, key = portal_read_key(db, district_id)
    _, bearer = staff
    worker = create_app(settings.model_copy(update={"serving_cache_s": 3600.0}), database=db)
    with TestClient(worker, raise_server_exceptions=False) as client:
        assert client.get("/v1/me", headers=bearer).status_code == 200
        version = _stored_version(db)
        assert client.get("/v1/me", headers={"X-API-Key": key}).status_code == 200
        with db.session() as session:
            assert session.scalar(text("SELECT last_used_at FROM api_keys")) is not None
        assert _stored_version(db) == version
        with statements_sent(db) as statements:
            assert client.get("/v1/me", headers=bearer).status_code == 200
        assert "access_tokens" not in " ".join(statements)  # still held
        with db.session() as session:  # a revocation still moves it
            session.execute(text("UPDATE api_keys SET revoked_at = created_at"))
            session.commit()
        assert _stored_version(db) != version
        assert client.get("/v1/me", headers={"X-API-Key": key}).status_code == 401


# --- API keys: held like tokens' principals -----------------------------------------------------

PORTAL = "https://portal.example.org"


@pytest.fixture
def district_key(db) -> tuple[int, int, str]:  # type: ignore[no-untyped-def]
    """(the owner's user id, the key's id, the key) of a read key allowing PORTAL, made by a
    district admin who holds a bearer token too."""
    with db.session() as session:
        district = District(name="Key district", slug="kd")
        session.add(district)
        session.commit()
        district_id = district.id
    owner_id, _ = user_token(db, "owner@district.test", DISTRICT_ADMIN, district_id=district_id)
    key_id, key = portal_read_key(db, district_id, owner_id, (PORTAL,))
    return owner_id, key_id, key


def _worker(settings, db) -> TestClient:  # type: ignore[no-untyped-def]
    """Another worker on the same database: its own app, serving cache and watch."""
    app = create_app(settings.model_copy(update={"serving_cache_s": 3600.0}), database=db)
    return TestClient(app, raise_server_exceptions=False)


def test_a_held_key_needs_no_statement_and_no_thread(db, settings, district_key, monkeypatch):
    _, key_id, key = district_key
    hops: list[Any] = []

    async def recorded(func, *args, **kwargs):  # type: ignore[no-untyped-def]
        hops.append(func)
        return func(*args, **kwargs)

    with _worker(settings, db) as worker:
        # Read, recorded, then held (and the CORS middleware's union of origins loaded).
        first = worker.get("/v1/me", headers={"X-API-Key": key, "Origin": PORTAL})
        assert first.status_code == 200 and first.json()["key_id"] == key_id
        monkeypatch.setattr(deps, "run_in_threadpool", recorded)
        with statements_sent(db) as statements:
            again = worker.get("/v1/me", headers={"X-API-Key": key, "Origin": PORTAL})
    assert again.status_code == 200 and again.json()["key_id"] == key_id
    assert statements == []  # neither the key nor the serving versions through a session
    assert hops == []


def test_a_held_key_still_checks_the_origin_on_every_request(db, settings, district_key):
    _, _, key = district_key
    with _worker(settings, db) as worker:
        held = worker.get("/v1/me", headers={"X-API-Key": key, "Origin": PORTAL})
        assert held.status_code == 200
        with statements_sent(db) as statements:
            refused = worker.get("/v1/me", headers={"X-API-Key": key, "Origin": "https://x.test"})
        assert refused.status_code == 403, refused.text
        assert statements == []  # refused from what the worker holds
        assert worker.get("/v1/me", headers={"X-API-Key": key, "Origin": PORTAL}).status_code == 200


def test_a_key_revoked_on_another_worker_is_refused_at_the_next_request(db, settings, district_key):
    owner_id, key_id, key = district_key
    with db.session() as session:
        owner_token = session.scalar(select(AccessToken).where(AccessToken.user_id == owner_id))
        assert owner_token is not None
    _, admin_token = user_token(db, "other-admin@district.test", "admin")
    with _worker(settings, db) as one, _worker(settings, db) as two:
        assert two.get("/v1/me", headers={"X-API-Key": key}).status_code == 200
        assert two.get("/v1/me", headers={"X-API-Key": key}).status_code == 200  # held
        district_id = two.get("/v1/me", headers={"X-API-Key": key}).json()["district_id"]
        revoked = one.delete(
            f"/v1/districts/{district_id}/api-keys/{key_id}",
            headers={"Authorization": f"Bearer {admin_token}"},
        )
        assert revoked.status_code == 204, revoked.text
        refused = two.get("/v1/me", headers={"X-API-Key": key})
    assert refused.status_code == 401, refused.text


def test_a_key_whose_owner_is_disabled_on_another_worker_stops_at_once(db, settings, district_key):
    owner_id, _, key = district_key
    _, admin_token = user_token(db, "root@partnermap.test", "admin")
    with _worker(settings, db) as one, _worker(settings, db) as two:
        assert two.get("/v1/me", headers={"X-API-Key": key}).status_code == 200
        assert two.get("/v1/me", headers={"X-API-Key": key}).status_code == 200  # held
        disabled = one.patch(
            f"/v1/users/{owner_id}",
            json={"active": False},
            headers={"Authorization": f"Bearer {admin_token}"},
        )
        assert disabled.status_code == 200, disabled.text
        assert two.get("/v1/me", headers={"X-API-Key": key}).status_code == 401


def test_origins_changed_through_another_connection_count_at_the_next_request(
    db, settings, district_key
):
    _, key_id, key = district_key
    moved = "https://new-portal.example.org"
    with _worker(settings, db) as worker:
        assert worker.get("/v1/me", headers={"X-API-Key": key, "Origin": PORTAL}).status_code == 200
        with db.session() as session:  # as the CLI or another worker would
            session.execute(
                update(ApiKey).where(ApiKey.id == key_id).values(allowed_origins=[moved])
            )
            session.commit()
        old = worker.get("/v1/me", headers={"X-API-Key": key, "Origin": PORTAL})
        new = worker.get("/v1/me", headers={"X-API-Key": key, "Origin": moved})
    assert old.status_code == 403, old.text
    assert new.status_code == 200, new.text


def test_a_held_keys_use_is_still_recorded_once_a_minute(db, settings, district_key, monkeypatch):
    _, key_id, key = district_key

    def last_used() -> dt.datetime | None:
        with db.session() as session:
            return session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id))

    with _worker(settings, db) as worker:
        assert worker.get("/v1/me", headers={"X-API-Key": key}).status_code == 200
        first = last_used()
        assert first is not None
        with statements_sent(db) as statements:
            assert worker.get("/v1/me", headers={"X-API-Key": key}).status_code == 200
        assert statements == []  # within the minute: held, nothing written
        later = dt.datetime.now(dt.UTC) + accounts.TOUCH_EVERY + dt.timedelta(seconds=1)
        monkeypatch.setattr(accounts, "_now", lambda: later)
        with statements_sent(db) as statements:
            assert worker.get("/v1/me", headers={"X-API-Key": key}).status_code == 200
        assert any(s.lstrip().upper().startswith("UPDATE API_KEYS") for s in statements)
        assert _as_utc(last_used()) == later
        with statements_sent(db) as statements:
            assert worker.get("/v1/me", headers={"X-API-Key": key}).status_code == 200
        assert statements == []  # held again until the next minute


def _as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive UTC datetimes; PostgreSQL aware ones."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)
