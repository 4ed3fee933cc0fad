"""What a worker keeps between requests besides the ranking index: schools with their latest needs
and the principals of bearer tokens and API keys, each for a few seconds at most and only while
the database's serving version of its kind (app/repositories/serving.py) is unchanged, so a
write on any worker (a new assessment, a revoked token or key, a disabled user) ends it at the
next request of every worker — or, with a freshness bound (Settings.freshness_ms), within that
bound on the other workers: the versions are read again only when this worker last read them
longer ago, or when it has committed a write of its own since (Database.writes). Credentials are
never held past a write on any worker: the "accounts" kind (principals of tokens and keys)
ignores the bound and its version is read on every request, so a revoked token or key, a
disabled user or a key's changed origins take effect at once on every worker (issue 13). That
read is the worker's watch (peek: its own connection, no pooled session, no thread; on SQLite a
few microseconds while nothing was committed), or, when the watch cannot answer or nothing is
held, the request's session (get, AT_ONCE)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from app.db import Watch, Writes
from app.repositories import serving

T = TypeVar("T")
MAX_ENTRIES = 10_000  # per worker; emptied when full (a burst of distinct keys, then refilled)
MISSING: Any = object()
AT_ONCE = frozenset({"accounts"})  # kinds whose version is read on every request, bound or not


class ServingCache:
    """Values by (kind, key), each with the kind's version and a deadline."""

    def __init__(
        self,
        seconds: float,
        fresh_s: float = 0.0,
        writes: Writes | None = None,
        watch: Watch | None = None,
    ) -> None:
        self.seconds = seconds
        self.watch = watch
        self.fresh_s = fresh_s if writes is not None else 0.0
        self.writes = writes
        self._entries: dict[tuple[str, Hashable], tuple[int, float, Any]] = {}
        self._lock = threading.Lock()
        # The serving versions as last read: (this worker's write count then, when, versions).
        self._versions: tuple[int, float, dict[str, int]] | None = None

    def get(self, session: Session, kind: str, key: Hashable, load: Callable[[], T]) -> T:
        """The cached value while it holds, else load() (what load raises is not kept)."""
        if self.seconds <= 0:
            return load()
        version = self.versions(session, fresh=kind in AT_ONCE).get(kind)
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

    async def peek(self, kind: str, key: Hashable) -> Any:
        """The value held for (kind, key) if it was cached under the kind's version as the watch
        reads it now (every commit finished before the call is seen), else MISSING: nothing
        held or past its deadline, the version moved, or no watch, or it cannot answer."""
        hit = self._entries.get((kind, key))
        if self.watch is None or hit is None or hit[1] <= time.monotonic():
            return MISSING
        rows = await self.watch.rows()
        if rows is None or dict(rows).get(kind) != hit[0]:
            return MISSING
        return hit[2]

    def close(self) -> None:
        """Close the watch's connection (a worker's shutdown; it opens again if asked)."""
        if self.watch is not None:
            self.watch.close()

    def versions(self, session: Session, *, fresh: bool = False) -> dict[str, int]:
        """The serving versions: this worker's last reading while it is within the bound (and
        `fresh` is not asked for), else read (once per transaction: serving.versions)."""
        held = None if fresh else self._fresh_versions()
        if held is not None:
            return held
        if self.writes is None or self.fresh_s <= 0:
            return serving.versions(session)
        count, read_at = self.writes.count, time.monotonic()
        held = dict(serving.versions(session))
        if self.writes.count == count:  # no write of ours committed meanwhile
            self._versions = (count, read_at, held)
        return held

    def _fresh_versions(self) -> dict[str, int] | None:
        memo = self._versions
        if memo is None or self.writes is None or memo[0] != self.writes.count:
            return None
        if time.monotonic() - memo[1] >= self.fresh_s:
            return None
        return memo[2]
