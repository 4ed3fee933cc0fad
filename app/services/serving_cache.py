"""What a worker keeps between requests besides the ranking index: schools with their latest
needs and the principals of bearer tokens, each for a few seconds at most and only while the
database's serving version of its kind (app/repositories/serving.py) is unchanged, so a write
on any worker (a new assessment, a revoked token, a disabled user) ends it at the next request
of every worker."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from app.repositories import serving

T = TypeVar("T")
MAX_ENTRIES = 10_000  # per worker; emptied when full (a burst of distinct keys, then refilled)


class ServingCache:
    """Values by (kind, key), each with the kind's version and a deadline."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[tuple[str, Hashable], tuple[int, float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, kind: str, key: Hashable, load: Callable[[], T]) -> T:
        """The cached value while it holds, else load() (what load raises is not kept)."""
        if self.seconds <= 0:
            return load()
        version = serving.versions(session).get(kind)
        if version is None:  # the version row is gone (tables emptied): nothing is cacheable
            return load()
        now = time.monotonic()
        hit = self._entries.get((kind, key))
        if hit is not None and hit[0] == version and hit[1] > now:
            return hit[2]  # type: ignore[no-any-return]
        value = load()
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[(kind, key)] = (version, now + self.seconds, value)
        return value
