"""Page speed on the demo: server time of the search and school pages, the widget's size, and the
widget's time from snippet to first results.

Server time: the app in process (Starlette's TestClient: no network, no uvicorn), each page
interleaved with the JSON API calls that compute what it shows — the baseline (search page:
POST /v1/matches for the same need and place; school page: GET /v1/schools/{id}/matches and
/coverage together), so the difference is the page's own cost. Several rounds; per round
p50/p95 of wall time and the process's CPU time per request (client and server share the
process, so CPU includes the test client's small share); the spread is the min and max of
each round's p95.

Widget: uvicorn on loopback plus a portal page served by a second HTTP server on another port;
Chromium (Debian's, /usr/bin/chromium, driven by Playwright) opens the portal page in a fresh
context each round (nothing cached); the widget is preset (data-need, data-place) so it searches
as soon as it is ready. Measured: from the moment the browser starts fetching partnermap.js to
the widget's `partnermap-results` event. A read key for the portal's origin is made for the
run and revoked after it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gzip
import http.server
import logging
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.auth.principal import OPERATOR
from app.db import Database
from app.demo.oakland import DISTRICT
from app.imports.geocode import zip_table
from app.main import create_app
from app.models import NeedsAssessment
from app.pages.session import SESSION_COOKIE
from app.services import accounts, api_keys, demo, districts
from app.settings import get_settings
from bench.timing import percentiles

SCRIPT = Path(__file__).resolve().parent.parent / "app" / "static" / "embed" / "partnermap.js"
CHROMIUM = Path("/usr/bin/chromium")
NEED = "academic_support.tutoring"
SEARCH = {"need": NEED, "grade": "3", "place": "94601"}
PORTAL_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Portal</title>
</head><body><main><h1>Portal</h1>
<partnermap-search data-key="{key}" data-need="{need}" data-grade="3" data-place="94601">
</partnermap-search>
<script src="{base}/embed/v1/partnermap.js"></script></main></body></html>"""
# Resolved when the widget shows results: ms from the script's fetch start (and from navigation).
RESULTS_TIME = """() => new Promise(resolve => {
  const done = () => {
    const script = performance.getEntriesByType("resource")
      .find(e => e.name.endsWith("/embed/v1/partnermap.js"));
    const now = performance.now();
    resolve({from_script: now - script.startTime, from_navigation: now});
  };
  const el = document.querySelector("partnermap-search");
  if (el.shadowRoot && el.shadowRoot.querySelector("li.result")) { done(); return; }
  el.addEventListener("partnermap-results", done, {once: true});
})"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each measurement")
    parser.add_argument("--requests", type=int, default=40, help="requests per page per round")
    parser.add_argument("--loads", type=int, default=5, help="widget page loads per round")
    parser.add_argument("--no-browser", action="store_true", help="skip the widget timing")
    parser.add_argument(
        "--port", type=int, default=0, help="the widget's server (the portal's: +1); 0: free ones"
    )


def run(args: argparse.Namespace, database: Database) -> dict[str, Any]:
    print("page speed on the demo (loading it if missing) …", flush=True)
    logging.getLogger("partnermap.http").setLevel(logging.WARNING)  # no access log per request
    with database.session() as session:
        demo.load(session=session)
    settings = get_settings().model_copy(
        update={
            "rate_limit_per_minute_ip": 0,
            "rate_limit_per_minute_key": 0,
            "warm_ranking_index": False,
        }
    )
    app = create_app(settings, database=database)
    figures: dict[str, Any] = {
        "backend": "postgis" if database.is_postgis else "sqlite",
        "widget_bytes": SCRIPT.stat().st_size,
        "widget_gzip_bytes": len(gzip.compress(SCRIPT.read_bytes(), 9)),
    }
    figures |= _server_times(app, database, args.rounds, args.requests)
    if args.no_browser:
        return figures
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} missing: widget timing skipped", flush=True)
        return figures
    figures |= _widget_times(app, database, args.rounds, args.loads, args.port)
    return figures


def _server_times(app: Any, database: Database, rounds: int, requests: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    with database.session() as session:
        token = accounts.tool_token(
            session=session, email="bench@partnermap.invalid", ttl=dt.timedelta(hours=2)
        )
        school_ids = list(
            session.scalars(
                select(NeedsAssessment.school_id).distinct().order_by(NeedsAssessment.school_id)
            )
        )[:20]
    auth: dict[str, Any] = {"headers": {"Authorization": f"Bearer {token}"}}
    at = zip_table()[SEARCH["place"]]  # where the search page searches
    query = "&".join(f"{k}={v}" for k, v in SEARCH.items())
    # Each pair: the page, then the JSON API call that computes what it shows.
    pairs: dict[str, tuple[Callable[[Any, int], Any], Callable[[Any, int], Any]]] = {
        "search_page": (
            lambda c, i: c.get(f"/?{query}"),
            lambda c, i: c.post(
                "/v1/matches",
                json={
                    "location": {"lat": at.lat, "lon": at.lon, "grade_low": 3, "grade_high": 3},
                    "needs": [{"category": NEED, "priority": 1}],
                    "limit": 20,
                },
            ),
        ),
        "school_page": (
            lambda c, i: c.get(f"/schools/{school_ids[i % len(school_ids)]}"),
            lambda c, i: _both(
                c.get(f"/v1/schools/{school_ids[i % len(school_ids)]}/matches?limit=10", **auth),
                c.get(f"/v1/schools/{school_ids[i % len(school_ids)]}/coverage", **auth),
            ),
        ),
    }
    samples: dict[str, list[dict[str, Any]]] = {}
    with TestClient(app) as client:
        client.cookies.set(SESSION_COOKIE, token)
        for name, (page, api) in pairs.items():  # warm the index and the caches
            for i in range(3):
                assert page(client, i).status_code == 200, name
                assert api(client, i).status_code == 200, name
        for r in range(rounds):
            for name, (page, api) in pairs.items():
                wall: dict[str, list[float]] = {"page": [], "api": []}
                cpu: dict[str, list[float]] = {"page": [], "api": []}
                for i in range(requests):
                    for kind, call in (("page", page), ("api", api)):  # interleaved
                        w0, c0 = time.perf_counter(), time.process_time()
                        response = call(client, i)
                        cpu[kind].append((time.process_time() - c0) * 1000)
                        wall[kind].append((time.perf_counter() - w0) * 1000)
                        assert response.status_code == 200, (name, kind, response.text[:200])
                round_figures = {
                    kind: {
                        **percentiles(wall[kind]),
                        "cpu_ms_mean": round(sum(cpu[kind]) / len(cpu[kind]), 2),
                    }
                    for kind in wall
                }
                samples.setdefault(name, []).append(round_figures)
                print(
                    f"round {r + 1} {name}: page p95 {round_figures['page']['p95_ms']} ms "
                    f"(cpu {round_figures['page']['cpu_ms_mean']} ms), its API call p95 "
                    f"{round_figures['api']['p95_ms']} ms",
                    flush=True,
                )
    figures: dict[str, Any] = {"school_ids": len(school_ids)}
    for name, per_round in samples.items():
        for kind in ("page", "api"):
            p95s = sorted(s[kind]["p95_ms"] for s in per_round)
            p50s = sorted(s[kind]["p50_ms"] for s in per_round)
            cpus = sorted(s[kind]["cpu_ms_mean"] for s in per_round)
            label = name if kind == "page" else f"{name}_api_baseline"
            figures[label] = {
                "p95_ms_median": p95s[len(p95s) // 2],
                "p95_ms_spread": [p95s[0], p95s[-1]],
                "p50_ms_median": p50s[len(p50s) // 2],
                "cpu_ms_mean_median": cpus[len(cpus) // 2],
            }
    return figures


def _both(first: Any, second: Any) -> Any:
    """Two calls timed as one (the school page shows both answers): the worse status."""
    return first if first.status_code != 200 else second


def _widget_times(
    app: Any, database: Database, rounds: int, loads: int, port: int = 0
) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    portal_port = port + 1 if port else 0
    with (
        _serving(app, port) as base,
        _portal(portal_port) as (portal, folder),
        _key(database, portal) as key,
    ):
        (folder / "portal.html").write_text(PORTAL_PAGE.format(key=key, need=NEED, base=base))
        from_script: list[float] = []
        from_navigation: list[float] = []
        spread: list[float] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
            )
            for r in range(rounds):
                this_round = []
                for _ in range(loads):
                    context = browser.new_context()  # nothing cached
                    page = context.new_page()
                    page.goto(f"{portal}/portal.html")
                    timing = page.evaluate(RESULTS_TIME)
                    context.close()
                    this_round.append(timing["from_script"])
                    from_script.append(timing["from_script"])
                    from_navigation.append(timing["from_navigation"])
                p95 = percentiles(this_round)["p95_ms"]
                spread.append(p95)
                print(f"round {r + 1} widget: snippet to first results p95 {p95} ms", flush=True)
            browser.close()
    return {
        "widget_first_results_from_script": percentiles(from_script),
        "widget_first_results_from_navigation": percentiles(from_navigation),
        "widget_first_results_p95_spread": [min(spread), max(spread)],
        "widget_loads": len(from_script),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _serving(app: Any, port: int = 0) -> Iterator[str]:
    import uvicorn

    port = port or _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def _portal(port: int = 0) -> Iterator[tuple[str, Path]]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    with tempfile.TemporaryDirectory() as folder:
        port = port or _free_port()
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", port), functools.partial(Quiet, directory=folder)
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{port}", Path(folder)
        finally:
            server.shutdown()
            server.server_close()


@contextmanager
def _key(database: Database, origin: str) -> Iterator[str]:
    with database.session() as session:
        district = districts.find(session=session, ref=DISTRICT)
        made, key = api_keys.create(
            session=session,
            principal=OPERATOR,
            district_id=district.id,
            name="bench pages",
            scope="read",
            allowed_origins=[origin],
        )
        key_id = made.id
    try:
        yield key
    finally:
        with database.session() as session:
            api_keys.revoke_any(session=session, principal=OPERATOR, key_id=key_id)
