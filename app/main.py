"""create_app(): settings, database, routers, middleware and error handlers — nothing else."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from app import __version__
from app.auth.guards import Buckets, LoginThrottle, PortalCORS, RateLimit
from app.auth.origins import OriginCache
from app.auth.shared_limits import RedisBuckets, RedisGeneration, RedisLoginThrottle
from app.db import Database
from app.deps import guard
from app.errors import TableErrors, add_exception_handlers
from app.idempotency import Idempotency
from app.middleware import (
    AccessLog,
    BodySizeLimit,
    Deadline,
    RequestId,
    SecurityHeaders,
    TrustedProxies,
)
from app.openapi import install_openapi
from app.pages import account as page_account
from app.pages import admin as page_admin
from app.pages import embed as page_embed
from app.pages import nonprofits as page_nonprofits
from app.pages import partnerships as page_partnerships
from app.pages import public as page_public
from app.pages import schools as page_schools
from app.pages.docs import install_docs
from app.pages.errors import add_page_handlers, send_unavailable_page
from app.repositories import serving
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
from app.routers.matches import Rankings
from app.services.catalog_index import CatalogIndex
from app.services.result_cache import ResultCache
from app.services.serving_cache import ServingCache
from app.settings import Settings, get_settings

STATIC_DIR = Path(__file__).resolve().parent / "static"
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
        app.state.ranking_index.warming()  # /ready says so until the build ends
        threading.Thread(
            target=app.state.ranking_index.warm_up,
            args=(app.state.database,),
            name="warm-ranking-index",
            daemon=True,
        ).start()
    yield
    app.state.serving_cache.close()
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
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = database or Database.of(settings)
    # This app's ranking index, kept current from the catalog change log (one per worker).
    fresh_s, writes = settings.freshness_ms / 1000, app.state.database.writes
    app.state.ranking_index = CatalogIndex(settings.ranking, fresh_s, writes)
    # Principals are checked on every request through this worker's watch (its own connection).
    watch = serving.watch(app.state.database) if settings.serving_cache_s > 0 else None
    app.state.serving_cache = ServingCache(settings.serving_cache_s, fresh_s, writes, watch)
    app.state.result_cache = ResultCache(settings.result_cache_entries)
    app.state.rankings = Rankings()
    limits = _limits(settings)
    app.state.login_throttle = limits.login_throttle

    # The rankings are matched first (FastAPI tries routes in order, router by router: at the
    # end of the list the walk cost ~5 % of a ranking request's CPU); they stay published where
    # they were included below. No other route matches their paths.
    app.include_router(matches.router, dependencies=[Depends(guard)], include_in_schema=False)
    # The probes skip the permission door: a principal may need the database, and /health
    # must answer while it is down (policy.py still lists them, public).
    app.include_router(health.router)
    for router in (
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
        # The permission matrix's door guards the JSON API; pages sign in with a cookie.
        app.include_router(router, dependencies=[Depends(guard)])
    for router in (
        page_public.router,
        page_account.router,
        page_schools.router,
        page_nonprofits.router,
        page_admin.router,
        page_embed.router,
        page_partnerships.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    add_exception_handlers(app)
    add_page_handlers(app)
    install_openapi(app)
    install_docs(app)

    # Last added runs first: headers and ids wrap everything, CORS answers before the rate
    # limit so a browser can read a 429, and the body limit sits next to the app (inside it
    # only the Idempotency-Key replay, which reads bodies through the limit, and the catch-all
    # for unexpected errors that add_exception_handlers added).
    app.add_middleware(
        Idempotency, database=app.state.database, ttl_hours=settings.idempotency_ttl_hours
    )
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        allowances=agreements.UPLOAD_ALLOWANCES,
    )
    app.add_middleware(RateLimit, ips=limits.ips, keys=limits.keys)
    app.add_middleware(
        PortalCORS,
        cache=OriginCache(
            _origins_of(app.state.database), settings.cors_cache_seconds, limits.origins
        ),
        allowlist=settings.cors_origins,
        database=app.state.database,
    )
    # The table's errors raised by the middleware above (a busy or stopped database in the
    # Idempotency-Key's claim or the portals' origins) answered as the routes' are.
    app.add_middleware(TableErrors)
    # Inside the log, the ids and the headers, so a late request's 503 carries them too.
    app.add_middleware(Deadline, seconds=settings.request_timeout_s, page=send_unavailable_page)
    app.add_middleware(AccessLog)
    app.add_middleware(TrustedProxies, proxies=settings.trusted_proxies)
    app.add_middleware(RequestId)
    app.add_middleware(SecurityHeaders, tile_url=settings.map_tile_url)
    return app


@dataclass(frozen=True)
class _Limits:
    ips: Any
    keys: Any
    login_throttle: Any
    origins: Any  # the shared key-origin generation, None in memory


def _limits(settings: Settings) -> _Limits:
    """In this worker's memory, or in Redis for every worker when REDIS_URL is set."""
    if not settings.redis_url:
        return _Limits(
            Buckets(settings.rate_limit_per_minute_ip),
            Buckets(settings.rate_limit_per_minute_key),
            LoginThrottle(settings.login_max_failures, settings.login_window_seconds),
            None,
        )
    # Both timeouts: a Redis host that is gone (not refusing) would otherwise hold a
    # connection attempt for the system's TCP timeout, minutes.
    client = redis.Redis.from_url(
        settings.redis_url, socket_timeout=2.0, socket_connect_timeout=2.0
    )
    prefix = settings.redis_prefix
    return _Limits(
        RedisBuckets(client, prefix + "ip:", settings.rate_limit_per_minute_ip),
        RedisBuckets(client, prefix + "key:", settings.rate_limit_per_minute_key),
        RedisLoginThrottle(
            client, prefix + "login:", settings.login_max_failures, settings.login_window_seconds
        ),
        RedisGeneration(client, prefix),
    )


def _origins_of(database: Database):  # type: ignore[no-untyped-def]
    def load() -> set[str]:
        with database.session() as session:
            return active_origins(session)

    return load
