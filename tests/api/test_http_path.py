"""The ranking's HTTP path (issue 15): the answer serialised once and byte-for-byte what the
response model gives, a worker that does not look at the database while its view is within
the freshness bound (its own writes show at once, other workers' within the bound), and the
result cache (a repeated question answered from memory, never after what it was computed
from changed)."""

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from pydantic_core import to_json
from sqlalchemy.exc import UnboundExecutionError
from sqlalchemy.orm import Session

from app.db import Database
from app.main import create_app
from app.routers.matches import Rankings
from app.schemas.matches import OfferingMatches
from app.services import matches as match_service
from tests.api.factories import offering, organization, school
from tests.conftest import statements_sent, user_token

NEAR = {"lat": 37.790, "lon": -122.206}
NEEDS = [{"category": "mental_health_sel", "priority": 1}, {"category": "arts", "priority": 2}]


def _school_with_needs(client, needs=NEEDS) -> int:
    sid = client.post("/v1/schools", json=school()).json()["id"]
    filed = client.post(
        f"/v1/schools/{sid}/needs-assessments", json={"assessed_on": "2026-09-01", "needs": needs}
    )
    assert filed.status_code == 201, filed.text
    return sid


def _partner(client, name="Partner", categories=("arts",), **changes) -> tuple[int, int]:
    body = organization(name=name, locations=[NEAR], service_area={"kind": "none"}, **changes)
    org = client.post("/v1/organizations", json=body)
    assert org.status_code == 201, org.text
    return org.json()["id"], _offering(client, org.json()["id"], categories)


def _offering(client, org: int, categories=("arts",)) -> int:
    made = client.post(
        f"/v1/organizations/{org}/offerings",
        json=offering(categories=list(categories), grade_low=0, grade_high=5),
    )
    assert made.status_code == 201, made.text
    return made.json()["id"]


def _ids(client, sid, **params) -> list[int]:
    response = client.get(f"/v1/schools/{sid}/matches", params=params)
    assert response.status_code == 200, response.text
    return [i["offering"]["id"] for i in response.json()["items"]]


@pytest.fixture
def bounded(db, settings) -> Iterator[TestClient]:
    """A worker whose freshness bound is a minute, with the operator's token."""

    _, token = user_token(db, "bounded@partnermap.test", "admin")
    app = create_app(settings.model_copy(update={"freshness_ms": 60_000}), database=db)
    with TestClient(app, raise_server_exceptions=False) as worker:
        worker.headers["Authorization"] = f"Bearer {token}"
        yield worker


@pytest.fixture
def elsewhere(settings) -> Iterator[Database]:
    """The same database through another engine, as another worker process has."""
    other = Database(settings.database_url)
    yield other
    other.dispose()


def _worker(settings, database: Database, token_header: str, **changes) -> TestClient:
    app = create_app(settings.model_copy(update=changes), database=database)
    worker = TestClient(app, raise_server_exceptions=False)
    worker.headers["Authorization"] = token_header
    return worker


# --- the answer -------------------------------------------------------------------------------


@pytest.mark.parametrize("group", ["offering", "organization"])
def test_the_answer_is_the_bytes_the_response_model_gives(client, group):
    sid = _school_with_needs(client)
    org, _ = _partner(client)
    _offering(client, org, ["mental_health_sel"])
    _partner(client, name="Other", categories=("mental_health_sel", "arts"))
    response = client.get(f"/v1/schools/{sid}/matches", params={"group": group})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    adapter = TypeAdapter(OfferingMatches)
    # What FastAPI's response_model would send for the same content (validate, dump_json).
    expected = adapter.dump_json(adapter.validate_json(response.content), by_alias=True)
    assert response.content == expected
    assert len(response.json()["items"]) >= 2


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.floats()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text()
    | st.floats(allow_nan=False).map(np.float64),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_JSON_VALUES)
def test_the_answer_writer_writes_values_as_pydantic_does(value):
    """The answer is written by orjson (the route's option), the response model's bytes by
    pydantic_core: the same text for every value an answer holds (floats of any magnitude,
    NaN and infinities as null, any text, numpy floats)."""
    written = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
    assert written == to_json(value, inf_nan_mode="null")


def test_ad_hoc_answers_are_the_bytes_the_response_model_gives(client):
    _partner(client)
    response = client.post(
        "/v1/matches",
        json={
            "location": {**NEAR, "locale": "city"},
            "needs": [{"category": "arts", "priority": 1}],
        },
    )
    assert response.status_code == 200, response.text
    adapter = TypeAdapter(OfferingMatches)
    assert response.content == adapter.dump_json(
        adapter.validate_json(response.content), by_alias=True
    )
    assert response.json()["items"]


@pytest.fixture
def solved_for(monkeypatch) -> list[str]:
    """The endpoints FastAPI solved dependencies for (its handler's own work)."""
    import fastapi.routing

    solved: list[str] = []
    solve = fastapi.routing.solve_dependencies

    async def recording(*, dependant, **kwargs):  # type: ignore[no-untyped-def]
        solved.append(getattr(dependant.call, "__name__", ""))
        return await solve(dependant=dependant, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", recording)
    return solved


@pytest.mark.parametrize(
    "params", [{}, {"limit": "5"}, {"limit": "3", "cursor": "2", "group": "organization"}]
)
def test_a_plain_school_ranking_skips_fastapis_handler_and_answers_the_same_bytes(
    client, app, solved_for, params
):
    sid = _school_with_needs(client)
    org, _ = _partner(client)
    _offering(client, org, ["mental_health_sel"])
    _partner(client, name="Other", categories=("mental_health_sel", "arts"))
    _partner(client, name="Third", categories=("arts",))
    fast = client.get(f"/v1/schools/{sid}/matches", params=params)
    assert fast.status_code == 200, fast.text
    assert "school_matches" not in solved_for
    # Any dependency override sends every request through FastAPI's own handler.
    app.dependency_overrides[_school_with_needs] = lambda: None
    try:
        full = client.get(f"/v1/schools/{sid}/matches", params=params)
    finally:
        app.dependency_overrides.clear()
    assert "school_matches" in solved_for
    assert full.status_code == 200, full.text
    assert fast.content == full.content
    assert sorted((k, v) for k, v in fast.headers.items() if k != "x-request-id") == sorted(
        (k, v) for k, v in full.headers.items() if k != "x-request-id"
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("limit=5&limit=x", "limit"),
        ("cursor=1234", "cursor"),
        ("group=school", "group"),
        ("equity=2", "equity"),
        ("category=nope", "category"),
    ],
)
def test_a_request_off_the_plain_path_is_judged_by_fastapi_naming_the_field(
    client, solved_for, query, field
):
    sid = _school_with_needs(client)
    response = client.get(f"/v1/schools/{sid}/matches?{query}")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["loc"][:2] for e in response.json()["errors"]] == [["query", field]]
    assert "school_matches" in solved_for


def test_the_plain_path_still_asks_for_credentials_and_keeps_school_ids_in_range(client):
    sid = _school_with_needs(client)
    token = client.headers.pop("Authorization")
    anonymous = client.get(f"/v1/schools/{sid}/matches")
    assert anonymous.status_code == 401, anonymous.text
    client.headers["Authorization"] = "Bearer not-a-token"
    assert client.get(f"/v1/schools/{sid}/matches").status_code == 401
    client.headers["Authorization"] = token
    assert client.get("/v1/schools/2147483648/matches").status_code == 422
    assert client.get("/v1/schools/0/matches").status_code == 422
    assert client.get("/v1/schools/987654/matches").status_code == 404


def test_only_the_ranking_routes_match_their_paths(app):
    """create_app matches the rankings' router first; that must not shadow another route."""
    paths = ["/v1/schools/7/matches", "/v1/matches", "/v1/organizations/7/school-matches"]
    routes = [
        context
        for route in app.router.routes
        for context in getattr(route, "effective_route_contexts", lambda r=route: [r])()
    ]
    matching = {
        (path, getattr(route, "path_format", None) or route.starlette_route.path_format)
        for route in routes
        for path in paths
        if (route.path_regex or route.starlette_route.path_regex).match(path)
    }
    assert matching == {
        ("/v1/schools/7/matches", "/v1/schools/{school_id}/matches"),
        ("/v1/matches", "/v1/matches"),
        (
            "/v1/organizations/7/school-matches",
            "/v1/organizations/{organization_id}/school-matches",
        ),
    }
    assert len(routes) > 100


def test_the_published_schema_still_names_the_response_model(app):
    paths = app.openapi()["paths"]
    for path, method in (("/v1/schools/{school_id}/matches", "get"), ("/v1/matches", "post")):
        answer = paths[path][method]["responses"]["200"]["content"]["application/json"]
        assert answer["schema"] == {"$ref": "#/components/schemas/OfferingMatches"}


# --- the freshness bound ----------------------------------------------------------------------


def test_within_the_bound_a_repeated_ranking_reads_nothing_through_the_pool(bounded, db):
    sid = _school_with_needs(bounded)
    _partner(bounded)
    _ids(bounded, sid)
    with statements_sent(db) as statements:
        _ids(bounded, sid)
        _ids(bounded, sid, free="true")  # another question: ranked again, still no read
    # No change-log look, no needs, no catalog, no principal: the accounts' version that keeps
    # credentials current on every worker is read by the worker's watch, on its own connection.
    assert statements == []


@pytest.fixture
def ranked_on_loop(monkeypatch) -> list[bool]:
    """Whether each ranking ran on the event loop (True) or in a worker thread (False)."""
    seen: list[bool] = []
    rank = match_service.rank_offerings

    def recording(*args, **kwargs):
        try:
            asyncio.get_running_loop()
            seen.append(True)
        except RuntimeError:
            seen.append(False)
        return rank(*args, **kwargs)

    monkeypatch.setattr(match_service, "rank_offerings", recording)
    return seen


def test_within_the_bound_a_ranking_runs_on_the_event_loop_without_a_thread_hop(
    bounded, ranked_on_loop
):
    bounded.app.state.result_cache.entries = 0  # cold: every request ranks
    sid = _school_with_needs(bounded)
    _partner(bounded)
    first = bounded.get(f"/v1/schools/{sid}/matches")  # after writes: looks, in the pool
    again = bounded.get(f"/v1/schools/{sid}/matches")
    other = bounded.get(f"/v1/schools/{sid}/matches", params={"free": "true"})
    assert ranked_on_loop == [False, True, True]
    assert again.content == first.content
    assert other.status_code == 200, other.text


def test_a_plain_request_answered_on_the_loop_makes_no_session(bounded, ranked_on_loop):
    """The fast path makes the request's session only when a step reads: a held principal
    and a ranking on the loop need none; a ranking in the pool gets one (and it is ended)."""
    bounded.app.state.result_cache.entries = 0
    sid = _school_with_needs(bounded)
    _partner(bounded)
    database = bounded.app.state.database
    made: list[Any] = []
    factory = database.sessions

    def counted() -> Any:
        made.append(factory())
        return made[-1]

    database.__dict__["sessions"] = counted  # the cached sessionmaker, counted
    try:
        first = bounded.get(f"/v1/schools/{sid}/matches")  # after writes: in the pool
        assert len(made) == 1 and ranked_on_loop == [False]
        again = bounded.get(f"/v1/schools/{sid}/matches")  # held: on the loop, no session
        assert len(made) == 1 and ranked_on_loop == [False, True]
    finally:
        database.__dict__["sessions"] = factory
    assert again.content == first.content
    assert not made[0].in_transaction()  # ended after the answer


class _Fresh:  # an index within the freshness bound that no thread holds
    @contextlib.contextmanager
    def held_if_fresh(self):  # type: ignore[no-untyped-def]
        yield True


class _Busy:  # an index another thread is catching up: every ranking goes to the pool
    @contextlib.contextmanager
    def held_if_fresh(self):  # type: ignore[no-untyped-def]
        yield False


@pytest.fixture
def sessions(db: Database) -> Iterator[Callable[[], Awaitable[Session]]]:
    """Rankings.answer's session opener: a new session of the database each time (the work
    here reads nothing; the one sent to the pool is connected first, as any is)."""
    made: list[Session] = []

    async def open_session() -> Session:
        made.append(db.sessions())
        return made[-1]

    yield open_session
    for session in made:
        session.close()


def _on_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_a_ranking_arriving_while_another_reads_in_the_pool_waits_then_ranks_on_the_loop(
    sessions,
):
    """The one in the pool reads what both need (the bound's expiry): the other waits for it
    rather than going to the pool beside it, then ranks on the loop."""
    ran: list[tuple[str, str]] = []
    reading = threading.Event()

    def work(name: str, reads: bool):  # type: ignore[no-untyped-def]
        def answer(session: object) -> bytes:
            if reads and _on_loop():
                raise UnboundExecutionError("needs a read")  # as an unbound session's first
            if reads:
                reading.set()
                time.sleep(0.05)
            ran.append((name, "loop" if _on_loop() else "pool"))
            return b"{}"

        return answer

    async def two(rankings: Rankings) -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(rankings.answer, _Fresh(), sessions, work("reader", reads=True))
            while not reading.is_set():  # until the reader is in the pool
                await anyio.sleep(0.001)
            group.start_soon(rankings.answer, _Fresh(), sessions, work("next", reads=False))

    anyio.run(two, Rankings())
    assert ran == [("reader", "pool"), ("next", "loop")]


def test_rankings_that_need_the_pool_go_there_one_at_a_time(sessions):
    """Rankings beside each other in the pool only contend for the GIL: the others wait."""
    running, most, lock = 0, 0, threading.Lock()

    def work(session: object) -> bytes:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return b"{}"

    async def six(rankings: Rankings) -> None:
        async with anyio.create_task_group() as group:
            for _ in range(6):
                group.start_soon(rankings.answer, _Busy(), sessions, work)

    rankings = Rankings()
    anyio.run(six, rankings)
    assert most == 1
    anyio.run(six, rankings)  # a new event loop: nothing left waiting from the last
    assert most == 1


def test_a_ranking_that_needs_a_read_is_ranked_once_in_the_pool(bounded, ranked_on_loop):
    bounded.app.state.result_cache.entries = 0
    first = _school_with_needs(bounded)
    second = _school_with_needs(bounded, [{"category": "arts", "priority": 1}])
    _partner(bounded)
    assert len(_ids(bounded, first)) == 1  # index and versions looked at, in the pool
    # The second school's needs are not held: the loop's attempt stops at the read, before
    # ranking, and the pool answers.
    answer = bounded.get(f"/v1/schools/{second}/matches")
    assert answer.status_code == 200, answer.text
    assert answer.json()["items"][0]["needs_met"][0]["category"] == "arts"
    assert ranked_on_loop == [False, False]
    _ids(bounded, second)
    assert ranked_on_loop == [False, False, True]


def test_the_index_is_not_offered_to_the_loop_while_another_thread_holds_it(bounded):
    sid = _school_with_needs(bounded)
    _partner(bounded)
    _ids(bounded, sid)
    index = bounded.app.state.ranking_index
    with index.held_if_fresh() as fresh:
        assert fresh
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with index.held_if_fresh():
            holding.set()
            done.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        with index.held_if_fresh() as fresh:
            assert not fresh
    finally:
        done.set()
        holder.join()


@pytest.mark.parametrize("how", ["revoke", "disable"])
def test_within_the_bound_a_revoked_token_or_disabled_user_stops_at_once_elsewhere(
    client, db, settings, elsewhere, how
):

    sid = _school_with_needs(client)
    _partner(client)
    user, token = user_token(db, f"{how}@partnermap.test", "admin")
    with _worker(settings, elsewhere, f"Bearer {token}", freshness_ms=60_000) as other:
        assert other.get(f"/v1/schools/{sid}/matches").status_code == 200
        assert other.get(f"/v1/schools/{sid}/matches").status_code == 200  # principal held
        if how == "revoke":
            done = client.post("/v1/auth/revoke", headers={"Authorization": f"Bearer {token}"})
            assert done.status_code == 204, done.text
        else:
            done = client.patch(f"/v1/users/{user}", json={"active": False})
            assert done.status_code == 200, done.text
        refused = other.get(f"/v1/schools/{sid}/matches")
        assert refused.status_code == 401, refused.text


def test_a_write_through_the_worker_shows_in_its_next_ranking_despite_the_bound(bounded):
    sid = _school_with_needs(bounded)
    org, first = _partner(bounded)
    assert _ids(bounded, sid) == [first]
    second = _offering(bounded, org, ["mental_health_sel"])
    assert _ids(bounded, sid)[0] == second
    assert bounded.delete(f"/v1/offerings/{second}").status_code == 204
    assert _ids(bounded, sid) == [first]
    refiled = bounded.post(
        f"/v1/schools/{sid}/needs-assessments",
        json={"assessed_on": "2026-10-01", "needs": [{"category": "stem", "priority": 1}]},
    )
    assert refiled.status_code == 201, refiled.text
    answer = bounded.get(f"/v1/schools/{sid}/matches").json()
    assert answer["needs_assessment_id"] == refiled.json()["id"]


def test_another_workers_write_shows_once_the_bound_has_passed(client, settings, elsewhere):
    sid = _school_with_needs(client)
    org, first = _partner(client)
    token = client.headers["Authorization"]
    with _worker(settings, elsewhere, token, freshness_ms=2000) as other:
        assert _ids(other, sid) == [first]
        second = _offering(client, org, ["mental_health_sel"])  # through the first worker
        assert _ids(other, sid) == [first]  # within the bound: the other has not looked
        time.sleep(2.05)
        assert _ids(other, sid)[0] == second


def test_with_no_bound_another_workers_write_shows_at_once(client, settings, elsewhere):
    sid = _school_with_needs(client)
    org, first = _partner(client)
    token = client.headers["Authorization"]
    with _worker(settings, elsewhere, token, freshness_ms=0) as other:
        assert _ids(other, sid) == [first]
        second = _offering(client, org, ["mental_health_sel"])
        assert _ids(other, sid)[0] == second
        assert client.post("/v1/auth/revoke").status_code == 204
        assert other.get(f"/v1/schools/{sid}/matches").status_code == 401


# --- the result cache -------------------------------------------------------------------------


def test_a_repeated_question_is_answered_from_the_result_cache(client, app):
    sid = _school_with_needs(client)
    _partner(client)
    results = app.state.result_cache
    first = client.get(f"/v1/schools/{sid}/matches")
    assert (results.hits, results.misses) == (0, 1)
    again = client.get(f"/v1/schools/{sid}/matches")
    assert (results.hits, results.misses) == (1, 1)
    assert again.content == first.content
    client.get(f"/v1/schools/{sid}/matches", params={"limit": 5})  # another question
    assert (results.hits, results.misses) == (1, 2)


def test_the_result_cache_never_answers_after_what_it_ranked_changed(client, app):
    sid = _school_with_needs(client)
    org, first = _partner(client)
    assert _ids(client, sid) == [first]
    second = _offering(client, org, ["mental_health_sel"])  # the catalog
    assert _ids(client, sid)[0] == second
    refiled = client.post(  # the school's needs
        f"/v1/schools/{sid}/needs-assessments",
        json={"assessed_on": "2026-10-01", "needs": [{"category": "arts", "priority": 1}]},
    )
    assert refiled.status_code == 201, refiled.text
    assert _ids(client, sid)[0] == first
    assert app.state.result_cache.hits == 0


def test_a_caller_who_sees_verified_partners_only_is_not_answered_from_the_operators(
    client, db, app
):

    sid = _school_with_needs(client)
    vetted, verified = _partner(client, name="Vetted")
    _, unverified = _partner(client, name="New")  # organizations start unverified
    made = client.post(f"/v1/organizations/{vetted}/verification", json={"state": "verified"})
    assert made.status_code == 200, made.text
    assert set(_ids(client, sid)) == {verified, unverified}
    _, token = user_token(db, "principal@partnermap.test", "school_staff", schools=[sid])
    principal = client.get(
        f"/v1/schools/{sid}/matches", headers={"Authorization": f"Bearer {token}"}
    )
    assert principal.status_code == 200, principal.text
    assert [i["offering"]["id"] for i in principal.json()["items"]] == [verified]


def test_no_result_cache_when_its_size_is_zero(db, settings):

    _, token = user_token(db, "operator2@partnermap.test", "admin")
    app = create_app(settings.model_copy(update={"result_cache_entries": 0}), database=db)
    with TestClient(app, raise_server_exceptions=False) as worker:
        worker.headers["Authorization"] = f"Bearer {token}"
        sid = _school_with_needs(worker)
        _partner(worker)
        assert _ids(worker, sid) == _ids(worker, sid)
        assert (app.state.result_cache.hits, len(app.state.result_cache)) == (0, 0)


def test_a_renamed_offering_or_organization_shows_in_the_next_answer(db, settings):
    """The offering part of a result is kept between answers only while the index holds the
    same offering and organization (CatalogIndex.shown, _offering_json)."""
    _, token = user_token(db, "operator3@partnermap.test", "admin")
    app = create_app(settings.model_copy(update={"result_cache_entries": 0}), database=db)
    with TestClient(app, raise_server_exceptions=False) as worker:
        worker.headers["Authorization"] = f"Bearer {token}"
        sid = _school_with_needs(worker)
        org, offering_id = _partner(worker, name="Before")

        def shown() -> dict:
            response = worker.get(f"/v1/schools/{sid}/matches")
            assert response.status_code == 200, response.text
            return next(
                i["offering"]
                for i in response.json()["items"]
                if i["offering"]["id"] == offering_id
            )

        first = shown()
        assert shown() == first
        renamed = worker.patch(f"/v1/offerings/{offering_id}", json={"title": "After"})
        assert renamed.status_code == 200, renamed.text
        assert shown() == {**first, "title": "After"}
        moved = worker.patch(f"/v1/organizations/{org}", json={"name": "Elsewhere"})
        assert moved.status_code == 200, moved.text
        assert shown() == {**first, "title": "After", "organization_name": "Elsewhere"}


def test_the_plain_paths_dependencies_are_the_routes_own(app):
    """SchoolMatchesRoute takes the route's dependencies by hand: a dependency added to the
    route (or to the router's inclusion) must be added to the fast path too, or this fails."""
    from app import deps
    from app.routers import matches

    def calls(dependant) -> set:  # type: ignore[no-untyped-def]
        out = set()
        for dep in dependant.dependencies:
            out.add(dep.call)
            out |= calls(dep)
        return out

    routes = [  # each inclusion's route, with the router's dependencies (the door)
        context
        for route in app.router.routes
        for context in getattr(route, "effective_route_contexts", lambda r=route: [r])()
        if context.path_format == "/v1/schools/{school_id}/matches"
    ]
    assert len(routes) == 2  # matched first (hidden), and published in its place
    assert all(isinstance(r.original_route, matches.SchoolMatchesRoute) for r in routes)
    taken_by_hand = {
        deps.get_session,
        deps.get_principal,
        deps.guard,
        deps.get_ranking_index,
        deps.get_app_settings,
        deps.get_serving_cache,
        deps.get_result_cache,
        matches.ranking_filters,
        matches.reach_params,
        matches._ranking_offerings,
    }
    for route in routes:
        assert calls(route.dependant) - {deps.get_database} == taken_by_hand
