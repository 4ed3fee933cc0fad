"""Memory of one serving worker at scale, without a database: the structures a worker holds
after its ranking index is built (app.services.catalog_index.CatalogIndex) — the index, what
results show beside it (one tuple per offering, shared category and delivery tuples, names per
organization) and the offerings by organization — built from seeded synthetic offerings with
the same code the worker runs (OfferingIndex.build) and the same shapes it keeps.

Not counted: the transient rows of reading the catalog from the database at build (the
build's peak on a real database is higher than `peak_rss_mb` here) and polygon areas
(synthetic organizations declare none).
"""

from __future__ import annotations

import gc
import time
from typing import Any

import numpy as np

import app.main  # noqa: F401  (a worker has the whole app imported)
from app.taxonomy import load_taxonomy
from bench.ranker import peak_rss_mb, rss_mb
from bench.synthetic import synthetic_offerings
from matching import OfferingIndex
from matching.history import History


def measure(n: int, seed: int) -> dict[str, Any]:
    gc.collect()
    baseline = rss_mb()
    taxonomy = load_taxonomy()
    table = synthetic_offerings(n, seed, [c.code for c in taxonomy.categories])
    started = time.process_time()
    index = OfferingIndex.build(
        table, taxonomy.parents, names={c.code: c.name for c in taxonomy.categories}
    )
    index.history = History.empty()
    memo: dict[Any, Any] = {}
    shown: dict[int, tuple[Any, ...]] = {}
    capacity = np.nan_to_num(table.schools_left, nan=-1).astype(int).tolist()
    for i, offering_id in enumerate(table.ids.tolist()):
        categories = tuple(table.categories[i])
        delivery = tuple(table.delivery[i])
        shown[offering_id] = (
            offering_id,
            str(table.texts[i][:60]),  # a title: its own string, as read from a row
            int(table.organization_ids[i]),
            memo.setdefault(categories, categories),
            table.cost[i],
            memo.setdefault(("d", *delivery), delivery),
            capacity[i] if capacity[i] >= 0 else None,
            None,
        )
    by_org: dict[int, set[int]] = {}
    for offering_id, org in zip(table.ids.tolist(), table.organization_ids.tolist(), strict=True):
        by_org.setdefault(org, set()).add(offering_id)
    organizations = {org: (f"Organization {org}", True) for org in by_org}
    build_cpu_s = time.process_time() - started
    del table
    gc.collect()
    held = rss_mb()
    assert len(shown) == len(index) and organizations  # kept alive until measured
    return {
        "offerings": n,
        "build_cpu_s": round(build_cpu_s, 1),
        "process_before_mb": round(baseline, 1),
        "worker_rss_mb": round(held, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
