"""Time GET /v1/schools/{id}/matches over HTTP with synthetic offerings in the real database."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import os
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
from sqlalchemy import delete, insert
from tqdm import tqdm

from app.db import Database
from app.models import Location, Need, NeedsAssessment, Offering, Organization, School
from app.services.accounts import tool_token
from app.services.common import record_change
from app.taxonomy import load_taxonomy
from matching.synthetic import synthetic_offerings, synthetic_schools

SOURCE = "bench-synthetic"
SCHOOLS = 20
BATCH = 5_000


def measure(
    database: Database, n: int, *, requests: int, seed: int, workers: int = 2
) -> dict[str, Any]:
    school_ids = _load(database, n, seed)
    try:
        return {"workers": workers, **_serve_and_time(database, school_ids, requests, workers)}
    finally:
        _clean(database)


def _load(database: Database, n: int, seed: int) -> list[int]:
    codes = [c.code for c in load_taxonomy().categories]
    table = synthetic_offerings(n, seed, codes)
    schools = synthetic_schools(SCHOOLS, seed + 1, codes)
    _clean(database)
    with database.session() as session:
        org_numbers = sorted(set(int(i) for i in table.organization_ids))
        org_ids: dict[int, int] = {}
        for start in tqdm(range(0, len(org_numbers), BATCH), desc="organizations", unit="batch"):
            chunk = org_numbers[start : start + BATCH]
            ids = session.scalars(
                insert(Organization).returning(Organization.id, sort_by_parameter_order=True),
                [
                    {
                        "source": SOURCE,
                        "external_id": f"org-{k}",
                        "name": f"Synthetic org {k}",
                        "type": "nonprofit",
                        "languages": [],
                        "verification": "verified",
                        "service_area_kind": "none",
                        "type_inferred": False,
                    }
                    for k in chunk
                ],
            ).all()
            org_ids.update(zip(chunk, ids, strict=True))
        first_row = {int(o): i for i, o in reversed(list(enumerate(table.organization_ids)))}
        session.execute(
            insert(Location),
            [
                {
                    "organization_id": org_ids[k],
                    "lat": float(table.lat[first_row[k]]),
                    "lon": float(table.lon[first_row[k]]),
                    "precision": "exact",
                }
                for k in org_numbers
            ],
        )
        for start in tqdm(range(0, n, BATCH), desc="offerings", unit="batch"):
            session.execute(
                insert(Offering),
                [_offering_row(table, i, org_ids) for i in range(start, min(n, start + BATCH))],
            )
        school_ids = []
        for i in range(SCHOOLS):
            school = School(
                source=SOURCE,
                external_id=f"school-{i}",
                name=f"Synthetic school {i}",
                lat=float(schools.lat[i]),
                lon=float(schools.lon[i]),
                grade_low=int(schools.grade_low[i]),
                grade_high=int(schools.grade_high[i]),
                locale=schools.locale[i],
                need_index=float(schools.need_index[i]),
                languages=[],
                assessments=[
                    NeedsAssessment(
                        assessed_on=dt.date(2026, 9, 1),
                        is_example=True,
                        needs=[
                            Need(
                                category=need.category,
                                priority=need.priority,
                                schedule=[],
                                delivery=[],
                                languages=[],
                            )
                            for need in schools.needs[i]
                        ],
                    )
                ],
            )
            session.add(school)
            session.flush()
            school_ids.append(school.id)
        record_change(session)
        session.commit()
    return school_ids


def _offering_row(table: Any, i: int, org_ids: dict[int, int]) -> dict[str, Any]:
    def num(value: float) -> float | None:
        return None if math.isnan(value) else float(value)

    return {
        "organization_id": org_ids[int(table.organization_ids[i])],
        "source": SOURCE,
        "external_id": f"offering-{i}",
        "title": table.texts[i][:200],
        "description": table.texts[i],
        "categories": list(table.categories[i]),
        "grade_low": int(table.grade_low[i]),
        "grade_high": int(table.grade_high[i]),
        "schedule": sorted(table.schedule[i]),
        "delivery": sorted(table.delivery[i]),
        "languages": sorted(table.languages[i]),
        "cost": table.cost[i],
        "cost_amount": num(table.cost_amount[i]),
        "capacity_schools": None
        if math.isnan(table.schools_left[i])
        else int(table.schools_left[i]),
        "populations": sorted(table.populations[i]),
        "active_from": table.active_from[i],
        "active_until": table.active_until[i],
    }


def _clean(database: Database) -> None:
    with database.session() as session:
        session.execute(delete(Organization).where(Organization.source == SOURCE))
        session.execute(delete(School).where(School.source == SOURCE))
        record_change(session)
        session.commit()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_and_time(
    database: Database, school_ids: list[int], requests: int, workers: int
) -> dict[str, Any]:
    from app.bench.matching import percentiles

    port = _free_port()
    with database.session() as session:
        token = tool_token(
            session=session, email="bench@partnermap.invalid", ttl=dt.timedelta(hours=2)
        )
    headers = {"Authorization": f"Bearer {token}"}
    env = {
        **os.environ,
        "DATABASE_URL": database.url.render_as_string(hide_password=False),
        "LOG_LEVEL": "WARNING",
        # The load test is one client address: the per-address limit would measure itself.
        "RATE_LIMIT_PER_MINUTE_IP": "0",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.asgi:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--workers",
            str(workers),
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base)
        started = time.perf_counter()
        httpx.get(
            f"{base}/v1/schools/{school_ids[0]}/matches", headers=headers, timeout=300
        ).raise_for_status()
        warm_s = time.perf_counter() - started
        # Every worker builds its own index on its first ranking: warm them all up first.
        asyncio.run(_load_test(base, headers, school_ids, 8 * workers, 4 * workers))
        out: dict[str, Any] = {"first_request_s": round(warm_s, 2), "by_clients": {}}
        for clients in (1, 16):
            latencies, elapsed = asyncio.run(
                _load_test(base, headers, school_ids, requests, clients)
            )
            out["by_clients"][str(clients)] = {
                **percentiles(latencies),
                "requests": len(latencies),
                "rps": round(len(latencies) / elapsed, 1),
            }
        return out
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait(base: str) -> None:
    for _ in range(200):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


async def _load_test(
    base: str, headers: dict[str, str], school_ids: list[int], total: int, clients: int
) -> tuple[list[float], float]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(school_ids[i % len(school_ids)])

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            school_id = queue.get_nowait()
            started = time.perf_counter()
            response = await client.get(f"{base}/v1/schools/{school_id}/matches")
            response.raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=60, headers=headers) as client:
        await asyncio.gather(*(worker(client) for _ in range(clients)))
    return latencies, time.perf_counter() - started
