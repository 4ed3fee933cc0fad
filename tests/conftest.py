"""Backend selection for the whole suite: DATABASE_URL if set (PostGIS in CI), else a SQLite file.

The schema is built by the Alembic migrations (never create_all), once per session; every test
that touches the database starts from empty tables.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from app import migrate
from app.db import Database
from app.main import create_app
from app.models import Base, User
from app.services import accounts
from app.settings import Settings

# A stored password hash that matches no password: most tests never log in with a password
# (tokens are issued directly, which keeps argon2's deliberate cost out of every test).
NO_PASSWORD = "$argon2id$v=19$m=65536,t=3,p=4$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43


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
            # TRUNCATE costs ~0.5 s a call here (new files for every table); most tests leave a
            # few rows in a few tables, so delete from the tables that hold rows (children
            # first) and restart the sequences that moved, as RESTART IDENTITY did.
            probe = ", ".join(f"EXISTS (SELECT 1 FROM {table})" for table in tables)
            held = conn.execute(text(f"SELECT {probe}")).one()
            for table, has_rows in zip(tables, held, strict=True):
                if has_rows:
                    conn.execute(text(f"DELETE FROM {table}"))
            moved = conn.execute(
                text(
                    "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) "
                    "FROM pg_sequences WHERE last_value IS NOT NULL"
                )
            ).scalars()
            for sequence in list(moved):
                conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))
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
    yield database
    empty_tables(database)


@pytest.fixture
def settings(db: Database, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    # Rate limits are off here; tests/auth/test_limits.py turns them on.
    return Settings(
        warm_ranking_index=False,
        database_url=str(db.url.render_as_string(hide_password=False)),
        max_body_bytes=200_000,
        data_dir=tmp_path,
        rate_limit_per_minute_ip=0,
        rate_limit_per_minute_key=0,
    )


def user_token(database: Database, email: str, role: str, **grants: object) -> tuple[int, str]:
    """A user (no usable password) and a bearer token for them."""
    with database.session() as session:
        user = User(
            email=email,
            password_hash=NO_PASSWORD,
            role=role,
            district_id=grants.get("district_id"),
            is_active=True,
        )
        session.add(user)
        session.flush()
        from app.models import UserOrganization, UserSchool

        session.add_all(UserSchool(user_id=user.id, school_id=s) for s in grants.get("schools", ()))  # type: ignore[attr-defined]
        session.add_all(
            UserOrganization(user_id=user.id, organization_id=o)
            for o in grants.get("organizations", ())  # type: ignore[attr-defined]
        )
        session.commit()
        token = accounts.issue_token(session=session, user_id=user.id, ttl=dt.timedelta(hours=1))
        return user.id, token


def portal_read_key(
    database: Database,
    district_id: int,
    user_id: int | None = None,
    origins: tuple[str, ...] = (),
) -> tuple[int, str]:
    """(its id, the key) of a read-scoped API key for a district's portal, allowing these
    origins (made by user_id, when given)."""
    from app.auth.principal import DISTRICT_ADMIN, Principal
    from app.services import api_keys

    with database.session() as session:
        key, text = api_keys.create(
            session=session,
            principal=Principal(role=DISTRICT_ADMIN, user_id=user_id, district_id=district_id),
            district_id=district_id,
            name="portal",
            scope="read",
            allowed_origins=list(origins),
        )
        return key.id, text


@pytest.fixture
def app(db: Database, settings: Settings) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
def anon(app: FastAPI) -> Iterator[TestClient]:
    """A caller with no credentials."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def client(app: FastAPI, db: Database) -> Iterator[TestClient]:
    """The platform operator (role admin): may do everything, so the API's behaviour can be
    tested apart from who may use it (tests/auth covers that)."""
    _, token = user_token(db, "operator@partnermap.test", "admin")
    with TestClient(app, raise_server_exceptions=False) as test_client:
        test_client.headers["Authorization"] = f"Bearer {token}"
        yield test_client


@contextmanager
def statements_sent(database: Database) -> Iterator[list[str]]:
    """The SQL statements `database` sends while the block runs."""
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
