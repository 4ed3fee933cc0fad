"""RFC 9457 problem+json for every error path, from one table of domain exceptions.

Services raise the plain exceptions of `app.domain_errors`, `geo` and `matching`;
`STATUS_CODES` maps each to a status once and `add_exception_handlers` registers it, beside
the validation, routing and unexpected-error handlers.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.domain_errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    InvalidParameter,
    InvalidTransition,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)
from geo.errors import GeometryError
from matching.errors import RankingInputError

log = logging.getLogger("partnermap.errors")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://partnermap.dev/problems/"


@dataclass(frozen=True)
class ProblemKind:
    """How one exception class leaves: status, title, the `type` slug and extra headers."""

    status: int
    title: str
    slug: str
    headers: Callable[[Any], dict[str, str]] | None = None


def _retry_after(exc: TooManyRequests) -> dict[str, str]:
    return {"Retry-After": str(exc.retry_after)}


def _retry_soon(exc: Exception) -> dict[str, str]:
    return {"Retry-After": str(RETRY_UNAVAILABLE_S)}


def _bearer_challenge(exc: Unauthorized) -> dict[str, str]:
    # RFC 6750: a 401 names the scheme the client should use.
    return {"WWW-Authenticate": 'Bearer realm="partnermap"'}


RETRY_UNAVAILABLE_S = 5  # a restarted database or a released lock is usually back by then
INVALID = ProblemKind(422, "Invalid input", "validation")
CONFLICT = ProblemKind(409, "Conflict", "conflict")
UNAVAILABLE = ProblemKind(503, "Service unavailable", "unavailable", _retry_soon)
DATABASE_UNAVAILABLE = "The database is unavailable; retry shortly."
SHARED_STORE_UNAVAILABLE = "The shared store (Redis) is unavailable; retry shortly."

# The one mapping from exception to response, as tipg's DEFAULT_STATUS_CODES; a subclass
# without its own row takes its nearest ancestor's (tests require a row per DomainError).
STATUS_CODES: dict[type[Exception], ProblemKind] = {
    DomainError: ProblemKind(400, "Bad request", "bad-request"),
    Unauthorized: ProblemKind(401, "Unauthorized", "unauthorized", _bearer_challenge),
    Forbidden: ProblemKind(403, "Forbidden", "forbidden"),
    NotFound: ProblemKind(404, "Not found", "not-found"),
    Conflict: CONFLICT,
    InvalidTransition: CONFLICT,
    PayloadTooLarge: ProblemKind(413, "Payload too large", "payload-too-large"),
    UnsupportedMediaType: ProblemKind(415, "Unsupported media type", "unsupported-media-type"),
    InvalidInput: INVALID,
    # A query parameter a standard answers with 400, not 422 (OGC API - Features).
    InvalidParameter: ProblemKind(400, "Invalid parameter", "invalid-parameter"),
    GeometryError: INVALID,
    RankingInputError: INVALID,
    TooManyRequests: ProblemKind(429, "Too many requests", "too-many-requests", _retry_after),
    ServiceUnavailable: UNAVAILABLE,
    # The database is down, refuses connections, is locked, or the pool has none free.
    OperationalError: UNAVAILABLE,
    InterfaceError: UNAVAILABLE,
    PoolTimeout: UNAVAILABLE,
    # The shared store (REDIS_URL) does not answer: the log-in throttle cannot count.
    RedisError: UNAVAILABLE,
}


def kind_of(exc: Exception) -> ProblemKind:
    """The table row for `exc`: its class's, else its nearest ancestor's."""
    for cls in type(exc).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    raise LookupError(f"{type(exc).__name__} has no row in STATUS_CODES")


def _detail_and_errors(exc: Exception) -> tuple[str, list[dict[str, Any]]]:
    if isinstance(exc, DomainError):
        return exc.detail, exc.errors
    if isinstance(exc, GeometryError):
        return exc.reason, [{"loc": list(exc.path), "msg": exc.reason, "type": "invalid_geometry"}]
    if isinstance(exc, RankingInputError):
        return exc.reason, [{"loc": list(exc.path), "msg": exc.reason, "type": "value_error"}]
    if isinstance(exc, SQLAlchemyError):  # the driver's message stays in the log
        return DATABASE_UNAVAILABLE, []
    if isinstance(exc, RedisError):
        return SHARED_STORE_UNAVAILABLE, []
    return str(exc), []


def problem_for(
    exc: Exception, *, instance: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The problem+json response the table gives for `exc`."""
    kind = kind_of(exc)
    detail, errors = _detail_and_errors(exc)
    extra = kind.headers(exc) if kind.headers else {}
    return problem(
        kind.status,
        kind.title,
        detail,
        slug=kind.slug,
        instance=instance,
        errors=errors or None,
        headers={**extra, **(headers or {})} or None,
        extensions=exc.extensions if isinstance(exc, DomainError) else None,
    )


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        **(extensions or {}),
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return JSONResponse(
        jsonable_encoder(body), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = list(err.get("loc", ()))
        item = {"loc": loc, "msg": err.get("msg", ""), "type": err.get("type")}
        if "input" in err and _echoable(err["input"]) and not _secret(loc):
            item["input"] = err["input"]
        out.append(item)
    return out


def _echoable(value: Any) -> bool:
    """Small input JSON can carry back: no NaN or infinities, no lone surrogates."""
    if isinstance(value, bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str) and len(value) <= 200:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    return False


def _secret(loc: list[Any]) -> bool:
    """A field whose value must never be echoed (passwords, in sign-up or anywhere else)."""
    return any("password" in str(part).lower() for part in loc)


def _describe(errors: list[dict[str, Any]]) -> str:
    parts = []
    for err in errors[:3]:
        field = ".".join(str(p) for p in err["loc"] if p not in ("body",)) or "request"
        parts.append(f"{field}: {err['msg']}")
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more


async def send_problem(
    scope: dict,
    receive: Any,
    send: Any,
    exc: Exception,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Answer with the problem for `exc` from ASGI middleware, where FastAPI's exception
    handlers do not reach."""
    await problem_for(exc, instance=instance, headers=headers)(scope, receive, send)


_HTTP_SLUGS = {
    400: ("Bad request", "bad-request"),
    401: ("Unauthorized", "unauthorized"),
    403: ("Forbidden", "forbidden"),
    404: ("Not found", "not-found"),
    405: ("Method not allowed", "method-not-allowed"),
    406: ("Not acceptable", "not-acceptable"),
    413: ("Payload too large", "payload-too-large"),
    415: ("Unsupported media type", "unsupported-media-type"),
    429: ("Too many requests", "too-many-requests"),
}


def _allowed_methods(request: Request) -> list[str]:
    """The methods the published API serves at this path (Starlette names only one route's)."""
    table = getattr(request.app.state, "allowed_methods", None)
    if table is None:
        table = [
            (
                re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$"),
                sorted(m.upper() for m in ops),
            )
            for path, ops in request.app.openapi().get("paths", {}).items()
        ]
        request.app.state.allowed_methods = table
    path = request.url.path
    return sorted({m for pattern, methods in table if pattern.match(path) for m in methods})


def add_exception_handlers(app: FastAPI) -> None:
    """Register the table's handler for each class in STATUS_CODES, then one handler per other
    error family (validation, routing, unexpected) and the catch-all middleware."""

    async def _from_table(request: Request, exc: Exception) -> JSONResponse:
        _log_unavailable(request.method, request.url.path, exc)
        return problem_for(exc, instance=request.url.path)

    for cls in STATUS_CODES:
        app.add_exception_handler(cls, _from_table)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        return problem(
            422,
            "Invalid input",
            _describe(errors),
            slug="validation",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title, slug = _HTTP_SLUGS.get(exc.status_code, ("Error", f"http-{exc.status_code}"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return problem(
            exc.status_code,
            title,
            detail,
            slug=slug,
            instance=request.url.path,
            headers=headers or None,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Reached only from middleware outside UnexpectedErrors; Starlette re-raises after.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _internal(request.url.path)

    app.add_middleware(UnexpectedErrors)


def _internal(instance: str | None) -> JSONResponse:
    return problem(
        500,
        "Internal server error",
        "An unexpected error occurred; it has been logged.",
        slug="internal",
        instance=instance,
    )


def _log_unavailable(method: str | None, path: str | None, exc: Exception) -> None:
    """A warning for a database or Redis that does not answer (no SQL, no parameters)."""
    if isinstance(exc, SQLAlchemyError):
        log.warning("database unavailable on %s %s: %s", method, path, _cause(exc))
    elif isinstance(exc, RedisError):
        log.warning("Redis unavailable on %s %s: %r", method, path, exc)


def _cause(exc: SQLAlchemyError) -> str:
    """The driver's first line (no SQL, no parameters) for the log."""
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).splitlines()
    return lines[0][:300] if lines else type(exc).__name__


class _AnswersErrors:
    """Middleware answering the errors in `catches` (`answer`) while no response has started;
    after that only closing the connection ends it, so they are raised on."""

    catches: tuple[type[Exception], ...] = (Exception,)

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except self.catches as exc:
            if started:  # half a response is out: only closing the connection ends it
                raise
            await self.answer(scope, receive, send, exc)

    async def answer(self, scope: dict, receive: Any, send: Any, exc: Exception) -> None:
        raise NotImplementedError


class UnexpectedErrors(_AnswersErrors):
    """An exception nothing else handled becomes one logged 500 problem, and the connection
    stays usable: Starlette's catch-all re-raises after answering, so the server logs it again
    and closes the keep-alive connection. Added first, so it sits next to the app."""

    async def answer(self, scope: dict, receive: Any, send: Any, exc: Exception) -> None:
        log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
        await _internal(scope.get("path"))(scope, receive, send)


class TableErrors(_AnswersErrors):
    """An error of the table (STATUS_CODES) raised by a middleware outside the routes'
    handlers becomes its problem, as a route's would: the Idempotency-Key's claim and
    PortalCORS's origins read the database there, and a busy pool or a stopped database is a
    503 with Retry-After, not Starlette's catch-all 500. Sits inside the log and the ids
    (app.main), so the answer carries them; any other error passes on."""

    catches = tuple(STATUS_CODES)

    async def answer(self, scope: dict, receive: Any, send: Any, exc: Exception) -> None:
        _log_unavailable(scope.get("method"), scope.get("path"), exc)
        await send_problem(scope, receive, send, exc, instance=scope.get("path"))
