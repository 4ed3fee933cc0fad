"""Backend selection for the whole suite: DATABASE_URL if set (PostGIS in CI), else a SQLite file.

The schema is built by the Alembic migrations (never create_all), once per session; every test
that touches the database starts from empty tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app import migrate
from app.db import Database
from app.main import create_app
from app.models import Base
from app.services import catalog_index
from app.settings import Settings


def _test_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = Database(_test_url(tmp_path_factory))
    migrate.downgrade(db, "base")
    migrate.upgrade(db, "head")
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def backend(database: Database) -> str:
    return "postgis" if database.is_postgis else "sqlite"


def empty_tables(database: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with database.engine.begin() as conn:
        if database.is_postgis:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
            conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sequence(conn) else None


def _has_sequence(conn) -> bool:  # type: ignore[no-untyped-def]
    return bool(
        conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first()
    )


@pytest.fixture
def db(database: Database) -> Iterator[Database]:
    """The database with empty tables, emptied again afterwards."""
    empty_tables(database)
    catalog_index.forget(str(database.url))
    yield database
    empty_tables(database)
    catalog_index.forget(str(database.url))


@pytest.fixture
def settings(db: Database) -> Settings:
    return Settings(
        warm_ranking_index=False,
        database_url=str(db.url.render_as_string(hide_password=False)),
        max_body_bytes=200_000,
    )


@pytest.fixture
def client(db: Database, settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, database=db)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
