"""Scale benchmark of the ranker on synthetic data (bench.synthetic): index build time and
memory, and the latency of one school's top-k with explanations.

    .venv/bin/python -m bench.ranker --offerings 100000 --queries 200

Prints one JSON line. Timings are measurements, never assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import resource
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from bench.synthetic import (
    CONUS_BBOX,
    synthetic_offerings,
    synthetic_schools,
    synthetic_taxonomy,
)
from bench.timing import percentiles
from matching.index import OfferingIndex
from matching.rank import rank_offerings
from matching.tables import OfferingTable, SchoolTable

AS_OF = dt.date(2026, 3, 2)  # fixed so runs are comparable


def rss_mb() -> float:
    """Current resident set size of this process, MB (Linux /proc; else peak RSS)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return peak_rss_mb()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Prepared:
    """A built index over synthetic offerings and the schools to rank for (bench inputs)."""

    table: OfferingTable
    schools: SchoolTable
    index: OfferingIndex
    figures: dict[str, Any]

    def rank(self, i: int, k: int = 20) -> int:
        """Rank school i's top-k with explanations, as the endpoint does; the rows returned."""
        query, needs = self.schools.query(i)
        return len(rank_offerings(self.index, query, needs, k=k, as_of=AS_OF))


def prepare(
    n_offerings: int,
    *,
    queries: int = 200,
    seed: int = 0,
    bbox: tuple[float, float, float, float] = CONUS_BBOX,
) -> Prepared:
    """Generate n synthetic offerings and `queries` schools, build the index (timed, RSS)."""
    parents, names = synthetic_taxonomy()
    codes = list(parents)
    started = time.perf_counter()
    table = synthetic_offerings(n_offerings, seed, codes, bbox)
    schools = synthetic_schools(queries, seed + 1, codes, bbox)
    generate_s = time.perf_counter() - started
    gc.collect()
    rss_before = rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    index = OfferingIndex.build(table, parents, names=names)
    build_s, build_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    rss_after = rss_mb()
    figures = {
        "n_offerings": n_offerings,
        "bbox": list(bbox),
        "queries": queries,
        "seed": seed,
        "generate_s": round(generate_s, 2),
        "build_s": round(build_s, 2),
        "build_cpu_s": round(build_cpu_s, 2),
        "rss_before_build_mb": round(rss_before, 1),
        "rss_after_build_mb": round(rss_after, 1),
        "rss_growth_mb": round(rss_after - rss_before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    return Prepared(table, schools, index, figures)


def bench_rank(
    n_offerings: int,
    *,
    queries: int = 200,
    seed: int = 0,
    k: int = 20,
    bbox: tuple[float, float, float, float] = CONUS_BBOX,
) -> dict[str, Any]:
    """Build an index of n synthetic offerings and time `queries` rankings (top-k, explained)."""
    prepared = prepare(n_offerings, queries=queries, seed=seed, bbox=bbox)
    for i in range(min(5, queries)):  # warm caches and lazy imports
        prepared.rank(i, k)
    latencies, cpu, returned = [], [], []
    for i in range(queries):
        started, thread = time.perf_counter(), time.thread_time()
        returned.append(prepared.rank(i, k))
        cpu.append((time.thread_time() - thread) * 1000)
        latencies.append((time.perf_counter() - started) * 1000)
    parents, _ = synthetic_taxonomy()
    batch = synthetic_offerings(100, seed + 2, list(parents), bbox)
    updates = _time_updates(prepared.index, batch, n_offerings)
    return {
        **prepared.figures,
        "k": k,
        **percentiles(latencies),
        "cpu_p50_ms": round(float(np.percentile(cpu, 50)), 2),
        "cpu_p95_ms": round(float(np.percentile(cpu, 95)), 2),
        "mean_results": round(float(np.mean(returned)), 1),
        **updates,
    }


def _time_updates(index: OfferingIndex, batch: OfferingTable, n: int) -> dict[str, float]:
    """Milliseconds to upsert 100 new offerings, replace 100 existing ones, remove 100."""
    fresh = replace(batch, ids=np.arange(n + 1, n + 1 + len(batch), dtype=np.int64))
    existing = replace(batch, ids=np.arange(1, 1 + len(batch), dtype=np.int64))
    timings = {}
    for name, change in (
        ("upsert_100_new_ms", lambda: index.upsert(fresh)),
        ("upsert_100_existing_ms", lambda: index.upsert(existing)),
        ("remove_100_ms", lambda: index.remove(fresh.ids.tolist())),
    ):
        started = time.perf_counter()
        change()
        timings[name] = round((time.perf_counter() - started) * 1000, 2)
    return timings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offerings", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-k", type=int, default=20)
    parser.add_argument(
        "--bbox",
        type=lambda text: tuple(float(x) for x in text.split(",")),
        default=CONUS_BBOX,
        help="min_lon,min_lat,max_lon,max_lat of the synthetic data (default: contiguous US)",
    )
    args = parser.parse_args(argv)
    figures = bench_rank(
        args.offerings, queries=args.queries, seed=args.seed, k=args.k, bbox=args.bbox
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
