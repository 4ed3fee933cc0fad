"""Engine, session factory and the unit of work: the only module that knows which backend is in
use, and the one place that builds sessions and transactions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.domain_errors import Conflict
from app.settings import Settings


@dataclass(frozen=True)
class Timeouts:
    """How long the service waits on the database before a request becomes a 503 (the
    defaults are Settings' documented ones)."""

    connect_s: int = 3
    statement_ms: int = 15_000
    lock_ms: int = 5_000
    pool_s: float = 5.0
    sqlite_busy_ms: int = 30_000

    @classmethod
    def of(cls, settings: Settings) -> Timeouts:
        return cls(
            connect_s=settings.db_connect_timeout_s,
            statement_ms=settings.db_statement_timeout_ms,
            lock_ms=settings.db_lock_timeout_ms,
            pool_s=settings.db_pool_timeout_s,
            sqlite_busy_ms=settings.sqlite_busy_timeout_ms,
        )


class Writes:
    """A count of the write transactions committed through one Database (one worker's), so
    what a worker keeps for a freshness bound (Settings.freshness_ms) ends at once after a
    write of its own. It moves twice per write: as the commit starts and, for sessions, once
    it is done, so a read racing the commit cannot keep its answer under the new count."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def bump(self) -> None:
        with self._lock:
            self.count += 1


# Statements that cannot write: anything else marks its transaction as a writer.
_READS = ("SELECT", "PRAGMA", "SHOW", "EXPLAIN", "SET ")


class Database:
    """One engine and its session factory for a database URL."""

    def __init__(self, url: str, *, echo: bool = False, timeouts: Timeouts = Timeouts()) -> None:
        self.url = make_url(url)
        self.echo = echo
        self.timeouts = timeouts
        self.writes = Writes()

    @classmethod
    def of(cls, settings: Settings) -> Database:
        """The database the settings name, with their timeouts."""
        return cls(settings.database_url, echo=settings.sql_echo, timeouts=Timeouts.of(settings))

    @property
    def is_postgis(self) -> bool:
        return self.url.get_backend_name() == "postgresql"

    @cached_property
    def engine(self) -> Engine:
        t = self.timeouts
        if self.is_postgis:
            options = f"-c statement_timeout={t.statement_ms} -c lock_timeout={t.lock_ms}"
            return self._counting_writes(
                create_engine(
                    self.url,
                    echo=self.echo,
                    pool_pre_ping=True,
                    pool_timeout=t.pool_s,
                    connect_args={"connect_timeout": t.connect_s, "options": options},
                )
            )
        if self.url.database and self.url.database != ":memory:":
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            self.url,
            echo=self.echo,
            pool_timeout=t.pool_s,
            connect_args={"check_same_thread": False, "timeout": t.sqlite_busy_ms / 1000},
        )
        event.listen(engine, "connect", partial(_sqlite_pragmas, busy_ms=t.sqlite_busy_ms))
        return self._counting_writes(engine)

    def _counting_writes(self, engine: Engine) -> Engine:
        def executed(conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
            if not statement.lstrip()[:7].upper().startswith(_READS):
                conn.info["wrote"] = True

        def committing(conn) -> None:  # type: ignore[no-untyped-def]
            if conn.info.pop("wrote", False):
                self.writes.bump()

        def rolled_back(conn) -> None:  # type: ignore[no-untyped-def]
            conn.info.pop("wrote", None)

        event.listen(engine, "before_cursor_execute", executed)
        event.listen(engine, "commit", committing)
        event.listen(engine, "rollback", rolled_back)
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        factory = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

        def wrote(session: Session, *_args: object) -> None:
            session.info["wrote"] = True

        def orm_execute(state) -> None:  # type: ignore[no-untyped-def]
            if not state.is_select:
                state.session.info["wrote"] = True

        def committed(session: Session) -> None:
            if session.info.pop("wrote", False):
                self.writes.bump()

        event.listen(factory, "after_flush", wrote)
        event.listen(factory, "do_orm_execute", orm_execute)
        event.listen(factory, "after_commit", committed)
        event.listen(factory, "after_rollback", lambda session: session.info.pop("wrote", None))
        return factory

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is rolled back unless the caller commits."""
        session = self.sessions()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def answers(self) -> bool:
        """Whether the database (and, on PostgreSQL, PostGIS) answers a trivial query."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                if self.is_postgis:
                    conn.execute(text("SELECT PostGIS_Version()"))
        except SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


@contextmanager
def unit_of_work(session: Session, *, conflict: str) -> Iterator[None]:
    """Flush and commit what the block adds, once; a unique-constraint violation (a race with
    another writer, or a duplicate the checks did not foresee) becomes a 409 and nothing stays."""
    try:
        yield
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(conflict) from exc


def _sqlite_pragmas(dbapi_connection, _record, *, busy_ms: int) -> None:  # type: ignore[no-untyped-def]
    # Foreign keys are off by default in SQLite; WAL lets readers and the writer overlap.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    cursor.close()


def redact(url: str) -> str:
    """The URL with its password hidden, for logs."""
    return make_url(url).render_as_string(hide_password=True)
