"""Computed fields of a mapping file: arithmetic over columns, e.g. the share of students
eligible for free or reduced-price lunch from the counts a directory publishes,

    frl_pct = { compute = "100 * (FREE_LUNCH + REDUCED_LUNCH) / ENROLLMENT", round = 1 }

Numbers, columns (`COLUMN`, or `alias.COLUMN` of a joined file; any other name in backquotes),
+ - * / and parentheses. A missing or non-numeric part, or a division by zero, gives no value
(the field's next source is tried), never an error: a directory leaves cells blank."""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

Cells = Mapping[str, str]
OPERATORS: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
QUOTED = re.compile(r"`([^`]+)`")


class FormulaProblem(ValueError):
    """The formula cannot be read; the message says where."""


@dataclass(frozen=True)
class Formula:
    text: str
    tree: ast.expr
    names: dict[str, tuple[str | None, str]]  # name in the tree -> (alias, column)

    @property
    def columns(self) -> list[tuple[str | None, str]]:
        return list(self.names.values())

    def evaluate(
        self, cells: Cells, matches: Mapping[str, Cells], missing: Collection[str]
    ) -> float | None:
        """The value on one row, or None when a part is missing or it divides by zero."""
        values: dict[str, float] = {}
        for name, (alias, column) in self.names.items():
            row = cells if alias is None else matches.get(alias)
            raw = "" if row is None else row[column].strip()
            if raw in missing:
                return None
            try:
                values[name] = float(raw.replace(",", ""))
            except ValueError:
                return None
        try:
            result = _evaluate(self.tree, values)
        except ZeroDivisionError:
            return None
        return result if math.isfinite(result) else None


def parse_formula(text: str, aliases: Collection[str]) -> Formula:
    """Check a formula once, when the mapping is loaded."""
    quoted: dict[str, str] = {}

    def name_for(match: re.Match[str]) -> str:
        quoted[f"_q{len(quoted)}"] = match.group(1)
        return f"_q{len(quoted) - 1}"

    try:
        tree = ast.parse(QUOTED.sub(name_for, text), mode="eval").body
    except SyntaxError as exc:
        raise FormulaProblem(f"cannot read formula '{text}': {exc.msg}") from None
    names: dict[str, tuple[str | None, str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if not isinstance(node.value, ast.Name) or node.value.id not in aliases:
                raise FormulaProblem(f"formula '{text}': '{ast.unparse(node)}' names no join")
            names[ast.unparse(node)] = (node.value.id, node.attr)
        elif isinstance(node, ast.Name):
            if node.id in {n.split(".")[0] for n in names if "." in n}:
                continue  # the alias of a joined column seen above
            column = quoted.get(node.id, node.id)
            alias, _, rest = column.rpartition(".")
            names[node.id] = (alias, rest) if alias in aliases else (None, column)
        elif not (
            isinstance(node, ast.BinOp | ast.UnaryOp | ast.Load | ast.USub | ast.UAdd)
            or type(node) in OPERATORS
            or (isinstance(node, ast.Constant) and isinstance(node.value, int | float))
        ):
            raise FormulaProblem(
                f"formula '{text}': only numbers, columns, + - * / and parentheses are allowed"
            )
    if not names:
        raise FormulaProblem(f"formula '{text}' reads no column")
    return Formula(text, tree, names)


def _evaluate(node: ast.expr, values: dict[str, float]) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.Name | ast.Attribute):
        return values[ast.unparse(node)]
    if isinstance(node, ast.UnaryOp):
        inner = _evaluate(node.operand, values)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        return OPERATORS[type(node.op)](_evaluate(node.left, values), _evaluate(node.right, values))
    raise FormulaProblem(f"cannot evaluate '{ast.unparse(node)}'")
