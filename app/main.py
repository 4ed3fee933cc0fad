"""create_app(): settings, database, routers, middleware and error handlers — nothing else."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from app import __version__
from app.auth.guards import LoginThrottle, PortalCORS, RateLimit
from app.auth.origins import OriginCache
from app.db import Database
from app.deps import guard
from app.errors import add_exception_handlers
from app.middleware import AccessLog, BodySizeLimit, RequestId, SecurityHeaders
from app.openapi import install_openapi
from app.repositories.accounts import active_origins
from app.routers import (
    accounts,
    agreements,
    assets,
    audit,
    districts,
    goals,
    health,
    matches,
    offerings,
    ogc,
    organizations,
    partnership_reports,
    partnerships,
    schools,
    taxonomy,
)
from app.routers.imports import router as imports_router
from app.services.catalog_index import CatalogIndex
from app.settings import Settings, get_settings

DESCRIPTION = """
PartnerMap helps K-12 schools find community partners and helps districts see where
community assets meet — or miss — school needs.

All errors are `application/problem+json` (RFC 9457). Lists paginate with `cursor`;
`Accept: application/geo+json` (or `format=geojson`) returns RFC 7946 GeoJSON.

Public data (verified partners, the school directory, the taxonomy, maps) needs no
credentials. Everything else takes a log-in token (`POST /v1/auth/token`, then
`Authorization: Bearer <token>`) or a district portal's key (`X-API-Key: pmk_…`); each
operation says who may call it (the full matrix is docs/permissions.md).
"""


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    if app.state.settings.warm_ranking_index:
        threading.Thread(
            target=app.state.ranking_index.warm_up,
            args=(app.state.database,),
            name="warm-ranking-index",
            daemon=True,
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
            {"name": "partnerships", "description": "School-partner terms, goals, progress"},
            {"name": "agreements", "description": "MOUs and data-sharing agreements"},
            {"name": "taxonomy", "description": "Categories of partnership"},
            {"name": "accounts", "description": "Log-in, log-out, sign-up, the caller"},
            {"name": "districts", "description": "Districts and their portals' API keys"},
            {"name": "audit", "description": "Who changed what, and when"},
            {"name": "health", "description": "Probes"},
            {
                "name": "ogc api - features",
                "description": "The map data for GIS clients (QGIS, ArcGIS, GDAL), under /ogc",
            },
        ],
        dependencies=[Depends(guard)],
    )
    app.state.settings = settings
    app.state.database = database or Database(settings.database_url, echo=settings.sql_echo)
    # This app's ranking index, kept current from the catalog change log (one per worker).
    app.state.ranking_index = CatalogIndex(settings.ranking)
    app.state.login_throttle = LoginThrottle(
        settings.login_max_failures, settings.login_window_seconds
    )

    for router in (
        health.router,
        accounts.router,
        districts.router,
        audit.router,
        taxonomy.router,
        organizations.router,
        offerings.router,
        schools.router,
        matches.router,
        assets.router,
        partnership_reports.router,
        imports_router,
        ogc.router,
        partnerships.router,
        partnerships.track_records,
        goals.router,
        agreements.router,
    ):
        app.include_router(router)
    add_exception_handlers(app)
    install_openapi(app)

    # Last added runs first: headers and ids wrap everything, CORS answers before the rate
    # limit so a browser can read a 429, and the body limit sits next to the app (inside it
    # only the catch-all for unexpected errors that add_exception_handlers added).
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        allowances=agreements.UPLOAD_ALLOWANCES,
    )
    app.add_middleware(
        RateLimit,
        per_ip=settings.rate_limit_per_minute_ip,
        per_key=settings.rate_limit_per_minute_key,
    )
    app.add_middleware(
        PortalCORS,
        cache=OriginCache(_origins_of(app.state.database), settings.cors_cache_seconds),
        allowlist=settings.cors_origins,
    )
    app.add_middleware(AccessLog)
    app.add_middleware(RequestId)
    app.add_middleware(SecurityHeaders)
    return app


def _origins_of(database: Database):  # type: ignore[no-untyped-def]
    def load() -> set[str]:
        with database.session() as session:
            return active_origins(session)

    return load
