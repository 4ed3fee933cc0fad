"""Every API operation runs behind the permission matrix's door: a router left out of the guarded
loop in create_app would otherwise answer anyone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.deps import guard
from app.main import create_app

UNGUARDED_PROBES = {"/health", "/ready"}  # answer without the database or the door, by design
API = ("/v1/", "/ogc")


def _operations(app: FastAPI) -> Iterator[tuple[str, bool]]:
    """(path, guarded) for every operation the app publishes, through included routers."""
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):  # an included router (FastAPI >= 0.130)
            contexts: Any = route.effective_route_contexts()
        elif isinstance(route, APIRoute):
            contexts = [route]
        else:
            continue
        for c in contexts:
            if c.include_in_schema:
                yield c.path, any(d.dependency is guard for d in c.dependencies)


def test_every_api_route_runs_the_door(settings):
    operations = list(_operations(create_app(settings)))
    api = [(path, guarded) for path, guarded in operations if path.startswith(API)]
    assert len(api) > 50  # the walk found the API, not an empty app
    unguarded = sorted({path for path, guarded in api if not guarded})
    assert not unguarded, f"API routes outside the permission matrix's door: {unguarded}"


def test_only_the_probes_and_pages_are_left_unguarded(settings):
    open_paths = {
        path
        for path, guarded in _operations(create_app(settings))
        if not guarded and not path.startswith(API)
    }
    assert open_paths >= UNGUARDED_PROBES
    # Pages sign in with a cookie and ask the same table through `admit`; they are not in the
    # published schema, so what is left open in the schema is the probes alone.
    assert open_paths == UNGUARDED_PROBES, open_paths - UNGUARDED_PROBES
