"""The architecture's import rules, read from the source: one small test per rule.

A rule is a package and the top-level packages its modules must not import; add a rule with
one more test function calling `imports_of` and `assert_no_imports`.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB_AND_DATABASE = ("fastapi", "starlette", "sqlalchemy", "geoalchemy2", "httpx", "uvicorn", "app")


def imports_of(package: str) -> dict[str, set[str]]:
    """Module path -> the absolute module names it imports, for every module of the package."""
    found: dict[str, set[str]] = {}
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules, f"no modules under {package}/"
    for path in modules:
        package_parts = list(path.relative_to(ROOT).parent.parts)
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                # A relative import names a module from this package upwards: made absolute.
                base = package_parts[: len(package_parts) - node.level + 1] if node.level else []
                if node.module:
                    names.add(".".join([*base, node.module]))
                else:  # from . import x: x is a module of that package
                    names.update(".".join([*base, alias.name]) for alias in node.names)
        found[str(path.relative_to(ROOT))] = names
    return found


def assert_no_imports(package: str, forbidden: tuple[str, ...]) -> None:
    """No module of the package imports a forbidden package or any module inside it."""
    broken = {
        module: sorted(n for n in names if n.split(".")[0] in forbidden)
        for module, names in imports_of(package).items()
    }
    broken = {module: names for module, names in broken.items() if names}
    assert not broken, f"{package}/ imports what it must not: {broken}"


def test_the_ranking_library_imports_no_web_or_database_code():
    assert_no_imports("matching", WEB_AND_DATABASE)


def test_the_geometry_library_imports_no_web_or_database_code():
    assert_no_imports("geo", WEB_AND_DATABASE)


def test_geometry_imports_nothing_from_ranking():
    assert_no_imports("geo", ("matching",))
