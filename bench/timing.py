"""Latency and CPU figures every benchmark reports the same way."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Sequence

import numpy as np


def percentiles(ms: Sequence[float]) -> dict[str, float]:
    """p50, p95 and max of latencies in milliseconds, rounded to 0.01 ms."""
    values = np.asarray(ms)
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 2),
        "p95_ms": round(float(np.percentile(values, 95)), 2),
        "max_ms": round(float(values.max()), 2),
    }


def task_cpu_ns(pid: int) -> int:
    """CPU time (ns) a process's main thread has run so far: /proc/<pid>/schedstat's first field
    (the scheduler's sum_exec_runtime, nanosecond resolution; /proc/<pid>/stat counts ticks).
    Used for a PostgreSQL backend on this machine, whose CPU per query is its own work."""
    with open(f"/proc/{pid}/schedstat") as stat:
        return int(stat.read().split()[0])


def process_cpu_ns(pid: int) -> int | None:
    """CPU time (ns) a whole process has run so far, its exited threads included: the
    process's CPU clock (Linux: clock id ((~pid) << 3) | 2, what glibc's clock_getcpuclockid
    gives; the scheduler's runtime, nanosecond resolution, where /proc/<pid>/stat counts 10 ms
    ticks). None where the clock cannot be read (not Linux, the process gone)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return time.clock_gettime_ns(((~pid) << 3) | 2)
    except OSError:
        return None


def spread(values: Sequence[float], digits: int = 3) -> dict[str, float]:
    """Median, min and max over rounds: the figure and its run-to-run spread."""
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


def can_read_cpu_of(pid: int) -> bool:
    """Whether task_cpu_ns can read this process (same machine, /proc readable)."""
    return os.access(f"/proc/{pid}/schedstat", os.R_OK)
