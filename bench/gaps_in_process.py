"""The gap analysis of every school in the country in one process, stage by stage (CPU, wall,
peak RSS): what `partnermap bench gaps` runs by default (see bench.gaps)."""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from bench.synthetic import synthetic_taxonomy
from bench.us_geography import national_offerings, national_schools
from matching import OfferingIndex, fit_and_reach

T = TypeVar("T")
AS_OF = dt.date(2026, 10, 1)


def run(args: argparse.Namespace) -> dict[str, Any]:
    print(
        f"gap analysis in process: {args.schools:,} schools x {args.offerings:,} offerings "
        f"over US school geography, {args.virtual_share:.2%} virtual …",
        flush=True,
    )
    stages: dict[str, dict[str, float]] = {}

    def stage(name: str, call: Callable[[], T]) -> T:
        cpu, wall = time.process_time(), time.perf_counter()
        value = call()
        stages[name] = {
            "cpu_s": round(time.process_time() - cpu, 3),
            "wall_s": round(time.perf_counter() - wall, 3),
            "peak_rss_mb": round(_peak_rss_mb(), 1),
        }
        print(
            f"  {name:<22} cpu {stages[name]['cpu_s']:>9.3f} s  wall "
            f"{stages[name]['wall_s']:>9.3f} s  peak RSS {stages[name]['peak_rss_mb']:>8.1f} MB",
            flush=True,
        )
        return value

    parents, names = synthetic_taxonomy()
    codes = list(parents)
    schools, districts = stage(
        "synthesize schools", lambda: national_schools(args.schools, args.seed, codes)
    )
    table = stage(
        "synthesize offerings",
        lambda: national_offerings(
            args.offerings, args.seed + 1, codes, schools, args.virtual_share
        ),
    )
    index = stage("build ranking index", lambda: OfferingIndex.build(table, parents, names=names))
    reach = stage("pairs (fit and reach)", lambda: fit_and_reach(index, schools, as_of=AS_OF))

    cover = stage("coverage (capacity)", reach.coverage)

    def by_district() -> np.ndarray:
        names_, district = np.unique(np.array(districts, dtype=object), return_inverse=True)
        counts = np.zeros((len(names_), 3), dtype=np.int64)
        np.add.at(counts, (district[reach.need_school], cover.status), 1)
        return counts

    counts = stage("summary by district", by_district)
    analysis = [
        stages[k] for k in ("pairs (fit and reach)", "coverage (capacity)", "summary by district")
    ]
    total = counts.sum(axis=0)
    figures = {
        "schools": args.schools,
        "offerings": args.offerings,
        "virtual_share": args.virtual_share,
        "needs": len(reach.needs),
        "pairs": len(reach.fit),
        "districts": len(counts),
        "met": int(total[2]),
        "thin": int(total[1]),
        "unmet": int(total[0]),
        "index_cpu_s": stages["build ranking index"]["cpu_s"],
        "cpu_s": round(sum(s["cpu_s"] for s in analysis), 3),
        "wall_s": round(sum(s["wall_s"] for s in analysis), 3),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "stages": stages,
    }
    print(
        f"  {figures['needs']:,} needs, {figures['pairs']:,} reaching pairs, "
        f"{figures['districts']:,} districts: met {figures['met']:,}, thin {figures['thin']:,}, "
        f"unmet {figures['unmet']:,}; analysis cpu {figures['cpu_s']} s, "
        f"wall {figures['wall_s']} s",
        flush=True,
    )
    return figures


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
