"""No wait for the pool while others wait on the waiter: a request that holds a connection (its
principal was read through its session) and waits for something (the ranking in the pool,
the index, a worker thread) must never be what that something waits for. Else, with as many
such requests as the pool has connections, the worker stalls for the pool's timeout and
answers 503s (seen in `bench http` at 16 clients, a pool of 5 + 10; and with 64 clients of
their own tokens, every request, until the clients gave up).

Each test gives a real database a pool of one connection."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from app.db import Database, Timeouts
from app.deps import given
from app.errors import kind_of
from app.main import create_app
from app.routers.matches import Rankings
from app.services.catalog_index import CatalogIndex
from tests.api.factories import organization
from tests.conftest import user_token
from tests.imports.helpers import ORGANIZATIONS

POOL_S = 3.0  # the pool's timeout: what the stall lasted


@pytest.fixture
def one_connection(db: Database) -> Iterator[Database]:
    single = Database(
        db.url.render_as_string(hide_password=False),
        timeouts=Timeouts(pool_s=POOL_S),
        pool_size=1,
        max_overflow=0,
    )
    yield single
    single.engine.dispose()


def _read(session: Session) -> bytes:
    return str(session.execute(text("SELECT 1")).scalar_one()).encode()


def test_the_ranking_in_the_pool_has_its_connection_before_others_wait_for_it(one_connection):
    async def scenario() -> tuple[bytes, bytes]:
        rankings, index = Rankings(), CatalogIndex()  # never fresh: each ranking reads
        first = one_connection.sessions()  # its principal was held: no connection yet
        waiting = one_connection.sessions()
        _read(waiting)  # its principal was read: it holds the pool's one connection
        try:
            task = asyncio.create_task(rankings.answer(index, given(first), _read))
            await asyncio.sleep(0.3)  # the first is on its way to the pool
            second = await asyncio.wait_for(
                rankings.answer(index, given(waiting), _read), timeout=POOL_S / 2
            )
        finally:
            waiting.close()  # its request ends: the connection goes back
        try:
            return await task, second
        finally:
            first.close()

    assert asyncio.run(scenario()) == (b"1", b"1")


def test_the_thread_looking_at_the_log_has_its_connection_before_it_holds_the_index(
    one_connection,
):
    index = CatalogIndex()  # never fresh: every current() looks at the log
    first = one_connection.sessions()  # not connected yet
    waiting = one_connection.sessions()
    _read(waiting)  # holds the pool's one connection
    errors: list[BaseException] = []

    def look() -> None:
        try:
            index.current(first)
        except BaseException as exc:  # the pool's timeout, were it waited for with the index
            errors.append(exc)
        finally:
            first.close()

    thread = threading.Thread(target=look)
    thread.start()
    thread.join(0.3)  # the first is on its way to the index
    done = threading.Event()

    def build() -> None:
        index.current(waiting)  # waits for the index if the first holds it
        done.set()

    other = threading.Thread(target=build)
    other.start()
    assert done.wait(POOL_S / 2), "the index was held by a thread waiting for the pool"
    waiting.close()
    other.join()
    thread.join(POOL_S * 2)
    assert errors == []
    assert index.built


STORM = 10


def _storm(database: Database, settings, request, count: int = STORM) -> tuple[list[int], float]:  # type: ignore[no-untyped-def]
    """`count` requests at once, each with a token of its own, on two worker threads: their
    statuses and how long they took. request(worker, token, i) makes one."""
    tokens = [user_token(database, f"u{i}@partnermap.test", "admin")[1] for i in range(count)]
    app = create_app(settings, database=database)
    with TestClient(app, raise_server_exceptions=False) as worker:

        def two_threads() -> None:
            anyio.to_thread.current_default_thread_limiter().total_tokens = 2

        worker.portal.call(two_threads)
        statuses: list[int] = []

        def call(i: int) -> None:
            statuses.append(request(worker, tokens[i], i).status_code)

        callers = [threading.Thread(target=call, args=(i,)) for i in range(len(tokens))]
        started = time.monotonic()
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
        return statuses, time.monotonic() - started


def test_requests_beyond_the_pool_wait_on_the_loop_not_in_the_threads_holders_need(
    one_connection, settings
):
    """Each request reads its principal (a token of its own: none held), then answers in a
    thread: with more such requests than the pool has connections and the thread pool has
    threads, those waiting for a connection in every thread left the one holding it no
    thread to answer in, until the pool's timeout (503s). Here: one connection, two threads,
    six requests at once — all answered."""

    def me(worker: TestClient, token: str, i: int):  # type: ignore[no-untyped-def]
        return worker.get("/v1/me", headers={"Authorization": f"Bearer {token}"})

    statuses, took = _storm(one_connection, settings, me, count=6)
    assert statuses == [200] * 6
    assert took < POOL_S  # nobody waited for the pool's timeout


def test_idempotent_posts_claim_their_key_with_a_slot_not_in_the_threads_holders_need(
    one_connection, settings
):
    """The Idempotency-Key's claim and settlement read the database in a thread of their own
    session: waited for there, they took the threads the requests holding the connection
    needed (as the sessions did before Database.slots), and the requests stalled for the
    pool's timeout. Ten POSTs with keys at once on one connection and two threads: all
    created, nobody waiting out the pool's timeout."""

    def post(worker: TestClient, token: str, i: int):  # type: ignore[no-untyped-def]
        return worker.post(
            "/v1/organizations",
            json=organization(name=f"Mentors {i}"),
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"storm-{i}"},
        )

    statuses, took = _storm(one_connection, settings, post)
    assert statuses == [201] * STORM
    assert took < POOL_S


def test_requests_from_a_portals_origin_load_the_origins_with_a_slot(one_connection, settings):
    """PortalCORS reads the keys' origins (when its cache is stale) in a thread of its own
    session. With the cache always stale, ten requests from portals' pages at once, one
    connection, two threads: all answered (the origins are nobody's: CORS adds no header, and
    the pool refuses nothing)."""
    settings = settings.model_copy(update={"cors_cache_seconds": 0})

    def get(worker: TestClient, token: str, i: int):  # type: ignore[no-untyped-def]
        return worker.get(
            "/v1/me",
            headers={"Authorization": f"Bearer {token}", "Origin": f"https://p{i}.example.org"},
        )

    statuses, took = _storm(one_connection, settings, get)
    assert statuses == [200] * STORM
    assert took < POOL_S


def test_a_request_waiting_past_the_pools_timeout_for_a_slot_is_a_503(one_connection):
    slots = one_connection.slots

    async def scenario() -> None:
        async with slots.held():  # the pool's one connection is taken
            with pytest.raises(PoolTimeout):
                async with slots.held():
                    pass
        async with slots.held():  # and free again
            pass

    slots.timeout_s = 0.05
    asyncio.run(scenario())
    assert kind_of(PoolTimeout("x")).status == 503


def test_an_import_runs_after_its_request_on_a_pool_of_one_connection(one_connection, settings):
    """The import job (a background task after the 202) opens its own sessions, outside the
    connection slots: it runs while its request still holds its slot (FastAPI ends the
    request's dependencies after its background tasks), so waiting for a slot of its own
    stalled it on a pool of one connection for the pool's timeout. Its request's session has
    given back its connection (committed), so the job finds it at once."""
    token = user_token(one_connection, "importer@partnermap.test", "admin")[1]
    app = create_app(settings, database=one_connection)
    body = ORGANIZATIONS
    with TestClient(app, raise_server_exceptions=False) as worker:
        started = time.monotonic()
        accepted = worker.post(
            "/v1/imports",
            headers={"Authorization": f"Bearer {token}"},
            data={"kind": "organizations", "source": "portal"},
            files={"file": ("organizations.csv", body.encode(), "text/csv")},
        )
        took = time.monotonic() - started
        assert accepted.status_code == 202, accepted.text
        job = worker.get(accepted.headers["location"], headers={"Authorization": f"Bearer {token}"})
    assert job.json()["status"] == "imported", job.text
    assert took < POOL_S


@pytest.mark.parametrize(
    "headers",
    [{"Idempotency-Key": "busy-1"}, {"Origin": "https://portal.example.org"}],
    ids=["idempotency-key", "portal-origin"],
)
def test_a_middleware_that_cannot_get_a_slot_answers_503_not_500(one_connection, settings, headers):
    """The Idempotency-Key's claim and PortalCORS's origins wait for a slot outside the routes'
    error table: a pool that stays busy past its timeout is still a 503 with Retry-After."""
    token = user_token(one_connection, "busy@partnermap.test", "admin")[1]
    settings = settings.model_copy(update={"cors_cache_seconds": 0})
    app = create_app(settings, database=one_connection)
    one_connection.slots.timeout_s = 0.05
    with TestClient(app, raise_server_exceptions=False) as worker:
        release = worker.portal.call(anyio.Event)

        async def hold() -> None:
            async with one_connection.slots.held():
                await release.wait()

        worker.portal.start_task_soon(hold)
        answer = worker.post(
            "/v1/organizations",
            json=organization(),
            headers={"Authorization": f"Bearer {token}", **headers},
        )
        worker.portal.call(release.set)
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert "retry-after" in answer.headers
