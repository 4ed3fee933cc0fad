"""Ranking speed: ours in process against the plain PostGIS query, interleaved, CPU and wall.

    partnermap bench matching --offerings 100000 [--baseline-url URL] [--rounds 5] [--http]

Ours: the in-memory index (build time and memory), then one school's top-20 with explanations,
as the endpoint computes it. Baseline (bench.postgis_baseline): what a user would write with
PostGIS alone on the same synthetic offerings and schools, loaded as a competent user would
(COPY with the geography, GiST + GIN, VACUUM ANALYZE), in two forms (ORDER BY ST_Distance, and
the KNN ORDER BY geog <-> point), in a scratch table of the database named by --baseline-url
(or DATABASE_URL when that is PostgreSQL).

Timing is interleaved: for each school, ours and each baseline form run back to back in an
order that rotates school by school and round by round, so the machine's load (shared by other
work) falls on all of them alike. CPU time is the honest figure on a shared machine: ours is
this thread's CPU (time.thread_time); the baseline's is its backend's CPU (/proc schedstat)
plus the client's thread CPU for the query. Wall time is reported beside it. Each round gives
p50 and p95 per target; a round's ratio divides ours by the BEST baseline form at that
percentile; the JSON line carries the median over rounds (cpu_ratio_p50, cpu_ratio_p95) and
the spread (min..max). HTTP (--http): loads the synthetic offerings into DATABASE_URL under a
throwaway source, serves the app in a subprocess and times GET /v1/schools/{id}/matches at 1 and
16 concurrent clients (sequentially; bench http compares the endpoint interleaved).
--partnerships N gives the index a seeded synthetic partnership history of N rows (the
track-record signal reads it on every ranking; real districts have one, the default bench none).
Synthetic data is for scale only (bench.synthetic, seeded); the demo uses real records.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy.engine import make_url

from app.db import Database
from app.settings import get_settings
from bench import http_load, postgis_baseline
from bench.ranker import Prepared, prepare
from bench.synthetic import synthetic_history
from bench.timing import spread
from matching.index import query_radius_km

OURS = "ours"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--offerings", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200, help="schools per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--partnerships",
        type=int,
        default=0,
        help="a seeded synthetic partnership history of this many rows for the track-record "
        "signal (bench.synthetic.synthetic_history; 0 = none, as before)",
    )
    parser.add_argument("--baseline-url", help="PostGIS database for the baseline query")
    parser.add_argument("--http", action="store_true", help="also time the HTTP endpoint")
    parser.add_argument("--http-requests", type=int, default=200)
    parser.add_argument("--http-workers", type=int, default=2, help="uvicorn worker processes")


def run(args: argparse.Namespace, database: Database) -> dict[str, Any]:
    figures: dict[str, Any] = {"offerings": args.offerings, "rounds": args.rounds}
    print(f"in-process ranking over {args.offerings:,} synthetic offerings …", flush=True)
    ours = prepare(args.offerings, queries=args.queries, seed=args.seed)
    figures["index"] = ours.figures
    if args.partnerships:
        ours.index.history = synthetic_history(ours.table, args.partnerships, args.seed + 7)
        figures["partnerships"] = args.partnerships
        print(f"  with a synthetic history of {args.partnerships:,} partnerships", flush=True)
    print(
        f"  index build {ours.figures['build_s']} s wall, {ours.figures['build_cpu_s']} s CPU, "
        f"+{ours.figures['rss_growth_mb']} MB (peak {ours.figures['peak_rss_mb']} MB)",
        flush=True,
    )
    baseline_url = args.baseline_url or (
        str(database.url.render_as_string(hide_password=False)) if database.is_postgis else None
    )
    if baseline_url:
        print("PostGIS baseline: COPY with geography, GiST + GIN, VACUUM ANALYZE …", flush=True)
        with postgis_baseline.baseline(baseline_url, ours.table) as base:
            print(f"  loaded in {base.load_s:.1f} s", flush=True)
            figures.update(_interleaved(args, ours, base))
    else:
        print("PostGIS baseline skipped: give --baseline-url postgresql+psycopg://…")
        figures.update(_interleaved(args, ours, None))

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


Sample = tuple[float | None, float, int]  # cpu ms, wall ms, rows


def _interleaved(
    args: argparse.Namespace, ours: Prepared, base: postgis_baseline.Baseline | None
) -> dict[str, Any]:
    """Rounds over the schools; per school every target back to back, order rotating."""
    targets: dict[str, Callable[[int], Sample]] = {OURS: lambda i: _ours(ours, i)}
    if base is not None:
        params = _params(ours)
        for form in postgis_baseline.FORMS:
            targets[form] = lambda i, form=form: _base(base, form, params[i])  # type: ignore[misc]
        plans = base.plans(params[0])
        print("  plans (first school): " + "; ".join(f"{f}: {p}" for f, p in plans.items()))
    names = list(targets)
    for i in range(min(5, args.queries)):  # warm caches, lazy imports, prepared statements
        for name in names:
            targets[name](i)
    rounds: list[dict[str, dict[str, float | None]]] = []
    results: dict[str, list[int]] = defaultdict(list)
    header = "  ".join(f"{n + ' cpu p50/p95':>24}" for n in names)
    print(f"  {'round':<6}{header}  {'cpu ratio p50/p95':>18}  {'wall ratio p50/p95':>19}")
    for r in range(args.rounds):
        samples: dict[str, list[Sample]] = {name: [] for name in names}
        for i in range(args.queries):
            shift = (i + r) % len(names)
            for name in names[shift:] + names[:shift]:
                samples[name].append(targets[name](i))
        figures = {name: _percentiles(s) for name, s in samples.items()}
        for name, s in samples.items():
            results[name].extend(rows for _, _, rows in s)
        if base is not None:
            figures["ratio"] = _ratios(figures)
        rounds.append(figures)
        cells = "  ".join(
            f"{_pair(figures[n], 'cpu'):>24}"
            if figures[n].get("cpu_p50_ms") is not None
            else f"{'(wall) ' + _pair(figures[n], 'wall'):>24}"
            for n in names
        )
        ratio = figures.get("ratio", {})
        print(
            f"  {r + 1:<6}{cells}  {_ratio_pair(ratio, 'cpu'):>18}  "
            f"{_ratio_pair(ratio, 'wall'):>19}",
            flush=True,
        )
    out: dict[str, Any] = {
        "queries": args.queries,
        "mean_results": {n: round(float(np.mean(v)), 1) for n, v in results.items()},
        "per_round": rounds,
    }
    for name in names:
        for key in ("cpu_p50_ms", "cpu_p95_ms", "wall_p50_ms", "wall_p95_ms"):
            values = [v for f in rounds if (v := f[name][key]) is not None]
            if values:
                out[f"{name}_{key}"] = spread(values, 2)
    if base is not None:
        for key in ("cpu_ratio_p50", "cpu_ratio_p95", "wall_ratio_p50", "wall_ratio_p95"):
            values = [v for f in rounds if (v := f["ratio"].get(key)) is not None]
            if values:
                out[key] = spread(values)["median"]
                out[f"{key}_spread"] = spread(values)
        out["baseline_load_s"] = round(base.load_s, 1)
        out["baseline_cpu_measured"] = base.cpu_readable
    print(
        "  median of rounds: cpu ratio p50 "
        f"{out.get('cpu_ratio_p50')} ({_range(out.get('cpu_ratio_p50_spread'))}), p95 "
        f"{out.get('cpu_ratio_p95')} ({_range(out.get('cpu_ratio_p95_spread'))}); "
        f"wall ratio p50 {out.get('wall_ratio_p50')}, p95 {out.get('wall_ratio_p95')} "
        "(ours / best baseline form at each percentile)",
        flush=True,
    )
    return out


def _ours(ours: Prepared, i: int) -> Sample:
    wall, cpu = time.perf_counter(), time.thread_time()
    rows = ours.rank(i)
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    return cpu * 1000, wall * 1000, rows


def _base(base: postgis_baseline.Baseline, form: str, params: dict[str, Any]) -> Sample:
    t = base.query(form, params)
    return t.cpu_ms, t.wall_ms, t.rows


def _params(ours: Prepared) -> list[dict[str, Any]]:
    """Per school: its point, the ranker's reach cut-off for its locale, its need categories."""
    config = get_settings().ranking
    schools = ours.schools
    return [
        {
            "lat": float(schools.lat[i]),
            "lon": float(schools.lon[i]),
            "r": query_radius_km(config, schools.locale[i]) * 1000,
            "cats": sorted({need.category for need in schools.needs[i]}),
        }
        for i in range(len(schools))
    ]


def _percentiles(samples: list[Sample]) -> dict[str, float | None]:
    cpu = [c for c, _, _ in samples if c is not None]
    wall = [w for _, w, _ in samples]
    out: dict[str, float | None] = {}
    for key, values in (("cpu", cpu), ("wall", wall)):
        for q in (50, 95):
            out[f"{key}_p{q}_ms"] = round(float(np.percentile(values, q)), 3) if values else None
    return out


def _ratios(figures: dict[str, dict[str, float | None]]) -> dict[str, float | None]:
    """Ours divided by the best (lowest) baseline form at each percentile."""
    forms = [f for f in figures if f != OURS]
    out: dict[str, float | None] = {}
    for key in ("cpu", "wall"):
        for q in (50, 95):
            field = f"{key}_p{q}_ms"
            best = [v for f in forms if (v := figures[f][field]) is not None]
            mine = figures[OURS][field]
            ok = mine is not None and bool(best) and min(best) > 0
            out[f"{key}_ratio_p{q}"] = round(mine / min(best), 3) if ok and mine else None
    return out


def _pair(f: dict[str, float | None], key: str) -> str:
    return f"{f[f'{key}_p50_ms']:.2f}/{f[f'{key}_p95_ms']:.2f} ms"


def _ratio_pair(ratio: dict[str, float | None], key: str) -> str:
    p50, p95 = ratio.get(f"{key}_ratio_p50"), ratio.get(f"{key}_ratio_p95")
    return "—" if p50 is None or p95 is None else f"{p50:.2f}/{p95:.2f}"


def _range(s: dict[str, float] | None) -> str:
    return "—" if not s else f"{s['min']}..{s['max']}"
