"""Memory of one serving worker at scale, without a database: the structures a worker holds
after its ranking index is built (app.services.catalog_index.CatalogIndex) — the index, what
results show beside it (one tuple per offering, shared category and delivery tuples, names per
organization) and the offerings by organization — built from seeded synthetic offerings with
the same code the worker runs (OfferingIndex.build) and the same shapes it keeps.

Then the result cache filled (`results` entries, the setting's default 2,000): as many distinct
questions, each a synthetic school's first page of 20 ranked against the index and rendered to
the bytes GET /v1/schools/{id}/matches sends (app.routers.matches), kept in the worker's
ResultCache under keys and validity of the same shapes; `cached_rss_mb` is the worker then.

Not counted: the transient rows of reading the catalog from the database at build (the
build's peak on a real database is higher than `peak_rss_mb` here), polygon areas
(synthetic organizations declare none) and the serving cache's few seconds of schools' needs.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
from typing import Any

import numpy as np

import app.main  # noqa: F401  (a worker has the whole app imported)
from app.repositories.offerings import OfferingBrief
from app.routers.matches import _offering_matches_json as matches_json
from app.services.matches import OfferingRanking
from app.services.result_cache import ResultCache
from app.settings import Settings
from app.taxonomy import load_taxonomy
from bench.ranker import peak_rss_mb, rss_mb
from bench.synthetic import synthetic_offerings, synthetic_schools
from matching import Filters, OfferingIndex, RankingConfig, SchoolQuery, rank_offerings
from matching.history import History

PAGE = 20  # GET /v1/schools/{id}/matches's default limit


def measure(n: int, seed: int, results: int | None = None) -> dict[str, Any]:
    """What one worker holds at n offerings, then with its result cache filled (`results`
    entries; None: the setting's default)."""
    entries = Settings().result_cache_entries if results is None else results
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
    figures: dict[str, Any] = {
        "offerings": n,
        "build_cpu_s": round(build_cpu_s, 1),
        "process_before_mb": round(baseline, 1),
        "worker_rss_mb": round(held, 1),
    }
    if entries:
        cache, answer_bytes = _fill(index, shown, organizations, entries, seed)
        gc.collect()
        cached = rss_mb()
        assert len(cache) == entries  # every question distinct, all kept
        figures |= {
            "result_cache_entries": entries,
            "result_cache_answer_bytes": answer_bytes,
            "cached_rss_mb": round(cached, 1),
            "result_cache_mb": round(cached - held, 1),
        }
        print(
            f"result cache filled: {entries:,} answers of {answer_bytes / entries:,.0f} bytes "
            f"on average ({answer_bytes / 2**20:.1f} MB of JSON); the worker then holds "
            f"{cached:,.1f} MB resident (+{cached - held:,.1f} MB)",
            flush=True,
        )
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return figures


def _fill(
    index: OfferingIndex,
    shown: dict[int, tuple[Any, ...]],
    organizations: dict[int, tuple[str, bool]],
    entries: int,
    seed: int,
) -> tuple[ResultCache, int]:
    """A ResultCache of `entries` filled with as many distinct schools' rendered first pages;
    its total bytes of JSON beside it."""
    taxonomy = load_taxonomy()
    schools = synthetic_schools(entries, seed + 1, [c.code for c in taxonomy.categories])
    cache = ResultCache(entries)
    config, today, hard = RankingConfig(), dt.date.today(), Filters()
    total = 0
    for i in range(entries):
        query = SchoolQuery(
            lat=float(schools.lat[i]),
            lon=float(schools.lon[i]),
            school_id=i + 1,
            locale=schools.locale[i],
            grade_low=int(schools.grade_low[i]),
            grade_high=int(schools.grade_high[i]),
            need_index=float(schools.need_index[i]),
            languages=schools.languages[i],
            populations=schools.populations[i],
        )
        needs = tuple(schools.needs[i])
        # One more than the page, to know whether another follows (as the service ranks).
        ranked = rank_offerings(index, query, needs, k=PAGE + 1, equity=config.equity)
        body = matches_json(
            OfferingRanking(
                results=[(r, _brief(shown, organizations, r.offering_id)) for r in ranked[:PAGE]],
                next_offset=PAGE if len(ranked) > PAGE else None,
                equity=config.equity,
                model_version=config.version,
                needs_assessment_id=i + 1,
            ),
            PAGE,
        )
        total += len(body)
        # The key and validity of app.services.matches.for_school: (school, offset, limit,
        # equity, filters, group, model) and (index version, the school's needs, the day).
        key = (i + 1, 0, PAGE, config.equity, hard, "offering", config.version)
        cache.get(key, (1, (query, needs, i + 1), today), lambda body=body: body)
    return cache, total


def _brief(
    shown: dict[int, tuple[Any, ...]], organizations: dict[int, tuple[str, bool]], offering_id: int
) -> OfferingBrief:
    """As CatalogIndex.shown makes it from the same tuples."""
    row = shown[offering_id]
    name, verified = organizations[row[2]]
    return OfferingBrief(
        id=row[0],
        title=row[1],
        organization_id=row[2],
        organization_name=name,
        verified=verified,
        categories=list(row[3]),
        cost=row[4],
        delivery=list(row[5]),
        capacity_schools=row[6],
        capacity_students=row[7],
    )
