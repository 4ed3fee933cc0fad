"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import DateTime, Text
from sqlalchemy.types import TypeDecorator


class TagList(TypeDecorator[list[str]]):
    """A list of short codes stored as ",a,b," so `LIKE '%,a,%'` filters work on both backends."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: list[str] | None, dialect: Any) -> str:
        if not value:
            return ","
        return "," + ",".join(value) + ","

    def process_result_value(self, value: str | None, dialect: Any) -> list[str]:
        if not value:
            return []
        return [part for part in value.split(",") if part]


def tag_pattern(code: str) -> str:
    """LIKE pattern matching one code inside a TagList column."""
    return f"%,{code},%"


def tag_branch_pattern(code: str) -> str:
    """LIKE pattern matching any child of a taxonomy branch inside a TagList column."""
    return f"%,{code}.%"


class JSONText(TypeDecorator[Any]):
    """JSON kept as text: PostGIS derives geography from it with ST_GeomFromGeoJSON."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else json.dumps(value, separators=(",", ":"))

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps always come back timezone-aware in UTC (SQLite keeps them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC) if value is not None else None
