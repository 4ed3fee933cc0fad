"""Browser origins: how they are written, and which ones may send pre-flights.

A pre-flight carries no key, so it is answered from the union of every active key's allowed
origins plus the ALLOWED_ORIGINS setting. Each process caches that union for
CORS_CACHE_SECONDS and drops its copy at once when it changes a key itself; another worker
sees the change within the cache time. The real request is checked against its own key's
origins on every call, so a stale cache can only let a pre-flight through, never a request.
When the database does not answer, the last union loaded stays in use (and the next attempt
waits for the cache time), so a browser's call that needs no database still gets its answer.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable

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
    def __init__(self, load: Callable[[], set[str]], ttl_seconds: float) -> None:
        self._load = load
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._origins: set[str] = set()
        self._loaded_at = -1e18
        self._generation = -1

    def current(self) -> set[str]:
        with self._lock:
            fresh = time.monotonic() - self._loaded_at < self._ttl
            if fresh and self._generation == _generation:
                return self._origins
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
                _generation,
            )
        return origins


_generation = 0


def changed() -> None:
    """A key was made or revoked in this process: reload the union on the next pre-flight."""
    global _generation
    _generation += 1
