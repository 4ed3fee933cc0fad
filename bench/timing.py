"""Latency figures every benchmark reports the same way."""

from __future__ import annotations

import numpy as np


def percentiles(ms: list[float]) -> dict[str, float]:
    """p50, p95 and max of latencies in milliseconds, rounded to 0.01 ms."""
    values = np.asarray(ms)
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 2),
        "p95_ms": round(float(np.percentile(values, 95)), 2),
        "max_ms": round(float(values.max()), 2),
    }
