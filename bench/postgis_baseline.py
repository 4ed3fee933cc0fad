"""The ranking a user would write with PostGIS alone, loaded and queried as a competent user
would, and timed one query at a time so bench.matching can interleave it with ours.

Load: COPY with the geography filled in the COPY itself (EWKT), then a GiST index on it, a GIN
index on the categories and VACUUM ANALYZE (visibility map and statistics, as after any bulk
load). Two forms of the same question (offerings of the school's need categories within the
ranker's own reach cut-off, nearest 20), so the comparison is against the better one:

- "distance": ST_DWithin(geog, point, r) AND categories && needs ORDER BY ST_Distance(...)
- "knn": the same filter, ORDER BY geog <-> point (the GiST index's nearest-neighbour order)

CPU per query is the backend's own (its /proc/<pid>/schedstat before and after, nanoseconds)
plus this client's thread CPU for sending the query and reading the rows; both need the
server on this machine (else only wall time is reported).
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from bench.timing import can_read_cpu_of, task_cpu_ns
from matching.tables import OfferingTable

TABLE = "bench_baseline_offerings"
_POINT = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography"
_WHERE = f"ST_DWithin(geog, {_POINT}, %(r)s) AND categories && %(cats)s"
FORMS = {
    "distance": (
        f"SELECT id, ST_Distance(geog, {_POINT}) AS d FROM {TABLE} WHERE {_WHERE} "
        "ORDER BY d LIMIT 20"
    ),
    "knn": (
        f"SELECT id, ST_Distance(geog, {_POINT}) AS d FROM {TABLE} WHERE {_WHERE} "
        f"ORDER BY geog <-> {_POINT} LIMIT 20"
    ),
}


@dataclass(frozen=True)
class Timing:
    """One query: CPU (backend + client, or None when the backend cannot be read) and wall, ms."""

    cpu_ms: float | None
    wall_ms: float
    rows: int


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def baseline(url: str, table: OfferingTable) -> Iterator[Baseline]:
    """A loaded baseline table (dropped afterwards) with one connection per query form."""
    with psycopg.connect(dsn(url), autocommit=True) as admin:
        started = time.perf_counter()
        load(admin, table)
        load_s = time.perf_counter() - started
        connections = {form: psycopg.connect(dsn(url), autocommit=True) for form in FORMS}
        try:
            yield Baseline(connections, load_s)
        finally:
            for conn in connections.values():
                conn.close()
            admin.execute(f"DROP TABLE IF EXISTS {TABLE}")


class Baseline:
    """Runs one form's query for one school and measures it."""

    def __init__(self, connections: dict[str, psycopg.Connection], load_s: float) -> None:
        self.connections = connections
        self.load_s = load_s
        self.cursors = {form: conn.cursor() for form, conn in connections.items()}
        self.pids = {form: conn.info.backend_pid for form, conn in connections.items()}
        self.cpu_readable = all(can_read_cpu_of(pid) for pid in self.pids.values())

    def query(self, form: str, params: dict[str, Any]) -> Timing:
        cur, pid = self.cursors[form], self.pids[form]
        backend = task_cpu_ns(pid) if self.cpu_readable else 0
        wall, client = time.perf_counter(), time.thread_time()
        rows = len(cur.execute(FORMS[form], params).fetchall())
        client, wall = time.thread_time() - client, time.perf_counter() - wall
        if not self.cpu_readable:
            return Timing(None, wall * 1000, rows)
        backend = task_cpu_ns(pid) - backend
        return Timing(backend / 1e6 + client * 1000, wall * 1000, rows)

    def plans(self, params: dict[str, Any]) -> dict[str, str]:
        """The first plan line of each form for one school (which index the planner chose)."""
        out = {}
        for form, cur in self.cursors.items():
            lines = cur.execute("EXPLAIN " + FORMS[form], params).fetchall()
            out[form] = " / ".join(line[0].strip() for line in lines if "Scan" in line[0])
        return out


def load(conn: psycopg.Connection, table: OfferingTable) -> None:
    """COPY the offerings with their geography, index them, VACUUM ANALYZE."""
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    conn.execute(
        f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, geog geography(Point, 4326), "
        "categories text[])"
    )
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY {TABLE} (id, geog, categories) FROM STDIN") as copy,
    ):
        buffer = io.StringIO()
        for i in range(len(table)):
            cats = "{" + ",".join(table.categories[i]) + "}"
            point = f"SRID=4326;POINT({float(table.lon[i])!r} {float(table.lat[i])!r})"
            buffer.write(f"{table.ids[i]}\t{point}\t{cats}\n")
            if i % 50_000 == 49_999:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    conn.execute(f"CREATE INDEX ON {TABLE} USING gist (geog)")
    conn.execute(f"CREATE INDEX ON {TABLE} USING gin (categories)")
    conn.execute(f"VACUUM ANALYZE {TABLE}")
