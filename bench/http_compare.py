"""`GET /v1/schools/{id}/matches` over HTTP, side by side with a minimal FastAPI endpoint
running the plain PostGIS query (bench.minimal_app).

    partnermap bench http --offerings 100000 --baseline-url postgresql+psycopg://… [--rounds 5]

Both servers run at once, each as uvicorn with the same number of workers, on the same synthetic
offerings and schools (ours: loaded into DATABASE_URL under a throwaway source, SQLite or
PostGIS; the minimal endpoint: the same offerings in a scratch table of --baseline-url, loaded
as a competent user would: COPY, GiST + GIN indexes, VACUUM ANALYZE). Each round, in a rotating
order: at 1 client, request i of each target back to back; at 16 clients, a block of requests
to one target then the other (both at once would only split the cores between them). Server CPU
per request is each server process's CPU clock (nanoseconds; its workers' too) before and
after each phase, so other work on a shared machine drops out of it; wall-clock figures do
not. Ratios are ours / minimal per round, reported as the median and range over rounds.

The database's share: the minimal endpoint's query runs in PostgreSQL backends, whose CPU the
server's process tree does not include, while ours on SQLite does all its database work in
process. So each server's connections carry an application name (PGAPPNAME; its worker's
watch, which reads the serving versions, the same name followed by "-watch"), and the CPU of
the backends bearing them (pg_stat_activity; /proc/<pid>/schedstat, nanoseconds; same machine
only) is read beside the server's over each phase: `db_cpu_ms_per_request` per target and
`cpu_with_db_per_request_ratio` (server + its backends, ours / minimal). The goal's figure,
`cpu_per_request_ratio`, stays the server processes' alone, as the issue measured it.

Cold and warm: ours runs with its result cache off (RESULT_CACHE_ENTRIES=0), so every request
ranks its school again — the comparison the goals are about. A third server, ours with the
result cache on (the default), is measured after the two each round (1 client, then 16) on
the same 20 schools, which it has all answered before: its figures are printed and kept apart
as the warm row (`ours_warm_*`, `warm_cpu_per_request_ratio`), never in the main ratios.
Ours runs with the default freshness bound unless --freshness-ms says otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import psycopg

from app.db import Database, PostgresWatch
from app.services.accounts import tool_token
from app.settings import get_settings
from app.taxonomy import load_taxonomy
from bench import http_load, postgis_baseline, worker_memory
from bench.synthetic import synthetic_offerings, synthetic_schools
from bench.timing import can_read_cpu_of, process_cpu_ns, task_cpu_ns
from matching.index import query_radius_km

TICKS = os.sysconf("SC_CLK_TCK")
TARGETS = ("ours", "minimal")
WARM = "ours_warm"
APP_NAMES = {"ours": "pm_bench_ours", "minimal": "pm_bench_minimal", WARM: "pm_bench_warm"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--offerings", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline-url", help="PostGIS database for the minimal endpoint")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=100, help="per target, phase and round")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers, each server")
    parser.add_argument("--port", type=int, default=8160, help="ours; the minimal one +1")
    parser.add_argument(
        "--freshness-ms",
        type=int,
        help="ours' FRESHNESS_MS (default: the setting's default, 500; 0 = look every request)",
    )
    parser.add_argument(
        "--no-warm", action="store_true", help="skip the warm row (ours with its result cache)"
    )
    parser.add_argument(
        "--memory-only",
        action="store_true",
        help="only what one worker holds at --offerings (bench.worker_memory), no servers",
    )


def run(args: argparse.Namespace, database: Database) -> dict[str, Any]:
    if args.memory_only:
        figures = worker_memory.measure(args.offerings, args.seed)
        print(
            f"one worker at {args.offerings:,} offerings: {figures['worker_rss_mb']} MB resident "
            f"after the build, {figures['peak_rss_mb']} MB at its peak (goal at 1,000,000: "
            "≤ 1,536 MB)"
        )
        return figures
    baseline_url = args.baseline_url or (
        database.url.render_as_string(hide_password=False) if database.is_postgis else None
    )
    if not baseline_url:
        raise SystemExit("bench http needs --baseline-url postgresql+psycopg://… (PostGIS)")
    backend = "postgis" if database.is_postgis else "sqlite"
    print(f"loading {args.offerings:,} synthetic offerings into {backend} …", flush=True)
    school_ids = http_load._load(database, args.offerings, args.seed)
    try:
        codes = [c.code for c in load_taxonomy().categories]
        with psycopg.connect(postgis_baseline.dsn(baseline_url), autocommit=True) as conn:
            postgis_baseline.load(conn, synthetic_offerings(args.offerings, args.seed, codes))
            conn.execute(f"VACUUM ANALYZE {postgis_baseline.TABLE}")
        paths = {"ours": _our_paths(school_ids), "minimal": _minimal_paths(args.seed, codes)}
        with database.session() as session:
            token = tool_token(
                session=session, email="bench@partnermap.invalid", ttl=dt.timedelta(hours=2)
            )
        ours_env = {
            "DATABASE_URL": database.url.render_as_string(hide_password=False),
            "RATE_LIMIT_PER_MINUTE_IP": "0",
            "PGAPPNAME": APP_NAMES["ours"],
        }
        if args.freshness_ms is not None:
            ours_env["FRESHNESS_MS"] = str(args.freshness_ms)
        servers = {
            "ours": _serve(
                "app.asgi:app", args.port, args.workers, RESULT_CACHE_ENTRIES="0", **ours_env
            ),
            "minimal": _serve(
                "bench.minimal_app:app",
                args.port + 1,
                args.workers,
                BENCH_BASELINE_URL=baseline_url,
                PGAPPNAME=APP_NAMES["minimal"],
            ),
        }
        if not args.no_warm:
            servers[WARM] = _serve(
                "app.asgi:app",
                args.port + 2,
                args.workers,
                **{**ours_env, "PGAPPNAME": APP_NAMES[WARM]},
            )
        headers = {
            "ours": {"Authorization": f"Bearer {token}"},
            "minimal": {},
            WARM: {"Authorization": f"Bearer {token}"},
        }
        paths[WARM] = paths["ours"]
        try:
            with _Backends(baseline_url) as backends:
                figures = _measure(args, servers, paths, headers, backends)
        finally:
            for server, _ in servers.values():
                server.terminate()
                server.wait(timeout=30)
    finally:
        http_load._clean(database)
        with psycopg.connect(postgis_baseline.dsn(baseline_url), autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {postgis_baseline.TABLE}")
    figures = {
        "backend": backend,
        "offerings": args.offerings,
        "workers": args.workers,
        "freshness_ms": args.freshness_ms if args.freshness_ms is not None else "default",
        **figures,
    }
    _print_table(figures)
    return figures


def _our_paths(school_ids: list[int]) -> list[str]:
    return [f"/v1/schools/{i}/matches?limit=20" for i in school_ids]


def _minimal_paths(seed: int, codes: list[str]) -> list[str]:
    """The same schools (http_load's seed), as the plain query's parameters."""
    schools = synthetic_schools(http_load.SCHOOLS, seed + 1, codes)
    config = get_settings().ranking
    paths = []
    for i in range(http_load.SCHOOLS):
        query = {
            "lat": float(schools.lat[i]),
            "lon": float(schools.lon[i]),
            "r": query_radius_km(config, schools.locale[i]) * 1000,
            "cats": sorted({need.category for need in schools.needs[i]}),
        }
        paths.append("/nearby?" + urlencode(query, doseq=True))
    return paths


def _serve(app: str, port: int, workers: int, **env: str) -> tuple[subprocess.Popen, int]:
    command = [sys.executable, "-m", "uvicorn", app, "--port", str(port)]
    server = subprocess.Popen(
        [
            *command,
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--timeout-keep-alive",
            "300",
        ],
        env={**os.environ, "LOG_LEVEL": "WARNING", **env},
    )
    if answers(port, "/health", 60):
        return server, port
    server.terminate()
    raise RuntimeError(f"{app} did not start on port {port}")


def answers(port: int, path: str, seconds: float) -> bool:
    """Whether GET path on this local port answers 200 within `seconds` (asked every 0.1 s)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return True
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        time.sleep(0.1)
    return False


def _rss_mb(pid: int) -> dict[str, float]:
    """Resident and peak resident memory (MB) of each process in the server's tree."""
    out = {}
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
        fields = {line.split(":")[0]: line.split()[1] for line in status if line.startswith("Vm")}
        out[str(pid)] = round(int(fields["VmRSS"]) / 1024, 1)
        out[f"{pid}_peak"] = round(int(fields["VmHWM"]) / 1024, 1)
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                out.update(_rss_mb(int(child)))
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def _cpu_s(pid: int) -> float:
    """CPU seconds of a process and its descendants (uvicorn's workers): each process's CPU
    clock (process_cpu_ns), else its user + system time in /proc/<pid>/stat's clock ticks."""
    total = 0.0
    try:
        ns = process_cpu_ns(pid)
        if ns is None:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
        else:
            total += ns / 1e9
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += _cpu_s(int(child))
    except (FileNotFoundError, ProcessLookupError):
        pass
    return total


class _Backends:
    """CPU seconds of the PostgreSQL backends serving each server (by application name), read
    through one monitoring connection to the cluster (PostgreSQL lists every database's
    sessions in pg_stat_activity). Per pid, so a backend opened during a phase counts from its
    start; one closed during a phase loses that phase's share (pools keep theirs open). When
    the backends cannot be read (another machine), every figure is None."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> _Backends:
        self.conn = psycopg.connect(postgis_baseline.dsn(self.url), autocommit=True)
        own = self.conn.info.backend_pid
        self.readable = can_read_cpu_of(own)
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()

    def snapshot(self, target: str) -> dict[int, int] | None:
        if not self.readable:
            return None
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name IN (%s, %s)",
            (APP_NAMES[target], PostgresWatch.application_name(APP_NAMES[target])),
        ).fetchall()
        out = {}
        for (pid,) in rows:
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # ended since
                out[pid] = task_cpu_ns(pid)
        return out

    @staticmethod
    def spent_s(before: dict[int, int] | None, after: dict[int, int] | None) -> float | None:
        if before is None or after is None:
            return None
        return sum(ns - before.get(pid, 0) for pid, ns in after.items()) / 1e9


class _Client:
    """One keep-alive connection per thread; the latency of each request in ms."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port, self.headers = port, headers
        self.local = threading.local()

    def get(self, path: str) -> float:
        """The latency of a request answered 200 (anything else raises)."""
        status, elapsed, body = self.request(path)
        if status != 200:
            raise RuntimeError(f"{path}: {status} {body[:300]!r}")
        return elapsed

    def request(self, path: str) -> tuple[int, float, bytes]:
        """Status, latency (ms) and body; a closed idle connection is opened again once."""
        for attempt in range(2):
            connection = getattr(self.local, "connection", None)
            if connection is None:
                connection = self.local.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=120
                )
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=self.headers)
                response = connection.getresponse()
                body = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionError):
                connection.close()  # an idle keep-alive connection closed: open another
                self.local.connection = None
                if attempt:
                    raise
        return response.status, (time.perf_counter() - started) * 1000, body


def _measure(
    args: argparse.Namespace,
    servers: dict[str, tuple[subprocess.Popen, int]],
    paths: dict[str, list[str]],
    headers: dict[str, dict[str, str]],
    backends: _Backends,
) -> dict[str, Any]:
    clients = {t: _Client(servers[t][1], headers[t]) for t in servers}
    started = time.perf_counter()
    for _ in range(60):  # the index builds at start-up; a request meanwhile may time out
        try:
            clients["ours"].get(paths["ours"][0])
            break
        except RuntimeError:
            time.sleep(1)
    first_s = time.perf_counter() - started
    if WARM in servers:
        for _ in range(60):
            try:
                clients[WARM].get(paths[WARM][0])
                break
            except RuntimeError:
                time.sleep(1)
    for t in servers:  # warm up every worker and connection (and the warm one's cache)
        _block(clients[t], paths[t], 16 * args.workers * 4, 16)
    rounds: list[dict[str, dict[str, Any]]] = []
    for r in range(args.rounds):
        order = TARGETS if r % 2 == 0 else TARGETS[::-1]
        one = _interleaved(clients, paths, order, args.requests, servers, backends)
        sixteen = {
            t: _phase(
                servers[t][0].pid,
                backends,
                t,
                lambda t=t: _block(  # type: ignore[misc]
                    clients[t], paths[t], args.requests, 16
                ),
            )
            for t in order
        }
        rounds.append({"1": one, "16": sixteen})
        print(
            f"  round {r + 1}: CPU/request ours {one['ours']['cpu_ms']:.2f} ms, minimal "
            f"{one['minimal']['cpu_ms']:.2f} ms; 16 clients ours {sixteen['ours']['rps']:.0f}/s, "
            f"minimal {sixteen['minimal']['rps']:.0f}/s",
            flush=True,
        )
        if WARM in servers:
            pid = servers[WARM][0].pid
            for n in ("1", "16"):
                rounds[-1][n][WARM] = _phase(
                    pid,
                    backends,
                    WARM,
                    lambda n=n: _block(  # type: ignore[misc]
                        clients[WARM], paths[WARM], args.requests, int(n)
                    ),
                )
            print(
                f"  round {r + 1}, warm (result cache): CPU/request "
                f"{rounds[-1]['1'][WARM]['cpu_ms']:.2f} ms, 16 clients "
                f"{rounds[-1]['16'][WARM]['rps']:.0f}/s",
                flush=True,
            )
    summary = _summary(rounds, first_s)
    memory = _rss_mb(servers["ours"][0].pid)
    summary["ours_rss_mb"] = max(v for k, v in memory.items() if not k.endswith("_peak"))
    summary["ours_peak_rss_mb"] = max(v for k, v in memory.items() if k.endswith("_peak"))
    return summary


def _interleaved(
    clients: dict[str, _Client],
    paths: dict[str, list[str]],
    order: tuple[str, ...],
    n: int,
    servers: dict[str, tuple[subprocess.Popen, int]],
    backends: _Backends,
) -> dict[str, dict[str, Any]]:
    latencies: dict[str, list[float]] = {t: [] for t in TARGETS}
    cpu0 = {t: _cpu_s(servers[t][0].pid) for t in TARGETS}
    db0 = {t: backends.snapshot(t) for t in TARGETS}
    started = time.perf_counter()
    for i in range(n):
        for t in order[i % 2 :] + order[: i % 2]:  # rotate within the round too
            latencies[t].append(clients[t].get(paths[t][i % len(paths[t])]))
    wall = time.perf_counter() - started
    out = {}
    for t in TARGETS:
        cpu = _cpu_s(servers[t][0].pid) - cpu0[t]
        db = backends.spent_s(db0[t], backends.snapshot(t))
        out[t] = {
            "latencies": latencies[t],
            "cpu_ms": cpu / n * 1000,
            "db_cpu_ms": None if db is None else db / n * 1000,
            "rps": n / (sum(latencies[t]) / 1000),
            "wall_s": wall,
        }
    return out


def _phase(
    pid: int, backends: _Backends, target: str, work: Callable[[], list[float]]
) -> dict[str, Any]:
    db0 = backends.snapshot(target)
    cpu0, started = _cpu_s(pid), time.perf_counter()
    latencies = work()
    wall, cpu = time.perf_counter() - started, _cpu_s(pid) - cpu0
    db = backends.spent_s(db0, backends.snapshot(target))
    return {
        "latencies": latencies,
        "cpu_ms": cpu / len(latencies) * 1000,
        "db_cpu_ms": None if db is None else db / len(latencies) * 1000,
        "rps": len(latencies) / wall,
        "wall_s": wall,
    }


def _block(client: _Client, paths: list[str], n: int, concurrency: int) -> list[float]:
    latencies: list[float] = []
    lock, next_i = threading.Lock(), iter(range(n))

    def worker() -> None:
        while True:
            with lock:
                i = next(next_i, None)
            if i is None:
                return
            latency = client.get(paths[i % len(paths)])
            with lock:
                latencies.append(latency)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def _spread(values: list[float], digits: int = 2) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


def _summary(rounds: list[dict[str, dict[str, Any]]], first_s: float) -> dict[str, Any]:
    out: dict[str, Any] = {"first_request_s": round(first_s, 2), "rounds": len(rounds)}
    for clients in ("1", "16"):
        for t in TARGETS:
            pooled = np.concatenate([r[clients][t]["latencies"] for r in rounds])
            out[f"{t}_{clients}"] = {
                "p50_ms": round(float(np.percentile(pooled, 50)), 2),
                "p95_ms": round(float(np.percentile(pooled, 95)), 2),
                "p99_ms": round(float(np.percentile(pooled, 99)), 2),
                "p50_ms_by_round": _spread(
                    [float(np.percentile(r[clients][t]["latencies"], 50)) for r in rounds]
                ),
                "rps": _spread([r[clients][t]["rps"] for r in rounds], 1),
                "cpu_ms_per_request": _spread([r[clients][t]["cpu_ms"] for r in rounds], 3),
            }
            db = [r[clients][t].get("db_cpu_ms") for r in rounds]
            if all(v is not None for v in db):
                out[f"{t}_{clients}"]["db_cpu_ms_per_request"] = _spread(db, 3)  # type: ignore[arg-type]
    if rounds and all(_has_db(r) and _cpu_all(r, "minimal", db=True) for r in rounds):
        with_db = [_cpu_all(r, "ours", db=True) / _cpu_all(r, "minimal", db=True) for r in rounds]
        out["cpu_with_db_per_request_ratio_spread"] = _spread(with_db, 3)
        out["cpu_with_db_per_request_ratio"] = out["cpu_with_db_per_request_ratio_spread"]["median"]
    cpu_ratios = [
        _cpu_all(r, "ours") / _cpu_all(r, "minimal") for r in rounds if _cpu_all(r, "minimal")
    ]
    rps_ratios = [r["16"]["ours"]["rps"] / r["16"]["minimal"]["rps"] for r in rounds]
    out["cpu_per_request_ratio_spread"] = _spread(cpu_ratios, 3)
    out["throughput_ratio_16_spread"] = _spread(rps_ratios, 3)
    out["cpu_per_request_ratio"] = out["cpu_per_request_ratio_spread"]["median"]
    out["throughput_ratio_16"] = out["throughput_ratio_16_spread"]["median"]
    if all(WARM in r["1"] for r in rounds):
        for clients in ("1", "16"):
            pooled = np.concatenate([r[clients][WARM]["latencies"] for r in rounds])
            out[f"{WARM}_{clients}"] = {
                "p50_ms": round(float(np.percentile(pooled, 50)), 2),
                "p95_ms": round(float(np.percentile(pooled, 95)), 2),
                "p99_ms": round(float(np.percentile(pooled, 99)), 2),
                "rps": _spread([r[clients][WARM]["rps"] for r in rounds], 1),
                "cpu_ms_per_request": _spread([r[clients][WARM]["cpu_ms"] for r in rounds], 3),
            }
        warm_cpu = [
            _cpu_all(r, WARM) / _cpu_all(r, "minimal") for r in rounds if _cpu_all(r, "minimal")
        ]
        warm_rps = [r["16"][WARM]["rps"] / r["16"]["minimal"]["rps"] for r in rounds]
        out["warm_cpu_per_request_ratio_spread"] = _spread(warm_cpu, 3)
        out["warm_throughput_ratio_16_spread"] = _spread(warm_rps, 3)
        out["warm_cpu_per_request_ratio"] = out["warm_cpu_per_request_ratio_spread"]["median"]
        out["warm_throughput_ratio_16"] = out["warm_throughput_ratio_16_spread"]["median"]
    return out


def _cpu_all(round_: dict[str, dict[str, Any]], target: str, db: bool = False) -> float:
    """CPU per request of a target over both phases of a round (db: plus its backends')."""
    phases = [round_[c][target] for c in ("1", "16")]
    n = [len(p["latencies"]) for p in phases]
    per = [p["cpu_ms"] + ((p.get("db_cpu_ms") or 0.0) if db else 0.0) for p in phases]
    return sum(c * k for c, k in zip(per, n, strict=True)) / sum(n)


def _has_db(round_: dict[str, dict[str, Any]]) -> bool:
    return all(round_[c][t].get("db_cpu_ms") is not None for c in ("1", "16") for t in TARGETS)


def _print_table(f: dict[str, Any]) -> None:
    print(
        f"\n{f['backend']}, {f['offerings']:,} offerings, {f['workers']} worker(s) each, "
        f"{f['rounds']} rounds (median [min-max] over rounds)"
    )
    print(
        f"{'target':<9}{'clients':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'req/s':>22}{'CPU ms/request':>26}{'its DB backends ms':>26}"
    )
    for clients in ("1", "16"):
        for t in TARGETS:
            row = f[f"{t}_{clients}"]
            rps, cpu = row["rps"], row["cpu_ms_per_request"]
            db = row.get("db_cpu_ms_per_request")
            print(
                f"{t:<9}{clients:>8}{row['p50_ms']:>9}{row['p95_ms']:>9}{row['p99_ms']:>9}"
                f"{_fmt(rps):>22}{_fmt(cpu):>26}{_fmt(db) if db else 'unread':>26}"
            )
    if f"{WARM}_1" in f:
        print("not part of the comparison above — ours with its result cache, the same schools:")
        for clients in ("1", "16"):
            row = f[f"{WARM}_{clients}"]
            rps, cpu = row["rps"], row["cpu_ms_per_request"]
            print(
                f"{'warm':<9}{clients:>8}{row['p50_ms']:>9}{row['p95_ms']:>9}{row['p99_ms']:>9}"
                f"{_fmt(rps):>22}{_fmt(cpu):>26}"
            )
    print(
        f"ours, largest server process: {f['ours_rss_mb']} MB resident, "
        f"{f['ours_peak_rss_mb']} MB at its peak"
    )
    print(
        f"CPU per request, ours / minimal: {_fmt(f['cpu_per_request_ratio_spread'])} "
        f"(goal ≤ 2); 16-client throughput, ours / minimal: "
        f"{_fmt(f['throughput_ratio_16_spread'])} (goal ≥ 0.5) — cold: every request ranked"
    )
    if "cpu_with_db_per_request_ratio_spread" in f:
        print(
            "CPU per request counting each server's database backends too, ours / minimal: "
            f"{_fmt(f['cpu_with_db_per_request_ratio_spread'])} (beside the goal's figure)"
        )
    if "warm_cpu_per_request_ratio_spread" in f:
        print(
            f"warm row only (result cache, repeated schools; not the goal's figure): CPU per "
            f"request / minimal {_fmt(f['warm_cpu_per_request_ratio_spread'])}, 16-client "
            f"throughput / minimal {_fmt(f['warm_throughput_ratio_16_spread'])}"
        )


def _fmt(s: dict[str, float]) -> str:
    return f"{s['median']} [{s['min']}-{s['max']}]"
