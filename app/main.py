"""create_app(): settings, database, routers, middleware and error handlers — nothing else."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import __version__
from app.db import Database
from app.errors import add_exception_handlers
from app.middleware import AccessLog, BodySizeLimit
from app.openapi import install_openapi
from app.routers import assets, health, matches, offerings, organizations, schools, taxonomy
from app.routers.imports import router as imports_router
from app.services.catalog_index import warm_up
from app.settings import Settings, get_settings

DESCRIPTION = """
PartnerMap helps K-12 schools find community partners and helps districts see where
community assets meet — or miss — school needs.

All errors are `application/problem+json` (RFC 9457). Lists paginate with `cursor`;
`Accept: application/geo+json` (or `format=geojson`) returns RFC 7946 GeoJSON.
"""


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    if app.state.settings.warm_ranking_index:
        threading.Thread(
            target=warm_up, args=(app.state.database,), name="warm-ranking-index", daemon=True
        ).start()
    yield
    app.state.database.dispose()


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    app = FastAPI(
        lifespan=_lifespan,
        title="PartnerMap",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=[
            {"name": "organizations", "description": "Community organizations and locations"},
            {"name": "offerings", "description": "What organizations provide to schools"},
            {"name": "schools", "description": "Schools and their equity indicators"},
            {"name": "needs assessments", "description": "Dated, prioritized school needs"},
            {"name": "matches", "description": "Explained, equity-weighted rankings"},
            {"name": "taxonomy", "description": "Categories of partnership"},
            {"name": "health", "description": "Probes"},
        ],
    )
    app.state.settings = settings
    app.state.database = database or Database(settings.database_url, echo=settings.sql_echo)

    for router in (
        health.router,
        taxonomy.router,
        organizations.router,
        offerings.router,
        schools.router,
        matches.router,
        assets.router,
        imports_router,
    ):
        app.include_router(router)
    add_exception_handlers(app)
    install_openapi(app)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["*"],
        )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(AccessLog)
    return app
