"""The architecture's import rules, read from the source: one small test per rule.

A rule is a folder of modules and the modules (with everything inside them) they must not
import; add a rule with one more test function calling `assert_no_imports`.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB_AND_DATABASE = ("fastapi", "starlette", "sqlalchemy", "geoalchemy2", "httpx", "uvicorn", "app")


def imports_of(folder: str) -> dict[str, set[str]]:
    """Module path -> the absolute module names it imports, for every module under the folder
    (a path from the repository root, such as "geo" or "app/routers")."""
    found: dict[str, set[str]] = {}
    modules = sorted((ROOT / folder).rglob("*.py"))
    assert modules, f"no modules under {folder}/"
    for path in modules:
        package_parts = list(path.relative_to(ROOT).parent.parts)
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                # A relative import names a module from this package upwards: made absolute.
                base = package_parts[: len(package_parts) - node.level + 1] if node.level else []
                module = ".".join([*base, *([node.module] if node.module else [])])
                if node.module:
                    names.add(module)
                # from x import y: y may be a module of x, so x.y counts as imported too.
                names.update(
                    f"{module}.{alias.name}" if module else alias.name for alias in node.names
                )
        found[str(path.relative_to(ROOT))] = names
    return found


def assert_no_imports(folder: str, forbidden: tuple[str, ...]) -> None:
    """No module under the folder imports a forbidden module or anything inside it."""
    broken = {
        module: sorted(n for n in names if n in forbidden or n.startswith(_prefixes(forbidden)))
        for module, names in imports_of(folder).items()
    }
    broken = {module: names for module, names in broken.items() if names}
    assert not broken, f"{folder}/ imports what it must not: {broken}"


def _prefixes(modules: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{m}." for m in modules)


def test_the_ranking_library_imports_no_web_or_database_code():
    assert_no_imports("matching", WEB_AND_DATABASE)


def test_the_geometry_library_imports_no_web_or_database_code():
    assert_no_imports("geo", WEB_AND_DATABASE)


def test_geometry_imports_nothing_from_ranking():
    assert_no_imports("geo", ("matching",))


def test_routers_import_no_orm_models():
    """Routers speak HTTP only: rows reach them through services, shaped by app.representations."""
    assert_no_imports("app/routers", ("app.models",))


QUERY_CONSTRUCTS = tuple(
    f"sqlalchemy.{name}" for name in ("select", "insert", "update", "delete", "text", "func")
)


def test_routers_imports_and_cli_build_no_sql():
    """Queries live in app/repositories; HTTP, file formats and commands reach them through
    services (a Session and the database's exceptions may pass through)."""
    for folder in ("app/routers", "app/imports", "app/cli"):
        assert_no_imports(folder, QUERY_CONSTRUCTS)


def test_pages_call_services_and_run_no_sql():
    """Pages are another shell around the same services: no ORM models, repositories or SQL."""
    assert_no_imports("app/pages", ("app.models", "app.repositories", "sqlalchemy"))
