"""Liveness and readiness probes. Neither passes the permission door (create_app includes them
without it), so neither needs the database for a principal nor a worker thread to start."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app import __version__
from app.domain_errors import ServiceUnavailable

router = APIRouter(tags=["health"])

# /ready's checks run on threads of their own, so a stalled database that holds every worker
# thread cannot keep the probe from answering.
_READY_THREADS = anyio.CapacityLimiter(4)


class Health(BaseModel):
    status: str
    version: str


class Ready(Health):
    database: str
    ranking_index: str = Field(
        description="`built`: rankings answer from it; `on first ranking`: none is held (the "
        "start-up build is off, or failed) and the next ranking builds it",
        examples=["built"],
    )


@router.get("/health", response_model=Health, summary="The process is up")
async def health() -> Health:
    return Health(status="ok", version=__version__)


@router.get(
    "/ready",
    response_model=Ready,
    summary="The database answers and the ranking index is built",
    responses={
        503: {
            "description": "The database does not answer in READY_TIMEOUT_S, or the worker "
            "is still building its ranking index at start-up (a proxy should send it nothing "
            "yet: a ranking would wait for the build)"
        }
    },
)
async def ready(request: Request) -> Ready:
    # app.state directly: the shared sync dependencies would each take a worker thread.
    database, settings = request.app.state.database, request.app.state.settings
    ranking_index = request.app.state.ranking_index
    backend = "postgis" if database.is_postgis else "sqlite"
    if not ranking_index.warmed.is_set():
        raise ServiceUnavailable("The ranking index is still being built at start-up.")
    answers = False
    with anyio.move_on_after(settings.ready_timeout_s):
        answers = await anyio.to_thread.run_sync(
            database.answers, abandon_on_cancel=True, limiter=_READY_THREADS
        )
    if not answers:
        raise ServiceUnavailable(f"The {backend} database does not answer.")
    index = "built" if ranking_index.built else "on first ranking"
    return Ready(status="ok", version=__version__, database=backend, ranking_index=index)
