"""Gap analysis at any scale: `partnermap bench gaps --schools N --offerings M`.

    partnermap bench gaps [--schools 200] [--offerings 10000] [--virtual-share 0.001]
    partnermap bench gaps --through-app [--schools 200] [--needs 10] [--offerings 10000]

Default: the whole gap analysis in process, as a worker runs it for every assessed school
(matching.fit_and_reach's spatially pruned pairs, geo.needs_coverage's capacity sharing, then a
summary per district), over seeded synthetic data on the real geography of US schools
(bench.us_geography: the Texas directory and the Oakland demo, replicated and jittered).
Each stage prints CPU time, wall time and peak RSS; the last line is JSON with schools,
offerings, cpu_s, wall_s, peak_rss_mb (the analysis after the index is built).
Goals (issue 15): 200 x 10,000 <= 0.3 s; 100,000 x 1,000,000 <= 10 min and <= 8 GB.

--through-app writes a throwaway district (source "bench-gaps") into DATABASE_URL and times,
through the ASGI app (no network): GET /v1/gaps?district=… (target <= 1 s), the asset map of
the metro bbox (target <= 200 ms) and at fine resolution, and one school's coverage. The rows
are deleted afterwards (unless --keep). Synthetic data is for scale only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select

from app.auth.principal import OPERATOR
from app.db import Database
from app.main import create_app
from app.models import Need, NeedsAssessment, Organization, School
from app.repositories.catalog_changes import record_change
from app.services import assets as service
from app.services import districts
from app.services.accounts import tool_token
from app.services.catalog_index import CatalogIndex
from app.services.schools import compute_need_index
from app.settings import Settings, get_settings
from app.taxonomy import load_taxonomy
from bench import gaps_in_process as national
from bench.synthetic import synthetic_offerings, synthetic_schools
from bench.synthetic_rows import insert_catalog

SOURCE = "bench-gaps"
DISTRICT = "PartnerMap benchmark district (synthetic)"
BENCH_USER = "bench@partnermap.invalid"
# Chicago and its suburbs: a metro, far from the Oakland demo.
METRO = (-88.3, 41.6, -87.5, 42.2)
NEIGHBOURHOOD = (-87.75, 41.85, -87.65, 41.92)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--through-app", action="store_true", help="load DATABASE_URL, time HTTP")
    parser.add_argument("--virtual-share", type=float, default=0.001, help="in process only")
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--needs", type=int, default=10, help="needs per school (at most 20)")
    parser.add_argument("--offerings", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each request")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="leave the synthetic rows in place")


def run(args: argparse.Namespace, database: Database) -> dict[str, Any]:
    if not args.through_app:
        return national.run(args)
    backend = "postgis" if database.is_postgis else "sqlite"
    print(
        f"gaps benchmark on {backend}: {args.schools} schools x {args.needs} needs, "
        f"{args.offerings:,} offerings in {METRO} …",
        flush=True,
    )
    started = time.perf_counter()
    _clean(database)
    _load(database, args)
    figures: dict[str, Any] = {
        "backend": backend,
        "schools": args.schools,
        "needs_per_school": args.needs,
        "offerings": args.offerings,
        "load_s": round(time.perf_counter() - started, 1),
    }
    try:
        figures.update(_measure(database, args))
    finally:
        if not args.keep:
            _clean(database)
    _report(figures)
    return figures


def _measure(database: Database, args: argparse.Namespace) -> dict[str, Any]:
    ranking_index = CatalogIndex()
    out: dict[str, Any] = {}
    with database.session() as session:
        started = time.perf_counter()
        ranking_index.current(session)
        out["index_build_s"] = round(time.perf_counter() - started, 2)

        def analyse(index: CatalogIndex = ranking_index) -> Any:
            return service.gaps(
                session=session,
                ranking_index=index,
                principal=OPERATOR,
                ranking=get_settings().ranking,
                district=DISTRICT,
                bbox=None,
                categories=[],
                statuses=["unmet", "thin"],
                level=13,
                offset=0,
                limit=100,
            )

        report = analyse()
        out["result"] = {
            "needs": report.summary.needs,
            "met": report.summary.met,
            "thin": report.summary.thin,
            "unmet": report.summary.unmet,
            "desert_cells": report.summary.desert_cells,
        }
        out["gaps_in_process"] = _timed(args.repeat, analyse)
        out["gaps_first_in_process"] = _first_analysis(session, args.repeat, analyse)
        school_id = session.scalar(select(func.min(School.id)).where(School.source == SOURCE))
        token = tool_token(session=session, email=BENCH_USER, ttl=dt.timedelta(hours=2))
    settings = Settings(
        database_url=database.url.render_as_string(hide_password=False),
        rate_limit_per_minute_ip=0,
    )
    # Imported here: the CLI loads this module for its --help, and TestClient warns on import.
    from fastapi.testclient import TestClient

    with TestClient(create_app(settings, database=database)) as client:
        client.headers["Authorization"] = f"Bearer {token}"

        def get(path: str, **params: Any) -> Callable[[], Any]:
            def call() -> None:
                client.get(path, params=params).raise_for_status()

            return call

        metro = ",".join(str(v) for v in METRO)
        get("/v1/gaps", district=DISTRICT)()  # warm up
        out["gaps_http"] = _timed(args.repeat, get("/v1/gaps", district=DISTRICT))
        out["asset_map_metro_http"] = _timed(args.repeat, get("/v1/asset-map", bbox=metro))
        out["asset_map_metro_cells"] = len(
            client.get("/v1/asset-map", params={"bbox": metro}).json()["features"]
        )
        out["asset_map_fine_http"] = _timed(
            args.repeat,
            get("/v1/asset-map", bbox=",".join(map(str, NEIGHBOURHOOD)), resolution=16),
        )
        out["school_coverage_http"] = _timed(args.repeat, get(f"/v1/schools/{school_id}/coverage"))
    out["targets"] = {
        "gaps_le_1000_ms": out["gaps_http"]["p50_ms"] <= 1000,
        "asset_map_le_200_ms": out["asset_map_metro_http"]["p50_ms"] <= 200,
    }
    return out


def _first_analysis(
    session: Any, repeat: int, analyse: Callable[[CatalogIndex], Any]
) -> dict[str, float]:
    """The gap analysis as the first request after a catalog change runs it (fit and reach of
    every assessed school, coverage): each run on a fresh worker's index, built beforehand and
    untimed. CPU time per run (p50, max) and the traced peak of Python and NumPy allocations
    during one more run (tracemalloc; run apart, as it slows the timed ones)."""
    cpu = []
    for _ in range(max(1, repeat)):
        index = CatalogIndex()
        index.current(session)
        started = time.process_time()
        analyse(index)
        cpu.append((time.process_time() - started) * 1000)
    index = CatalogIndex()
    index.current(session)
    tracemalloc.start()
    try:
        analyse(index)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return {
        "cpu_p50_ms": round(statistics.median(cpu), 1),
        "cpu_max_ms": round(max(cpu), 1),
        "runs": len(cpu),
        "traced_peak_mb": round(peak / 2**20, 2),
    }


def _timed(repeat: int, call: Callable[[], Any]) -> dict[str, float]:
    times = []
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "runs": len(times),
    }


def _report(f: dict[str, Any]) -> None:
    print(f"  load {f['load_s']} s, ranking index build {f.get('index_build_s')} s")
    if "result" in f:
        print(f"  district needs: {f['result']}")
    for key, label in (
        ("gaps_in_process", "gap analysis, in process"),
        ("gaps_http", "gap analysis, GET /v1/gaps (target <= 1000 ms)"),
        ("asset_map_metro_http", "asset map, metro bbox (target <= 200 ms)"),
        ("asset_map_fine_http", "asset map, neighbourhood at resolution 16"),
        ("school_coverage_http", "one school's coverage"),
    ):
        if key in f:
            print(f"  {label}: p50 {f[key]['p50_ms']} ms, max {f[key]['max_ms']} ms")
        if key == "gaps_in_process" and "gaps_first_in_process" in f:
            first = f["gaps_first_in_process"]
            print(
                f"  gap analysis, first after a catalog change (fresh index), in process: "
                f"CPU p50 {first['cpu_p50_ms']} ms, max {first['cpu_max_ms']} ms; "
                f"traced peak {first['traced_peak_mb']} MB"
            )


# --- the synthetic district --------------------------------------------------------------------


def _load(database: Database, args: argparse.Namespace) -> None:
    codes = [c.code for c in load_taxonomy().categories]
    table = synthetic_offerings(args.offerings, args.seed, codes, METRO)
    schools = synthetic_schools(args.schools, args.seed + 1, codes, METRO)
    rng = np.random.default_rng(args.seed + 2)
    with database.session() as session:
        insert_catalog(session, table, SOURCE, service_areas=True)
        # The district as an import makes it (one row, found again by name on later runs).
        district_id, _ = districts.resolve(session, [(DISTRICT, None)]).ids[(DISTRICT, None)]
        for i in range(len(schools)):
            school = _school(schools, i, codes, rng, args.needs)
            districts.assign(session, school, district_id)
            session.add(school)
        record_change(session)  # no ids: every worker rebuilds its ranking index
        session.commit()


def _school(schools: Any, i: int, codes: list[str], rng: Any, needs: int) -> School:
    school = School(
        source=SOURCE,
        external_id=f"school-{i}",
        name=f"Synthetic school {i}",
        district=DISTRICT,
        lat=float(schools.lat[i]),
        lon=float(schools.lon[i]),
        grade_low=int(schools.grade_low[i]),
        grade_high=int(schools.grade_high[i]),
        locale=schools.locale[i],
        enrollment=int(rng.integers(150, 1500)),
        frl_pct=float(rng.uniform(5, 100)),
        el_pct=float(rng.uniform(0, 50)),
        languages=sorted(schools.languages[i]),
    )
    school.need_index = compute_need_index(school)
    picks = rng.choice(len(codes), size=min(needs, 20), replace=False)
    school.assessments = [
        NeedsAssessment(
            assessed_on=dt.date(2026, 9, 1),
            is_example=True,
            needs=[
                Need(
                    category=codes[c],
                    priority=min(p // 2 + 1, 5),
                    students_affected=int(rng.integers(10, 400)),
                    notes=" ".join(codes[c].replace(".", " ").split("_")),
                    schedule=[],
                    delivery=[],
                    languages=[],
                )
                for p, c in enumerate(picks.tolist())
            ],
        )
    ]
    return school


def _clean(database: Database) -> None:
    with database.session() as session:
        session.execute(delete(Organization).where(Organization.source == SOURCE))
        session.execute(delete(School).where(School.source == SOURCE))
        record_change(session)
        session.commit()
