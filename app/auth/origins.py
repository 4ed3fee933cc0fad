"""Browser origins: how they are written, and which ones may send pre-flights.

A pre-flight carries no key, so it is answered from the union of every active key's allowed
origins plus the ALLOWED_ORIGINS setting. Each process caches that union for
CORS_CACHE_SECONDS and drops its copy at once when it changes a key itself; with REDIS_URL a
change bumps a shared generation that every worker reads, so all drop their copy at once
(without it, another worker sees the change within the cache time). The real request is
checked against its own key's origins on every call, so a stale cache can only let a
pre-flight through, never a request.
When the database does not answer, the last union loaded stays in use (and the next attempt
waits for the cache time), so a browser's call that needs no database still gets its answer;
when Redis does not answer, each worker's union lives out its cache time, as without Redis.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from app.domain_errors import InvalidInput

log = logging.getLogger("partnermap.origins")

ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")


def check(origin: str, loc: list[str | int]) -> str:
    """An origin as browsers send it: scheme://host[:port], lower case, no path, no '*'."""
    value = origin.strip().rstrip("/").lower()
    if not ORIGIN.match(value):
        raise InvalidInput(
            loc, f"'{origin}' is not an origin like https://portal.example.org (no '*', no path)."
        )
    return value


class OriginCache:
    def __init__(
        self, load: Callable[[], set[str]], ttl_seconds: float, shared: Any = None
    ) -> None:
        self._load = load
        self._ttl = ttl_seconds
        self._shared = shared  # a RedisGeneration, bumped by every worker's changed()
        if shared is not None:
            _shared.add(shared)
        self._lock = threading.Lock()
        self._origins: set[str] = set()
        self._loaded_at = -1e18
        self._generation: tuple[int, int] = (-1, -1)

    def _now_generation(self) -> tuple[int, int]:
        if self._shared is None:
            return _generation, 0
        try:
            return _generation, self._shared.current()
        except RedisError as exc:  # the union then lives out its cache time, as without Redis
            log.warning("shared origin generation unread, Redis does not answer (%s)", type(exc))
            return _generation, self._generation[1]

    def held(self) -> set[str] | None:
        """The origins as loaded, if that needs no read at all: loaded within the TTL, no key
        made or revoked in this process since, and no shared store (whose generation is a
        Redis read). Else None: call `current` (in a thread: it may read)."""
        if self._shared is not None:
            return None
        return self._fresh((_generation, 0))

    def fresh_now(self) -> set[str] | None:
        """The origins as loaded, if still fresh at the generation read now (a Redis read with
        a shared store; call it in a thread); else None: `current` loads them."""
        return self._fresh(self._now_generation())

    def current(self) -> set[str]:
        generation = self._now_generation()
        origins = self._fresh(generation)
        if origins is not None:
            return origins
        try:
            origins = self._load()
        except SQLAlchemyError as exc:
            log.warning("allowed origins kept, the database does not answer (%s)", type(exc))
            with self._lock:
                self._loaded_at = time.monotonic()
                return self._origins
        with self._lock:
            self._origins, self._loaded_at, self._generation = (
                origins,
                time.monotonic(),
                generation,
            )
        return origins

    def _fresh(self, generation: tuple[int, int]) -> set[str] | None:
        """The origins as loaded, if loaded within the TTL at this generation; else None."""
        with self._lock:
            fresh = time.monotonic() - self._loaded_at < self._ttl
            if fresh and self._generation == generation:
                return self._origins
        return None


_generation = 0
# The shared generations of this process's apps (held by their caches; gone with them).
_shared: weakref.WeakSet = weakref.WeakSet()


def changed() -> None:
    """A key was made or revoked: every worker reloads the union on its next pre-flight."""
    global _generation
    _generation += 1
    for shared in list(_shared):
        try:
            shared.bump()
        except RedisError as exc:  # the change is written: other workers see it in time
            log.warning(
                "origins changed, Redis does not answer (%s): other workers reload within "
                "CORS_CACHE_SECONDS",
                type(exc),
            )
