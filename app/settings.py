"""The one settings object. Every value can be set by an environment variable of the same name."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from matching import RankingConfig

DEFAULT_SQLITE_PATH = Path("var") / "partnermap.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_SQLITE_PATH}",
        description="SQLAlchemy URL. Unset: a SQLite file under ./var. "
        "Production: postgresql+psycopg://user:pass@host/db (PostGIS required).",
    )
    max_body_bytes: int = Field(
        default=1_048_576, description="Requests with larger bodies are refused with 413."
    )
    page_size_default: int = Field(default=50, ge=1, le=500)
    page_size_max: int = Field(default=500, ge=1)
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser besides those of active "
        "API keys (each key lists its own). Never '*'.",
    )
    cors_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a worker reuses the union of the keys' origins for pre-flights.",
    )
    token_ttl_minutes: int = Field(
        default=60, ge=1, le=1440, description="Lifetime of a log-in's bearer token."
    )
    rate_limit_per_minute_ip: int = Field(
        default=600,
        ge=0,
        description="Requests a minute per client address (per worker without REDIS_URL; 0: "
        "no limit).",
    )
    rate_limit_per_minute_key: int = Field(
        default=1200,
        ge=0,
        description="Requests a minute per API key (per worker without REDIS_URL; 0: no limit).",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of the reverse proxies whose X-Forwarded-For "
        "is believed; from any other peer, local ones included, the header is ignored.",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://host:port/db: rate limits, the log-in throttle and key-origin "
        "changes are shared by every worker. Unset: each worker keeps its own in memory.",
    )
    redis_prefix: str = Field(
        default="partnermap:", description="Prefix of every key this service writes in Redis."
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed log-ins per (email, address) before a pause."
    )
    login_window_seconds: int = Field(
        default=900, ge=1, description="The window those failures are counted in."
    )
    idempotency_ttl_hours: float = Field(
        default=24,
        gt=0,
        description="How long a POST's Idempotency-Key and its first answer are kept.",
    )
    equity_default: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="Equity strength when neither the request nor the school's district gives "
        "one (0 = pure fit); a district's own is set with `partnermap districts create --equity`.",
    )
    warm_ranking_index: bool = Field(
        default=True,
        description="Build the ranking index in the background when a worker starts, so the "
        "first ranking request does not pay for it.",
    )
    serving_cache_s: float = Field(
        default=5.0,
        ge=0,
        description="How long a worker keeps a school's latest needs and a bearer token's or "
        "an API key's principal at most; any write to schools, assessments, districts or "
        "accounts ends them sooner, on every worker (0 = no cache).",
    )
    freshness_ms: int = Field(
        default=500,
        ge=0,
        description="How stale a worker's view of other workers' writes may be: it looks at "
        "the catalog change log and the serving versions again only when it last looked longer "
        "ago than this (its own writes show in its next request at once; 0 = look on every "
        "request). Bearer tokens' principals ignore it: revocations stop at once everywhere.",
    )
    result_cache_entries: int = Field(
        default=2_000,
        ge=0,
        description="Rankings a worker keeps (least recently used dropped): a school's page for "
        "the same parameters and caller is answered again from memory while the catalog, the "
        "partnership history and the school's needs are unchanged (0 = none).",
    )
    db_connect_timeout_s: int = Field(
        default=3,
        ge=1,
        description="PostgreSQL: seconds to open a connection before the request is a 503 "
        "(a stopped or frozen server does not refuse, it just never answers).",
    )
    db_statement_timeout_ms: int = Field(
        default=15_000, ge=0, description="PostgreSQL: the longest one statement may run (0: none)."
    )
    db_lock_timeout_ms: int = Field(
        default=5_000, ge=0, description="PostgreSQL: the longest a statement waits for a lock."
    )
    db_pool_timeout_s: float = Field(
        default=5.0, gt=0, description="Seconds a request waits for a free pooled connection."
    )
    db_pool_size: int = Field(
        default=5,
        ge=1,
        description="Connections a worker keeps open to the database (SQLAlchemy's pool_size).",
    )
    db_max_overflow: int = Field(
        default=10,
        ge=0,
        description="Connections a worker may open beyond db_pool_size under load, closed "
        "when returned. A worker holds at most db_pool_size + db_max_overflow, plus one for "
        "its watch: N workers need N times that within the server's max_connections.",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=30_000,
        ge=0,
        description="SQLite: how long a writer waits for another's lock before its request "
        "is a 503 with Retry-After. API writes hold the lock for milliseconds; an offering, "
        "school or organization import holds it only for its inserts and updates, worked out "
        "beforehand (about 2.4 s for 100,000 offerings), so the default leaves a wide margin. "
        "Partnership files, HSDS folders, and imports that find rows changed meanwhile, hold "
        "it for their whole write phase.",
    )
    request_timeout_s: float = Field(
        default=20.0,
        gt=0,
        description="A request that has not started its answer by then is a 503 with "
        "Retry-After (a frozen database never answers; keep it above the statement timeout).",
    )
    ready_timeout_s: float = Field(
        default=2.0, gt=0, description="/ready answers 503 when the database is slower than this."
    )
    data_dir: Path = Field(
        default=Path("var"),
        description="Where the service keeps files: API uploads wait for their import job in "
        "DATA_DIR/imports (kept across restarts, removed when the job ends).",
    )
    map_tile_url: str = Field(
        default="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="Raster tiles behind the pages' maps ({z}/{x}/{y}); empty: no tiles (the "
        "maps still show every marker and area on a blank background).",
    )
    map_tile_attribution: str = Field(
        default="© OpenStreetMap contributors",
        description="Credit shown on the maps for the tiles.",
    )
    log_level: str = "INFO"
    sql_echo: bool = False

    @property
    def ranking(self) -> RankingConfig:
        """The ranking model's parameters: its documented defaults with this service's equity.
        Every ranking, index and `model_version` in the service reads it from here."""
        return _ranking_config(self.equity_default)


@lru_cache
def _ranking_config(equity: float) -> RankingConfig:
    # Keyed by the values it is built from, so a copied or changed Settings never sees a stale one.
    return RankingConfig(equity=equity)


@lru_cache
def get_settings() -> Settings:
    return Settings()
