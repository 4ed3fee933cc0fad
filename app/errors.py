"""Domain errors and their one mapping to RFC 9457 problem+json responses.

Services raise these plain exceptions; `add_exception_handlers` turns every error path —
domain, validation, routing and unexpected — into `application/problem+json`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("partnermap.errors")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://partnermap.dev/problems/"


class DomainError(Exception):
    """Base for errors a client can act on."""

    status = 400
    title = "Bad request"
    slug = "bad-request"
    headers: dict[str, str] | None = None

    def __init__(self, detail: str, *, errors: Sequence[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors or [])
        # RFC 9457 extension members, added to the problem body as they are.
        self.extensions: dict[str, Any] = {}


class NotFound(DomainError):
    status, title, slug = 404, "Not found", "not-found"


class Unauthorized(DomainError):
    """No credentials where they are needed, or credentials that are unknown, expired or
    revoked (RFC 6750: the challenge names the scheme)."""

    status, title, slug = 401, "Unauthorized", "unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="partnermap"'}


class Forbidden(DomainError):
    """Known caller, not allowed to do this."""

    status, title, slug = 403, "Forbidden", "forbidden"


class TooManyRequests(DomainError):
    status, title, slug = 429, "Too many requests", "too-many-requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)
        self.headers = {"Retry-After": str(self.retry_after)}


class Conflict(DomainError):
    status, title, slug = 409, "Conflict", "conflict"


class InvalidTransition(Conflict):
    """A state change the state machine does not allow; `allowed` lists the ones it does."""

    def __init__(self, kind: str, current: str, to: str, allowed: list[str]) -> None:
        listed = ", ".join(allowed) if allowed else "none (it is closed)"
        super().__init__(
            f"A {current} {kind} cannot become {to}; allowed from {current}: {listed}."
        )
        self.extensions = {"current": current, "allowed": allowed}


class InvalidInput(DomainError):
    """A value that passed the schema but breaks a domain rule; `loc` names the field."""

    status, title, slug = 422, "Invalid input", "validation"

    def __init__(self, loc: Sequence[str | int], message: str, *, kind: str = "value_error"):
        super().__init__(message, errors=[{"loc": list(loc), "msg": message, "type": kind}])


class PayloadTooLarge(DomainError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class ServiceUnavailable(DomainError):
    status, title, slug = 503, "Service unavailable", "unavailable"


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
        item = {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type")}
        if "input" in err and _small(err["input"]):
            item["input"] = err["input"]
        out.append(item)
    return out


def _small(value: Any) -> bool:
    return isinstance(value, (int, float, bool)) or (isinstance(value, str) and len(value) <= 200)


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
    exc: DomainError,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Answer with the problem for `exc` from ASGI middleware, where FastAPI's exception
    handlers do not reach."""
    response = problem(
        exc.status,
        exc.title,
        exc.detail,
        slug=exc.slug,
        instance=instance,
        errors=exc.errors,
        headers={**(exc.headers or {}), **(headers or {})},
    )
    await response(scope, receive, send)


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
    """Register one handler per error family."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem(
            exc.status,
            exc.title,
            exc.detail,
            slug=exc.slug,
            instance=request.url.path,
            errors=exc.errors or None,
            headers=exc.headers,
            extensions=exc.extensions,
        )

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
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(
            500,
            "Internal server error",
            "An unexpected error occurred; it has been logged.",
            slug="internal",
            instance=request.url.path,
        )
