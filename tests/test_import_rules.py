"""Layering rules read from the source, so a forbidden import fails the suite."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_routers_import_no_orm_models():
    """Routers speak HTTP only: rows reach them through services, shaped by app.representations."""
    offenders = []
    for path in sorted((ROOT / "app" / "routers").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            if any(n == "app.models" or n.startswith("app.models.") for n in names) or (
                isinstance(node, ast.ImportFrom)
                and node.module == "app"
                and any(a.name == "models" for a in node.names)
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
