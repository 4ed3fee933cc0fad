"""Time GET /v1/schools/{id}/matches over HTTP with synthetic offerings in the real database."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
from sqlalchemy import delete

from app.db import Database
from app.models import Need, NeedsAssessment, Organization, School
from app.repositories.catalog_changes import record_change
from app.services.accounts import tool_token
from app.taxonomy import load_taxonomy
from bench.synthetic import synthetic_offerings, synthetic_schools
from bench.synthetic_rows import insert_catalog
from bench.timing import percentiles

SOURCE = "bench-synthetic"
SCHOOLS = 20


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
        insert_catalog(session, table, SOURCE, service_areas=False, progress=True)
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
