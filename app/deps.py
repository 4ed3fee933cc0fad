"""Request-scoped dependencies, defined once and taken by every route. Those that only read
app.state or check the permission table are `async def`: FastAPI runs a plain `def` dependency
in the thread pool, a hop that costs more than the work (about 0.1 ms each, per request)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.auth.policy import door
from app.auth.principal import NOBODY, Principal
from app.db import Database
from app.domain_errors import Unauthorized
from app.services.catalog_index import CatalogIndex
from app.services.result_cache import ResultCache
from app.services.serving_cache import ServingCache
from app.settings import Settings


async def get_database(request: Request) -> Database:
    return request.app.state.database


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session whose work is rolled back unless the route commits (Database.session). It
    connects on first use, in the route's thread; only a session that did so is rolled back
    or closed in the thread pool, so a request that reads nothing skips that hop. It is made
    once the request has one of the pool's connection slots (Database.slots)."""
    database = request.app.state.database
    async with database.slots.held():  # waited for here, on the loop, not in a thread
        session = database.sessions()
        try:
            yield session
        except BaseException:
            await _in_pool_if_connected(session, session.rollback)
            raise
        finally:
            await _in_pool_if_connected(session, session.close)


async def _in_pool_if_connected(session: Session, step: Callable[[], None]) -> None:
    if session.in_transaction():
        await run_in_threadpool(step)  # returning the connection may wait on the database
    else:
        step()


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_ranking_index(request: Request) -> CatalogIndex:
    return request.app.state.ranking_index


async def get_serving_cache(request: Request) -> ServingCache | None:
    return getattr(request.app.state, "serving_cache", None)


async def get_result_cache(request: Request) -> ResultCache | None:
    return getattr(request.app.state, "result_cache", None)


SessionDep = Annotated[Session, Depends(get_session)]


# Gives a request's session when a step needs one (the fast path makes it only then).
SessionOpener = Callable[[], Awaitable[Session]]


def given(session: Session) -> SessionOpener:
    """The opener of a session already made (a route's SessionDep)."""

    async def opened() -> Session:
        return session

    return opened


async def get_principal(request: Request, session: SessionDep) -> Principal:
    """Who sends the request (principal_of), for routes that take the session anyway."""
    return await principal_of(request, given(session))


async def principal_of(request: Request, open_session: SessionOpener) -> Principal:
    """Who sends the request: a bearer token (log-in), an X-API-Key (district portal), or
    nobody. Bad credentials are a 401 even where none are needed, so a client learns of them.
    A token's or an API key's principal held by the serving cache under the accounts' current
    version (read by the worker's watch on every request) is answered here, on the event loop
    (a key's origin checked each time), with no session; only one it does not hold opens the
    session and is read through it in the thread pool."""
    from app.services import accounts

    request_id = getattr(request.state, "request_id", None)
    kind, text = _credentials(request)
    if kind is None:
        return Principal(request_id=request_id) if request_id else NOBODY
    cache = getattr(request.app.state, "serving_cache", None)
    if kind == "key":
        origin = request.headers.get("origin")
        held = await accounts.held_key_principal(
            text=text, origin=origin, request_id=request_id, cache=cache
        )
        if held is not None:
            return held
        read = partial(
            accounts.principal_for_key,
            session=await open_session(),
            text=text,
            origin=origin,
            request_id=request_id,
            cache=cache,
        )
    else:
        held = await accounts.held_principal(token=text, request_id=request_id, cache=cache)
        if held is not None:
            return held
        read = partial(
            accounts.principal_for_token,
            session=await open_session(),
            token=text,
            request_id=request_id,
            cache=cache,
        )
    return await run_in_threadpool(read)


def _credentials(request: Request) -> tuple[str | None, str]:
    """("key", the X-API-Key), ("token", the bearer token) or (None, "") for no credentials;
    both, or an Authorization that is not a bearer token, are a 401."""
    key = request.headers.get("x-api-key")
    authorization = request.headers.get("authorization")
    if key is not None and authorization is not None:
        raise Unauthorized("Send a bearer token or an API key, not both.")
    if key is not None:
        return "key", key
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Authorization takes `Bearer <token>`.")
        return "token", token.strip()
    return None, ""


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def guard(request: Request, principal: PrincipalDep) -> None:
    """The permission matrix's door, run before every API route (create_app adds it). The
    path is the scope's: request.url would build a whole URL per request for it (its path is
    the same but for `?`, `#` and `\\` percent-encoded, which match a template alike)."""
    door(principal, request.method, request.scope["path"])


DatabaseDep = Annotated[Database, Depends(get_database)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
RankingIndexDep = Annotated[CatalogIndex, Depends(get_ranking_index)]
ServingCacheDep = Annotated[ServingCache | None, Depends(get_serving_cache)]
ResultCacheDep = Annotated[ResultCache | None, Depends(get_result_cache)]
