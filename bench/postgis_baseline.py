"""The baseline ranking a user would write with PostGIS alone, timed on synthetic offerings."""

from __future__ import annotations

import io
import time
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from app.settings import get_settings
from bench.synthetic import synthetic_offerings, synthetic_schools, synthetic_taxonomy
from bench.timing import percentiles
from matching.index import query_radius_km

TABLE = "bench_baseline_offerings"
QUERY = f"""
SELECT id, ST_Distance(geog, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography) AS d
FROM {TABLE}
WHERE ST_DWithin(geog, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(r)s)
  AND categories && %(cats)s
ORDER BY d
LIMIT 20
"""


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def measure(url: str, n: int, *, queries: int, seed: int) -> dict[str, Any]:
    parents, _ = synthetic_taxonomy()
    codes = list(parents)
    table = synthetic_offerings(n, seed, codes)
    schools = synthetic_schools(queries, seed + 1, codes)
    config = get_settings().ranking
    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        started = time.perf_counter()
        _load(conn, table)
        load_s = time.perf_counter() - started
        params = []
        for i in range(queries):
            cats = sorted({need.category for need in schools.needs[i]})
            radius = query_radius_km(config, schools.locale[i]) * 1000
            params.append(
                {
                    "lat": float(schools.lat[i]),
                    "lon": float(schools.lon[i]),
                    "r": radius,
                    "cats": cats,
                }
            )
        with conn.cursor() as cur:
            for p in params[:5]:
                cur.execute(QUERY, p).fetchall()
            latencies, returned = [], []
            for p in params:
                started = time.perf_counter()
                returned.append(len(cur.execute(QUERY, p).fetchall()))
                latencies.append((time.perf_counter() - started) * 1000)
            conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    return {
        "load_s": round(load_s, 1),
        "queries": queries,
        "mean_results": round(sum(returned) / len(returned), 1),
        **percentiles(latencies),
    }


def _load(conn: psycopg.Connection, table: Any) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    conn.execute(
        f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, lat float8, lon float8, categories text[])"
    )
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY {TABLE} (id, lat, lon, categories) FROM STDIN") as copy,
    ):
        buffer = io.StringIO()
        for i in range(len(table)):
            cats = "{" + ",".join(table.categories[i]) + "}"
            buffer.write(f"{table.ids[i]}\t{table.lat[i]}\t{table.lon[i]}\t{cats}\n")
            if i % 50_000 == 49_999:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    conn.execute(f"ALTER TABLE {TABLE} ADD COLUMN geog geography(Point, 4326)")
    conn.execute(f"UPDATE {TABLE} SET geog = ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography")
    conn.execute(f"CREATE INDEX ON {TABLE} USING gist (geog)")
    conn.execute(f"CREATE INDEX ON {TABLE} USING gin (categories)")
    conn.execute(f"ANALYZE {TABLE}")
