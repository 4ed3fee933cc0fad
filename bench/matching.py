"""Ranking speed: in process, against a plain PostGIS query on the same data, and over HTTP.

    partnermap bench matching --offerings 100000 [--baseline-url URL] [--http]

In process: index build time and memory, top-20 latency with explanations (bench.ranker).
Baseline: what a user would write instead — ST_DWithin on geography + category overlap,
ORDER BY distance LIMIT 20 — timed on the same synthetic offerings and the same schools, in a
scratch table of the PostGIS database named by --baseline-url (or DATABASE_URL when that is
PostgreSQL). HTTP (--http): loads the synthetic offerings into DATABASE_URL under a throwaway
source, serves the app in a subprocess and times GET /v1/schools/{id}/matches at 1 and 16
concurrent clients; the rows are deleted afterwards. Synthetic data is for scale only
(bench.synthetic, seeded); the demo uses real records.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from sqlalchemy.engine import make_url

from app.db import Database
from bench import http_load, postgis_baseline
from bench.ranker import bench_rank


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--offerings", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline-url", help="PostGIS database for the baseline query")
    parser.add_argument("--http", action="store_true", help="also time the HTTP endpoint")
    parser.add_argument("--http-requests", type=int, default=200)
    parser.add_argument("--http-workers", type=int, default=2, help="uvicorn worker processes")


def run(args: argparse.Namespace, database: Database) -> dict[str, Any]:
    figures: dict[str, Any] = {"offerings": args.offerings}
    print(f"in-process ranking over {args.offerings:,} synthetic offerings …", flush=True)
    ours = bench_rank(args.offerings, queries=args.queries, seed=args.seed)
    figures["in_process"] = ours
    print(
        f"  index build {ours['build_s']} s, +{ours['rss_growth_mb']} MB "
        f"(peak {ours['peak_rss_mb']} MB); top-20 p50 {ours['p50_ms']} ms, "
        f"p95 {ours['p95_ms']} ms",
        flush=True,
    )

    baseline_url = args.baseline_url or (
        str(database.url.render_as_string(hide_password=False)) if database.is_postgis else None
    )
    if baseline_url:
        print("PostGIS baseline (ST_DWithin + category overlap, ORDER BY distance) …", flush=True)
        base = postgis_baseline.measure(
            baseline_url, args.offerings, queries=args.queries, seed=args.seed
        )
        figures["postgis_baseline"] = base
        figures["ratio_p95"] = round(ours["p95_ms"] / base["p95_ms"], 3)
        figures["ratio_p50"] = round(ours["p50_ms"] / base["p50_ms"], 3)
        print(
            f"  baseline load {base['load_s']} s; p50 {base['p50_ms']} ms, p95 "
            f"{base['p95_ms']} ms; ratio ours/baseline p95 = {figures['ratio_p95']}",
            flush=True,
        )
    else:
        print("PostGIS baseline skipped: give --baseline-url postgresql+psycopg://…")

    if args.http:
        backend = make_url(str(database.url)).get_backend_name()
        print(f"HTTP over {backend}: loading offerings and serving …", flush=True)
        started = time.perf_counter()
        figures["http"] = http_load.measure(
            database,
            args.offerings,
            requests=args.http_requests,
            seed=args.seed,
            workers=args.http_workers,
        )
        figures["http"]["total_s"] = round(time.perf_counter() - started, 1)
        for clients, r in figures["http"]["by_clients"].items():
            print(
                f"  {clients} client(s): p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, "
                f"{r['rps']} req/s"
            )
    return figures
