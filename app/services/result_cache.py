"""Rankings a worker has answered, kept for the same question while what they were computed
from is unchanged (principals and embedded widgets reload the same school's page): a bounded
least-recently-used map from a question (school, page, parameters, the caller's effective
filters) to its rendered answer and what it was valid for (the index's version, the school's
needs as read, the day). Settings.result_cache_entries = 0 turns it off."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class ResultCache:
    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._held: OrderedDict[Hashable, tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, valid_for: Any, compute: Callable[[], T]) -> T:
        """The answer kept for `key` if it was computed for `valid_for` (compared with ==),
        else compute() (kept unless it raises)."""
        if self.entries <= 0:
            return compute()
        with self._lock:
            hit = self._held.get(key)
            if hit is not None and hit[0] == valid_for:
                self._held.move_to_end(key)
                self.hits += 1
                return hit[1]  # type: ignore[no-any-return]
            self.misses += 1
        value = compute()
        with self._lock:
            self._held[key] = (valid_for, value)
            self._held.move_to_end(key)
            while len(self._held) > self.entries:
                self._held.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._held)
