"""ASGI middleware: body size limit (before any parsing), request ids and logging, security
headers."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import time
import uuid
from typing import Any

from app.domain_errors import PayloadTooLarge
from app.errors import send_problem

log = logging.getLogger("partnermap.http")


class BodySizeLimit:
    """Refuse bodies over `max_bytes` with 413, whether announced by Content-Length or streamed.
    `allowances` maps path patterns (document uploads) to a larger limit of their own."""

    def __init__(self, app: Any, max_bytes: int, allowances: dict[str, int] | None = None) -> None:
        self.app = app
        self.default_bytes = max_bytes
        self.allowances = [(re.compile(p), n) for p, n in (allowances or {}).items()]

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send)
            return

        received = 0
        refused = False

        async def counting_receive() -> dict:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    raise _TooLarge
            return message

        async def guarded_send(message: dict) -> None:
            # Once the body is over the limit, whatever the app answers (frameworks turn the
            # interrupted read into a 400) is replaced by the 413.
            if not refused:
                await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused:
                raise
        if refused:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: dict, receive: Any, send: Any) -> None:
        await send_problem(
            scope,
            receive,
            send,
            PayloadTooLarge(
                f"Request bodies are limited to {self._limit(scope.get('path', ''))} bytes."
            ),
            instance=scope.get("path"),
            headers={"Connection": "close"},
        )

    def _limit(self, path: str) -> int:
        for pattern, limit in self.allowances:
            if pattern.match(path):
                return max(limit, self.default_bytes)
        return self.default_bytes


class _TooLarge(Exception):
    pass


class AccessLog:
    """One line per request: method, path, status, duration."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def recording_send(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            ms = (time.perf_counter() - start) * 1000
            request_id = scope.get("state", {}).get("request_id", "-")
            # The path only: query strings and headers (keys, tokens) never reach the log.
            log.info("%s %s %s %.1fms %s", scope["method"], scope["path"], status, ms, request_id)


REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")


class RequestId:
    """Give every request an id (the client's X-Request-ID when well-formed) for the logs, the
    audit log and the response's X-Request-ID."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"")
        request_id = given.decode() if REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def tagged_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        await self.app(scope, receive, tagged_send)


API_CSP = b"default-src 'none'; frame-ancestors 'none'"
# What FastAPI's Swagger UI and ReDoc pages load; their inline scripts are allowed by hash.
DOCS_CSP = (
    "default-src 'none'; script-src https://cdn.jsdelivr.net {hashes}; "
    "style-src https://cdn.jsdelivr.net https://fonts.googleapis.com 'unsafe-inline'; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; connect-src 'self'; worker-src blob:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DOC_PAGES = ("/docs", "/docs/oauth2-redirect", "/redoc")
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


class SecurityHeaders:
    """nosniff, no referrer, no framing, a CSP, and no caching of authenticated answers."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = dict(scope.get("headers") or [])
        credentials = b"authorization" in request_headers or b"x-api-key" in request_headers
        if scope["path"] in DOC_PAGES:
            await self._doc_page(scope, receive, send)
            return

        async def guarded_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _secured(message.get("headers", []), API_CSP, credentials)
            await send(message)

        await self.app(scope, receive, guarded_send)

    async def _doc_page(self, scope: dict, receive: Any, send: Any) -> None:
        # Small pages: held back until complete so their inline scripts can be hashed.
        start: dict = {}
        body = b""

        async def holding_send(message: dict) -> None:
            nonlocal start, body
            if message["type"] == "http.response.start":
                start = message
                return
            body += message.get("body", b"")
            if message.get("more_body"):
                return
            hashes = " ".join(
                "'sha256-" + base64.b64encode(hashlib.sha256(s).digest()).decode() + "'"
                for s in INLINE_SCRIPT.findall(body)
            )
            csp = DOCS_CSP.format(hashes=hashes).encode()
            start["headers"] = _secured(start.get("headers", []), csp, False)
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, holding_send)


def _secured(headers: list, csp: bytes, no_store: bool) -> list:
    names = {name.lower() for name, _ in headers}
    out = [
        *headers,
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", csp),
    ]
    if no_store and b"cache-control" not in names:
        out.append((b"cache-control", b"no-store"))
    return out
