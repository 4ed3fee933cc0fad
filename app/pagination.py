"""Keyset cursors. A cursor is the sort key of the last row of a page: `<id>` for plain lists,
`<distance_m>:<id>` for `near` lists. They are readable on purpose: every string matching
CURSOR_PATTERN is a valid cursor, so clients and fuzzers cannot make one the server refuses."""

from __future__ import annotations

import re
from dataclasses import dataclass

CURSOR_PATTERN = r"^([0-9]{1,9}(\.[0-9]{1,12})?:)?[0-9]{1,12}$"
_CURSOR = re.compile(CURSOR_PATTERN)
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Cursor:
    id: int
    distance_m: float | None = None

    def encode(self) -> str:
        if self.distance_m is None:
            return str(self.id)
        return f"{self.distance_m:.12f}".rstrip("0").rstrip(".") + f":{self.id}"

    @classmethod
    def decode(cls, text: str | None, *, near: bool) -> Cursor | None:
        """Parse a cursor (the router has checked CURSOR_PATTERN). Outside a `near` query a
        distance is ignored; in one, a cursor without it is resolved by the repository."""
        if not text:
            return None
        if not _CURSOR.match(text):
            raise ValueError(f"not a cursor: {text!r}")
        distance, _, ident = text.rpartition(":")
        # Ids never exceed the 32-bit column range; a larger one means "after everything".
        return cls(
            id=min(int(ident), MAX_ID), distance_m=float(distance) if distance and near else None
        )
