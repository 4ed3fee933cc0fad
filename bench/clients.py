"""Many clients at once, each with its own token: is every request answered?

    partnermap bench clients --clients 64 --requests 20 [--offerings 10000] [--workers 1]

Loads synthetic offerings and schools into DATABASE_URL under a throwaway source (as `bench
http` does, removed afterwards), makes one operator token per client (accounts named
bench-client-N@partnermap.invalid, kept for the next run), serves the app (uvicorn, result
cache off) and has every client ask `GET /v1/schools/{id}/matches` `--requests` times on its
own keep-alive connection, all at once. Each client's first request reads its token's
principal through the pool, so more clients than the pool has connections (15 by default)
test what happens when requests wait for one: before the connection slots (Database.slots)
64 clients got nothing but 503s from one worker. Prints the answers by status, latency
percentiles and the slowest, and one JSON line (`answered` = 200s, `statuses`, `p50_ms`,
`p99_ms`, `max_ms`, `wall_s`). A robustness check, not a speed goal: no baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import threading
import time
from collections import Counter
from typing import Any

import numpy as np

from app.db import Database
from app.services.accounts import tool_token
from bench import http_compare, http_load


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--requests", type=int, default=20, help="per client")
    parser.add_argument("--offerings", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers")
    parser.add_argument("--port", type=int, default=8450)


def run(args: argparse.Namespace, database: Database) -> dict[str, Any]:
    print(f"loading {args.offerings:,} synthetic offerings …", flush=True)
    school_ids = http_load._load(database, args.offerings, args.seed)
    try:
        with database.session() as session:
            tokens = [
                tool_token(
                    session=session,
                    email=f"bench-client-{i}@partnermap.invalid",
                    ttl=dt.timedelta(hours=1),
                )
                for i in range(args.clients)
            ]
        server, port = http_compare._serve(
            "app.asgi:app",
            args.port,
            args.workers,
            DATABASE_URL=database.url.render_as_string(hide_password=False),
            RATE_LIMIT_PER_MINUTE_IP="0",
            RESULT_CACHE_ENTRIES="0",
        )
        try:
            # The index built: the storm meets the service, not its start-up.
            if not http_compare.answers(port, "/ready", 300):
                raise RuntimeError(f"the server on port {port} was not ready in 300 s")
            print(
                f"{args.clients} clients x {args.requests} requests, each client its own "
                f"token, {args.workers} worker(s) …",
                flush=True,
            )
            statuses, latencies, wall_s = _storm(port, tokens, school_ids, args.requests)
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        http_load._clean(database)
    figures = {"clients": args.clients, "requests_each": args.requests, "workers": args.workers}
    figures |= summary(statuses, latencies, wall_s)
    print(
        f"answered {figures['answered']:,} of {figures['requests']:,} "
        f"(by status: {figures['statuses']}); p50 {figures['p50_ms']} ms, "
        f"p99 {figures['p99_ms']} ms, slowest {figures['max_ms']} ms; {figures['wall_s']} s",
        flush=True,
    )
    return figures


def _storm(
    port: int, tokens: list[str], school_ids: list[int], each: int
) -> tuple[Counter[int], list[float], float]:
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        connection = http_compare._Client(port, {"Authorization": f"Bearer {tokens[i]}"})
        for j in range(each):
            path = f"/v1/schools/{school_ids[(i + j) % len(school_ids)]}/matches?limit=20"
            started = time.perf_counter()
            try:
                status, _, _ = connection.request(path)
            except (OSError, http.client.HTTPException):  # refused, reset, timed out
                stale = getattr(connection.local, "connection", None)
                if stale is not None:
                    stale.close()
                connection.local.connection = None  # the next request opens another
                status = 0
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                statuses[status] += 1
                latencies.append(elapsed)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses, latencies, time.perf_counter() - started


def summary(statuses: Counter[int], latencies: list[float], wall_s: float) -> dict[str, Any]:
    """The figures of one storm: answers by status (0: no answer at all), latency
    percentiles (ms) and its wall time."""
    values = np.asarray(latencies or [0.0])
    return {
        "requests": sum(statuses.values()),
        "answered": statuses.get(200, 0),
        "statuses": {str(code): n for code, n in sorted(statuses.items())},
        "p50_ms": round(float(np.percentile(values, 50)), 1),
        "p99_ms": round(float(np.percentile(values, 99)), 1),
        "max_ms": round(float(values.max()), 1),
        "wall_s": round(wall_s, 2),
    }
