"""ASGI middleware: body size limit (before any parsing), a deadline for the answer to start,
request ids and logging, security headers."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import logging
import re
import time
import unicodedata
import uuid
from typing import Any

from app.domain_errors import PayloadTooLarge, ServiceUnavailable
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


class Deadline:
    """A request whose answer has not started within `seconds` is a 503 with Retry-After. A
    frozen database accepts and never answers, and its worker thread cannot be interrupted,
    so the client is told to retry now; the abandoned handler ends on its own, unheard."""

    def __init__(self, app: Any, seconds: float, page: Any = None) -> None:
        self.app = app
        self.seconds = seconds
        # page(scope, receive, send) -> bool: sends the "unavailable" page to a request for a
        # page and says so (app.pages.errors.send_unavailable_page); else the problem+json.
        self.page = page

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = abandoned = False
        loop = asyncio.get_running_loop()
        # Woken once, by whichever comes first: the handler's end (from within its own last
        # step, so the request goes on in the next turn of the loop, where asyncio.wait would
        # take two) or the deadline.
        woken = loop.create_future()

        def wake() -> None:
            if not woken.done():
                woken.set_result(None)

        async def guarded_send(message: dict) -> None:
            nonlocal started
            if abandoned:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def handle() -> None:
            try:
                await self.app(scope, receive, guarded_send)
            finally:
                wake()

        handler = loop.create_task(handle())
        timer = loop.call_later(self.seconds, wake)
        try:
            await woken
        finally:
            timer.cancel()
        if handler.done() or started:
            await handler
            return
        abandoned = True
        handler.add_done_callback(_late)
        log.warning("%s %s: no answer in %ss", scope.get("method"), scope.get("path"), self.seconds)
        if self.page is not None and await self.page(scope, receive, send):
            return
        await send_problem(
            scope,
            receive,
            send,
            ServiceUnavailable("The service did not answer in time (is the database slow?)."),
            instance=scope.get("path"),
        )


def _late(handler: asyncio.Future) -> None:
    if not handler.cancelled() and handler.exception() is not None:
        log.warning("an abandoned request ended with %r", handler.exception())


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
            # Escaping the path costs more than the rest of the line: only for a line written.
            if log.isEnabledFor(logging.INFO):
                ms = (time.perf_counter() - start) * 1000
                request_id = scope.get("state", {}).get("request_id", "-")
                # The path only: query strings and headers (keys, tokens) never reach the log.
                log.info(
                    "%s %s %s %.1fms %s",
                    loggable(scope["method"]),
                    loggable(scope["path"]),
                    status,
                    ms,
                    request_id,
                )


def loggable(text: str) -> str:
    """`text` with control, format and line-separator characters escaped (\\n, \\u202e), so a
    decoded `%0A` in a path cannot start a forged log line."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if ch == "\\" or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")
        else ch
        for ch in text
    )


class TrustedProxies:
    """The client address is the peer's, unless the peer is one of the configured proxies:
    then it is the right-most X-Forwarded-For address that is not itself a trusted proxy."""

    def __init__(self, app: Any, proxies: list[str]) -> None:
        self.app = app
        self.networks = [ipaddress.ip_network(p, strict=False) for p in proxies]

    def _trusted(self, host: str) -> bool:
        return _is_address(host) and any(
            ipaddress.ip_address(host) in network for network in self.networks
        )

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        client = scope.get("client")
        if scope["type"] == "http" and self.networks and client and self._trusted(client[0]):
            forwarded = b",".join(
                value for name, value in scope.get("headers") or [] if name == b"x-forwarded-for"
            )
            hops = [h.strip() for h in forwarded.decode("latin-1").split(",") if h.strip()]
            while hops and self._trusted(hops[-1]):
                hops.pop()
            if hops and _is_address(hops[-1]):
                scope["client"] = (hops[-1], 0)
        await self.app(scope, receive, send)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


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
# Swagger UI and ReDoc, served from /static/vendor; their inline scripts are allowed by hash
# (the libraries themselves set inline styles, hence style-src's 'unsafe-inline').
DOCS_CSP = (
    "default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; worker-src blob:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# The pages: scripts and styles from this site only (no inline script), map tiles from theirs.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: {tiles}; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
DOC_PAGES = ("/docs", "/docs/oauth2-redirect", "/redoc")
# Pages other sites may frame: each sets its own CSP, whose frame-ancestors names who may.
FRAMEABLE = ("/embed/v1/frame",)
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


class SecurityHeaders:
    """nosniff, no referrer, no framing, a CSP (the API's, the pages' or the docs'), and no
    caching of authenticated answers."""

    def __init__(self, app: Any, tile_url: str = "") -> None:
        self.app = app
        self.page_csp = PAGE_CSP.format(tiles=tile_origin(tile_url)).encode()

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
                headers = message.get("headers", [])
                html = dict(headers).get(b"content-type", b"").startswith(b"text/html")
                csp = self.page_csp if html else API_CSP
                own_csp = scope["path"] in FRAMEABLE and any(
                    name.lower() == b"content-security-policy" for name, _ in headers
                )
                message["headers"] = _secured(
                    headers, None if own_csp else csp, credentials or html
                )
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


def tile_origin(url: str) -> str:
    """The scheme and host of a tile URL template, for img-src ('' when there are no tiles)."""
    match = re.match(r"^(https?://[^/{}]+)", url)
    return match.group(1) if match else ""


def _secured(headers: list, csp: bytes | None, no_store: bool) -> list:
    """The headers every answer gets; csp None keeps the answer's own CSP (a frameable page,
    whose frame-ancestors replaces X-Frame-Options)."""
    names = {name.lower() for name, _ in headers}
    out = [
        *headers,
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    ]
    if csp is not None:
        out += [(b"x-frame-options", b"DENY"), (b"content-security-policy", csp)]
    if no_store and b"cache-control" not in names:
        out.append((b"cache-control", b"no-store"))
    return out
