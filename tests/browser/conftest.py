"""The browser-test harness: a real uvicorn server on a free loopback port against the test
database with the demo loaded, Debian's Chromium driven by Playwright, axe-core for
accessibility, screenshots (desktop and a 390 px phone) in var/screenshots/ for CI to keep.

Without /usr/bin/chromium these tests are skipped, except in CI (CI set), where they fail.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from app.auth.principal import ADMIN, Principal
from app.db import Database
from app.main import create_app
from app.services import accounts, demo
from app.services.catalog_index import CatalogIndex
from app.settings import Settings
from tests.conftest import empty_tables

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
AXE = "/static/vendor/axe-core/axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "correct horse battery staple"
# A blocked script or style is a page that needs inline code; a blocked remote image (ReDoc's
# badge on cdn.redoc.ly) is the CSP keeping the docs offline, as meant.
BLOCKED_CODE = re.compile(r"Content Security Policy directive: \"(script|style)-src")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    app: object


@contextmanager
def served(app: object, log_level: str = "warning") -> Iterator[LiveServer]:
    """The app served by uvicorn in a thread on a free loopback port, until the block ends."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level, lifespan="off")  # type: ignore[arg-type]
    )
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the live server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(database: Database) -> Iterator[LiveServer]:
    """PartnerMap served by uvicorn in a thread, offline (no map tiles), no rate limits."""
    settings = Settings(
        database_url=database.url.render_as_string(hide_password=False),
        warm_ranking_index=False,
        map_tile_url="",
        rate_limit_per_minute_ip=0,
        rate_limit_per_minute_key=0,
    )
    with served(create_app(settings, database=database)) as server:
        yield server


@pytest.fixture
def site(live_server: LiveServer, database: Database) -> Iterator[LiveServer]:
    """The live server with the demo data freshly loaded (and emptied again afterwards)."""
    empty_tables(database)
    with database.session() as session:
        demo.load(session=session)
    live_server.app.state.ranking_index = CatalogIndex()  # type: ignore[attr-defined]
    yield live_server
    empty_tables(database)


def make_user(database: Database, email: str, role: str, **grants: object) -> str:
    """A user who signs in with PASSWORD; returns the email."""
    with database.session() as session:
        accounts.create_user(
            session=session,
            principal=Principal(role=ADMIN),
            email=email,
            password=PASSWORD,
            role=role,
            **grants,  # type: ignore[arg-type]
        )
    return email


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; CI installs it (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, site: LiveServer) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh browser context (no cookies) on the live site; fails the test on a blocked
    script or style or a script error, so a page that needs inline code cannot pass."""
    context = browser.new_context(base_url=site.url, viewport=DESKTOP, locale="en-US")
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    tab.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and BLOCKED_CODE.search(message.text)
            else None
        ),
    )
    yield tab
    context.close()
    assert not problems, problems


def check_accessibility(page) -> None:  # type: ignore[no-untyped-def]
    """axe-core on the current page: no serious or critical violation."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(url=AXE)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{page.url}: " + "; ".join(bad)


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """The page as a person sees it, desktop and phone, in var/screenshots/ (CI keeps it)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def look(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Every page a flow visits: accessible, and photographed."""
    check_accessibility(page)
    screenshot(page, name)
