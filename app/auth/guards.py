"""ASGI guards in front of the API: CORS for district portals, and rate limits.

Rate limits are token buckets kept in each worker process's memory (so with N workers a
client gets up to N times the limit), or in Redis for every worker at once when REDIS_URL is
set (app.auth.shared_limits).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict, deque
from typing import Any

import anyio
from redis.exceptions import RedisError

from app.auth import credentials
from app.auth.origins import OriginCache
from app.db import Database
from app.domain_errors import Forbidden, TooManyRequests
from app.errors import send_problem

log = logging.getLogger("partnermap.limits")
# After Redis failed to answer a rate-limit check, how long requests pass uncounted before the
# next check asks it again.
SHARED_RETRY_S = 5.0

ALLOW_METHODS = b"GET, POST, PATCH, DELETE"
ALLOW_HEADERS = b"Authorization, Content-Type, Accept, X-API-Key, X-Request-ID, Idempotency-Key"
EXPOSE_HEADERS = b"Location, Link, Retry-After, X-Request-ID, WWW-Authenticate, Idempotent-Replayed"
UNLIMITED_PATHS = ("/health", "/ready")


EMBED = "/embed/v1/"


def _anyone_reads(send: Any) -> Any:
    """The widget's answers: readable by any page (they read no cookies; the key's own origin
    allowlist decides, and a refusal must reach the widget to be shown)."""

    async def open_send(message: dict) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [
                *message.get("headers", []),
                (b"access-control-allow-origin", b"*"),
            ]
        await send(message)

    return open_send


class PortalCORS:
    """CORS answered per origin, never with '*' (except the widget's calls under /embed/v1,
    which read no credentials and check the key's origins themselves) and never with
    credentials (tokens and keys travel in headers, not cookies). Pre-flights pass for origins
    some active key allows or the ALLOWED_ORIGINS setting lists; a request whose key does not
    allow its Origin is refused by the key check itself
    (app.services.accounts.principal_for_key)."""

    def __init__(
        self,
        app: Any,
        cache: OriginCache,
        allowlist: list[str],
        database: Database,
        max_age: int = 600,
    ) -> None:
        self.app = app
        self.cache = cache
        # The cache's load opens its own session: it is run holding one of the pool's
        # connection slots (Database.in_thread_with_slot).
        self.database = database
        self.allowlist = {o.rstrip("/").lower() for o in allowlist}
        self.max_age = str(max_age).encode()

    async def _allowed(self, origin: str) -> bool:
        if origin in self.allowlist:
            return True
        held = self.cache.held()  # no hop to a thread while the union is fresh
        if held is None:
            # Fresh at the shared store's generation (a Redis read, no session)? Only a load
            # takes one of the pool's connection slots.
            held = await anyio.to_thread.run_sync(self.cache.fresh_now)
        if held is None:
            held = await self.database.in_thread_with_slot(self.cache.current)
        return origin in held

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(EMBED):
            await self.app(scope, receive, _anyone_reads(send))
            return
        headers = dict(scope.get("headers") or [])
        raw_origin = headers.get(b"origin")
        origin = raw_origin.decode("latin-1") if raw_origin else None
        allowed = origin is not None and await self._allowed(origin)
        vary = [(b"vary", b"Origin")]
        if (
            scope["method"] == "OPTIONS"
            and raw_origin
            and b"access-control-request-method" in headers
        ):
            if not allowed:
                await send_problem(
                    scope,
                    receive,
                    send,
                    Forbidden(f"The origin {origin} is not allowed to call this API."),
                    headers={"Vary": "Origin"},
                )
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [
                        (b"access-control-allow-origin", raw_origin),
                        (b"access-control-allow-methods", ALLOW_METHODS),
                        (b"access-control-allow-headers", ALLOW_HEADERS),
                        (b"access-control-max-age", self.max_age),
                        *vary,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def cors_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                extra = list(vary)
                if allowed:
                    assert raw_origin is not None
                    extra += [
                        (b"access-control-allow-origin", raw_origin),
                        (b"access-control-expose-headers", EXPOSE_HEADERS),
                    ]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, cors_send)


class Buckets:
    """Token buckets by name: `per_minute` requests a minute, bursts up to the same number."""

    MAX_NAMES = 100_000
    blocking = False

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, name: str, now: float | None = None) -> float:
        """0 when a request may go now, else the seconds until it may."""
        if self.capacity <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        tokens, then = self._buckets.pop(name, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - then) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[name] = (tokens, now)
        while len(self._buckets) > self.MAX_NAMES:  # forget the longest idle
            self._buckets.popitem(last=False)
        return wait


class RateLimit:
    """Every request is charged to its client IP's bucket, and a request with an API key to
    that key's bucket too; an empty bucket answers 429 with Retry-After."""

    def __init__(self, app: Any, ips: Any, keys: Any) -> None:
        self.app = app
        self.ips = ips  # Buckets, or RedisBuckets shared by the workers
        self.keys = keys
        # While the shared store does not answer, requests pass uncounted (the limits protect
        # the service; an outage of Redis must not take it down): until this monotonic time,
        # after each failure, no request waits for Redis again.
        self._unshared_until = -math.inf

    async def _take(self, buckets: Any, name: str) -> float:
        if not buckets.blocking:
            return float(buckets.take(name))
        if time.monotonic() < self._unshared_until:
            return 0.0
        try:
            return float(await anyio.to_thread.run_sync(buckets.take, name))
        except RedisError as exc:
            self._unshared_until = time.monotonic() + SHARED_RETRY_S
            log.warning(
                "rate limits not counted for %ss: Redis does not answer (%s)",
                SHARED_RETRY_S,
                type(exc).__name__,
            )
            return 0.0

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client") or ("unknown", 0)
        wait, who = await self._take(self.ips, client[0]), "this address"
        if not wait:
            key = dict(scope.get("headers") or []).get(b"x-api-key")
            parts = credentials.split_key(key.decode("latin-1")) if key else None
            if parts:
                wait, who = await self._take(self.keys, parts[0]), "this API key"
        if wait:
            retry = math.ceil(wait)
            await send_problem(
                scope,
                receive,
                send,
                TooManyRequests(
                    f"The rate limit for {who} is reached; retry in {retry} s.", retry_after=retry
                ),
            )
            return
        await self.app(scope, receive, send)


class LoginThrottle:
    """Failed log-ins per (email, address): after `max_failures` within `window` seconds, more
    attempts are refused until the oldest failure leaves the window. Each attempt is counted
    as a failure before the password is checked (and forgiven if it succeeds), under a lock,
    so parallel wrong passwords cannot all slip in before the first is counted."""

    def __init__(self, max_failures: int, window: float) -> None:
        self.max_failures = max_failures
        self.window = window
        self._lock = threading.Lock()
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    def attempt(self, email: str, address: str, now: float | None = None) -> int:
        """0 and the attempt counted, or the seconds to wait (nothing counted)."""
        now = time.monotonic() if now is None else now
        name = (email, address)
        with self._lock:
            failures = self._failures.setdefault(name, deque(maxlen=self.max_failures))
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            if len(failures) >= self.max_failures:
                return max(1, math.ceil(failures[0] + self.window - now))
            failures.append(now)
            self._failures.move_to_end(name)
            while len(self._failures) > Buckets.MAX_NAMES:
                self._failures.popitem(last=False)
            return 0

    def succeeded(self, email: str, address: str) -> None:
        with self._lock:
            self._failures.pop((email, address), None)
