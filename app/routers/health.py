"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from app import __version__
from app.deps import DatabaseDep
from app.domain_errors import ServiceUnavailable

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str


class Ready(Health):
    database: str


@router.get("/health", response_model=Health, summary="The process is up")
def health() -> Health:
    return Health(status="ok", version=__version__)


@router.get(
    "/ready",
    response_model=Ready,
    summary="The database answers",
    responses={503: {"description": "The database does not answer"}},
)
def ready(database: DatabaseDep) -> Ready:
    backend = "postgis" if database.is_postgis else "sqlite"
    if not database.answers():
        raise ServiceUnavailable(f"The {backend} database does not answer.")
    return Ready(status="ok", version=__version__, database=backend)
