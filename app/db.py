"""Engine, session factory and the unit of work: the only module that knows which backend is in
use, and the one place that builds sessions and transactions."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import anyio
import psycopg
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from app.domain_errors import Conflict, ServiceUnavailable
from app.settings import Settings

log = logging.getLogger("partnermap.db")


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


class ConnectionSlots:
    """At most `total` requests (the pool's connections) hold or wait for a pooled connection
    at once; the others wait here, on the event loop, for one to end its session (at most
    `timeout_s`, then the pool's own timeout error: a 503).

    A request reads the database in the thread pool, and it holds its connection until its
    session ends, which may take the thread pool again (its route, a ranking, the session's
    close). Without this, more requests reading at once than the pool has connections each
    took a worker thread to wait in for a connection, until every worker thread was waiting
    (anyio's 40): the requests holding the connections then waited for a thread to go on and
    none came, every request stalled until the pool's timeout and failed as a 503 (64
    clients with their own tokens, the first request of each reading its principal). Waiting
    here takes no thread, so a request holding a connection always finds one."""

    def __init__(self, total: int, timeout_s: float) -> None:
        self.total = total
        self.timeout_s = timeout_s
        # Per event loop (a new loop, as in tests, starts with every slot free).
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.total))
        slots = self._slots[1]
        if slots.locked():  # else acquire() returns at once, with no task for the timeout
            try:
                await asyncio.wait_for(slots.acquire(), self.timeout_s)
            except TimeoutError:
                raise PoolTimeout(
                    f"{self.total} requests held the pool's connections for {self.timeout_s:g} s"
                ) from None
        else:
            await slots.acquire()
        try:
            yield
        finally:
            slots.release()


T = TypeVar("T")


class Database:
    """One engine and its session factory for a database URL."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        timeouts: Timeouts = Timeouts(),
        pool_size: int = 5,
        max_overflow: int = 10,
    ) -> None:
        self.url = make_url(url)
        self.echo = echo
        self.timeouts = timeouts
        self.pool_size = pool_size
        self.max_overflow = max_overflow
        self.slots = ConnectionSlots(pool_size + max_overflow, timeouts.pool_s)
        self.writes = Writes()

    async def in_thread_with_slot(self, work: Callable[..., T], *args: Any) -> T:
        """work(*args) in a worker thread once the caller holds one of the pool's connection
        slots (self.slots, waited for on the loop): for work in a request that opens its own
        session (Database.session) rather than the request's (app.deps.get_session), such as
        the Idempotency-Key's claim or PortalCORS's read of the keys' origins. Waiting for the
        pool in the thread instead took the threads the requests holding the connections
        needed, as the requests' own sessions did before ConnectionSlots."""
        async with self.slots.held():
            return await anyio.to_thread.run_sync(work, *args)

    @classmethod
    def of(cls, settings: Settings) -> Database:
        """The database the settings name, with their timeouts."""
        return cls(
            settings.database_url,
            echo=settings.sql_echo,
            timeouts=Timeouts.of(settings),
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )

    @property
    def is_postgis(self) -> bool:
        return self.url.get_backend_name() == "postgresql"

    @cached_property
    def engine(self) -> Engine:
        t = self.timeouts
        if self.is_postgis:
            return self._counting_writes(
                create_engine(
                    self.url,
                    echo=self.echo,
                    pool_pre_ping=True,
                    pool_timeout=t.pool_s,
                    pool_size=self.pool_size,
                    max_overflow=self.max_overflow,
                    connect_args=self._postgres_timeouts(),
                )
            )
        if self.url.database and self.url.database != ":memory:":
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            self.url,
            echo=self.echo,
            pool_timeout=t.pool_s,
            pool_size=self.pool_size,
            max_overflow=self.max_overflow,
            connect_args={"check_same_thread": False, "timeout": t.sqlite_busy_ms / 1000},
        )
        event.listen(engine, "connect", partial(_sqlite_pragmas, busy_ms=t.sqlite_busy_ms))
        return self._counting_writes(engine)

    def _postgres_timeouts(self) -> dict[str, Any]:
        t = self.timeouts
        options = f"-c statement_timeout={t.statement_ms} -c lock_timeout={t.lock_ms}"
        return {"connect_timeout": t.connect_s, "options": options}

    def watch(self, sql: str) -> Watch | None:
        """A read (`sql`, no parameters) answered strictly and cheaply on this worker's own
        connection (SqliteWatch, PostgresWatch); None for an in-memory SQLite database, which
        no other connection shares."""
        if self.is_postgis:
            _, params = self.engine.dialect.create_connect_args(self.url)
            params.update(
                self._postgres_timeouts(),
                autocommit=True,
                application_name=PostgresWatch.application_name(),
            )
            timeout_s = self.timeouts.statement_ms / 1000 or None
            return PostgresWatch(partial(psycopg.AsyncConnection.connect, **params), sql, timeout_s)
        if not self.url.database or self.url.database == ":memory:":
            return None
        return SqliteWatch(self.url.database, sql)

    def _counting_writes(self, engine: Engine) -> Engine:
        def executed(conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
            if not statement.lstrip()[:7].upper().startswith(_READS):
                conn.info["wrote"] = True

        def committing(conn) -> None:  # type: ignore[no-untyped-def]
            if conn.info.pop("wrote", False):
                self.writes.bump()

        def rolled_back(conn) -> None:  # type: ignore[no-untyped-def]
            # A connection the database dropped (restart, crash) is invalidated: its `info`
            # would try to reconnect mid-rollback and raise, turning the 503 into a 500.
            if not conn.invalidated:
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


class Watch(Protocol):
    """One read answered strictly: every commit that finished (on any connection, worker or
    process) before rows() was called is seen. None when the watch cannot answer (its
    connection lost or refused): the caller reads through its own session instead."""

    async def rows(self) -> list[tuple[Any, ...]] | None: ...

    def close(self) -> None: ...


class SqliteWatch:
    """SQLite: `PRAGMA data_version` on the watch's own connection moves whenever another
    connection (this process's or another's) has committed; only then is the read run again,
    so an unchanged database costs a few microseconds, on the event loop. Every statement is
    its own read transaction (autocommit, results read to the end): the watch never holds a
    snapshot that would keep a checkpoint from finishing. Its busy timeout is 0, so it never
    waits on a lock: a busy database is a None (the caller's session waits instead)."""

    def __init__(self, path: str, sql: str) -> None:
        self.path = path
        self.sql = sql
        self._conn: sqlite3.Connection | None = None
        self._seen: tuple[int, list[tuple[Any, ...]]] | None = None  # (data_version, rows)
        self._lock = threading.Lock()  # one connection, whichever thread or loop asks

    async def rows(self) -> list[tuple[Any, ...]] | None:
        return self.read()

    def read(self) -> list[tuple[Any, ...]] | None:
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = sqlite3.connect(
                        f"file:{quote(self.path)}?mode=rw",  # never creates the file
                        uri=True,
                        timeout=0,
                        isolation_level=None,
                        check_same_thread=False,
                    )
                    self._conn.execute("PRAGMA query_only=ON")
                [(version,)] = self._conn.execute("PRAGMA data_version").fetchall()
                if self._seen is None or self._seen[0] != version:
                    self._seen = (version, self._conn.execute(self.sql).fetchall())
                return self._seen[1]
            except sqlite3.Error:
                self._close()
                return None

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn, self._seen = None, None


class PostgresWatch:
    """PostgreSQL: the read, prepared, on an autocommit connection of the watch's own, awaited
    on the event loop (no thread): each answer is a new snapshot, so it sees every commit that
    finished before it was sent. Callers that ask while a read is in flight share the next
    read, which starts after they asked (16 concurrent requests cost about two round trips).
    A read that does not answer within `timeout_s` (a frozen server) is a ServiceUnavailable
    for the caller, and the read goes on unheard; a lost connection is a None, and the next
    read opens a new one (after a failed connect, not before RETRY_S). One event loop uses it
    at a time (a worker's; a new loop, as in tests, opens a new connection)."""

    RETRY_S = 1.0
    APPLICATION = "partnermap-watch"  # its application_name in pg_stat_activity by default

    @classmethod
    def application_name(cls, service: str | None = None) -> str:
        """Its application_name: the name of the service's other connections (`service`, else
        the one libpq's PGAPPNAME gives them) followed by "-watch", so whoever tells services
        apart by name (an operator in pg_stat_activity, bench.http_compare counting each
        server's backends) finds the watch beside them; APPLICATION when there is none."""
        name = service or os.environ.get("PGAPPNAME")
        return f"{name}-watch"[:63] if name else cls.APPLICATION  # 63: PostgreSQL's limit

    def __init__(self, connect: Any, sql: str, timeout_s: float | None) -> None:
        self.connect = connect
        self.sql = sql
        self.timeout_s = timeout_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._started = 0  # reads started, numbered
        self._read: tuple[int, asyncio.Task[list[tuple[Any, ...]] | None]] | None = None
        self._retry_at = 0.0

    async def rows(self) -> list[tuple[Any, ...]] | None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a connection serves the loop it was opened on (tests)
            self.close()
            self._loop = loop
        asked = self._started
        deadline = None if self.timeout_s is None else loop.time() + self.timeout_s
        while True:
            read = self._read
            if read is None or (read[0] <= asked and read[1].done()):
                self._started += 1
                read = self._read = (self._started, loop.create_task(self._query()))
            remaining = None if deadline is None else max(0.0, deadline - loop.time())
            done, _ = await asyncio.wait({read[1]}, timeout=remaining)
            if not done:
                raise ServiceUnavailable("The database did not answer in time.")
            if read[0] > asked:  # started after this caller asked: its answer holds
                return read[1].result()
            # else it started before this caller asked: wait for it, then read again

    async def _query(self) -> list[tuple[Any, ...]] | None:
        conn = self._conn
        if conn is None:
            if time.monotonic() < self._retry_at:
                return None
            try:
                conn = self._conn = await self.connect()
            except (psycopg.Error, OSError):
                self._retry_at = time.monotonic() + self.RETRY_S
                return None
        try:
            cursor = await conn.execute(self.sql, prepare=True)
            return await cursor.fetchall()
        except (psycopg.Error, OSError) as exc:  # lost (a restart, a killed backend): open anew
            log.warning("a watch lost its connection (%s); sessions read meanwhile", exc)
            if self._conn is conn:
                self._conn = None
            await conn.close()
            return None

    def close(self) -> None:
        if self._conn is not None:
            # AsyncConnection.close() awaits nothing but this, and it is called here from
            # outside the connection's loop too (that loop may be gone).
            self._conn.pgconn.finish()
        self._conn, self._read = None, None


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
