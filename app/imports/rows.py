"""From CSV cells to API schemas: typed conversion, formula cells, and pydantic errors turned
into (field, problem) pairs that name the CSV column."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from app.imports.csvfile import formula_problem, unescape

Kind = Literal["text", "int", "float", "list", "bool", "grade", "date"]
LIST_SEPARATOR = ";"

_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "text"
    required: bool = False
    help: str = ""


class CellError(ValueError):
    def __init__(self, column: str, problem: str) -> None:
        super().__init__(problem)
        self.column = column
        self.problem = problem


def text_cell(column: str, raw: str) -> str | None:
    """A text cell with its text-marking apostrophe removed; a formula-like cell is an error."""
    value = raw.strip()
    if not value:
        return None
    problem = formula_problem(value)
    if problem:
        raise CellError(column, problem)
    return unescape(value)


def convert(column: Column, raw: str | None) -> Any:
    """A cell as the JSON value the API schema expects (None when empty)."""
    if raw is None:
        return None
    value = raw.strip()
    if column.kind == "text":
        return text_cell(column.name, raw)
    if column.kind == "list":
        if not value:
            return []
        return [
            item
            for part in value.split(LIST_SEPARATOR)
            if (item := text_cell(column.name, part)) is not None
        ]
    if not value:
        return None
    if column.kind == "int":
        return _number(column.name, value, whole=True)
    if column.kind == "float":
        return _number(column.name, value, whole=False)
    if column.kind == "grade":
        upper = value.upper()
        if upper in ("PK", "TK", "K", "KG"):
            return "K" if upper == "KG" else upper
        return _number(column.name, value, whole=True)
    if column.kind == "bool":
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise CellError(column.name, f"'{value[:40]}' is not true/false (or yes/no, 1/0)")
    if column.kind == "date":
        return value  # ISO 8601; the schema parses it
    raise AssertionError(column.kind)


def _number(name: str, value: str, *, whole: bool) -> int | float:
    kind = "a whole number" if whole else "a number"
    try:
        number = float(value)
    except ValueError:
        raise CellError(name, f"'{value[:40]}' is not {kind}") from None
    if not math.isfinite(number):
        raise CellError(name, f"'{value[:40]}' is not a finite number")
    if whole:
        if not number.is_integer():
            raise CellError(name, f"'{value[:40]}' is not {kind}")
        return int(number)
    return number


def validate(
    model: type[BaseModel],
    data: dict[str, Any],
    column_of: Callable[[tuple[Any, ...]], str] | Mapping[str, str] | None = None,
) -> tuple[BaseModel | None, list[tuple[str, str]]]:
    """Validate with the API schema; errors come back as (column, message) pairs."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err.get("loc", ()))
            if callable(column_of):
                column = column_of(loc)
            else:
                column = (column_of or {}).get(str(loc[0]), str(loc[0])) if loc else "record"
            problems.append((column, _message(err)))
        return None, problems


def _message(err: Mapping[str, Any]) -> str:
    msg = str(err.get("msg", "invalid"))
    value = err.get("input")
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        shown = str(value)
        if len(shown) <= 60:
            return f"{msg} (got '{shown}')"
    return msg
