"""A district portal embeds the widget: a page served from another origin (a second local HTTP
server) shows results with reasons and a map; the same page on an origin the key does not list
shows a clear refusal inside the widget; axe finds no serious violation in the widget; the
iframe variant renders inside a page on a listed origin."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.auth.principal import OPERATOR
from app.services import api_keys, districts
from tests.browser.conftest import AXE, DESKTOP, _free_port, look, screenshot

PORTAL_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>District portal</title>
<style>body{{font-family:serif}} button{{background:hotpink}}
partnermap-search{{--partnermap-accent:#5b2a86}}</style>
</head><body><main><h1>Our district portal</h1>
<script src="{base}/embed/v1/partnermap.js" data-key="{key}"></script>
</main></body></html>"""
FRAME_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Portal with a frame</title></head>
<body><main><h1>Portal (no scripts)</h1>
<iframe src="{base}/embed/v1/frame?key={key}" title="PartnerMap" width="900" height="900"></iframe>
</main></body></html>"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[str]:
    """A portal: static pages served from another origin (another port)."""
    port = _free_port()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(_Quiet, directory=str(tmp_path))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


def _key(database, origins: list[str]) -> str:  # type: ignore[no-untyped-def]
    with database.session() as session:
        district = districts.find(session=session, ref="Oakland Unified School District")
        _, key = api_keys.create(
            session=session,
            principal=OPERATOR,
            district_id=district.id,
            name="portal",
            scope="read",
            allowed_origins=origins,
        )
    return key


def _page(browser, tmp_path: Path, name: str, html: str):  # type: ignore[no-untyped-def]
    (tmp_path / name).write_text(html)
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    return context, context.new_page()


def _widget_axe(page, site_url: str) -> None:  # type: ignore[no-untyped-def]
    page.add_script_tag(url=site_url + AXE)
    result = page.evaluate(
        "axe.run({include: [['partnermap-search']]}, {resultTypes: ['violations']})"
    )
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, bad


def test_the_widget_on_a_listed_origin_finds_partners_by_keyboard(
    browser, site, database, portal, tmp_path
):
    key = _key(database, [portal])
    context, page = _page(
        browser, tmp_path, "portal.html", PORTAL_PAGE.format(lang="en", base=site.url, key=key)
    )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{portal}/portal.html")
    widget = page.locator("partnermap-search")
    expect(widget.locator("select#pm-need")).to_be_attached()
    widget.locator("#pm-need").select_option("academic_support.tutoring")
    widget.locator("#pm-grade").select_option("3")
    widget.locator("#pm-place").fill("94601")
    widget.locator("#pm-place").press("Enter")  # the keyboard submits the form
    results = widget.locator("li.result")
    expect(results.first).to_be_visible()
    expect(results.first.locator(".reason")).to_contain_text("Tutoring")
    expect(widget.locator(".map .pin").first).to_be_attached()
    # the portal's CSS does not reach into the widget
    background = widget.locator("button").evaluate("b => getComputedStyle(b).backgroundColor")
    assert background == "rgb(91, 42, 134)"  # the portal's --partnermap-accent, not hotpink
    _widget_axe(page, site.url)
    screenshot(page, "widget-results")
    assert not errors, errors
    context.close()


def test_the_widget_on_an_origin_the_key_does_not_list_says_so(
    browser, site, database, portal, tmp_path
):
    key = _key(database, ["https://the-real-portal.example.org"])
    context, page = _page(
        browser, tmp_path, "portal.html", PORTAL_PAGE.format(lang="en", base=site.url, key=key)
    )
    page.goto(f"{portal}/portal.html")
    widget = page.locator("partnermap-search")
    alert = widget.get_by_role("alert")
    expect(alert).to_contain_text("is not allowed to use this PartnerMap key")
    expect(alert).to_contain_text(portal)
    expect(widget.locator("form")).to_have_count(0)
    _widget_axe(page, site.url)
    screenshot(page, "widget-refused")
    context.close()


def test_the_widget_speaks_spanish_on_a_spanish_page(browser, site, database, portal, tmp_path):
    key = _key(database, [portal])
    context, page = _page(
        browser, tmp_path, "portal.html", PORTAL_PAGE.format(lang="es", base=site.url, key=key)
    )
    page.goto(f"{portal}/portal.html")
    widget = page.locator("partnermap-search")
    expect(widget.locator("label[for=pm-place]")).to_have_text("Código postal")
    expect(widget.get_by_role("button")).to_have_text("Buscar")
    context.close()


def test_the_iframe_variant_renders_in_a_listed_portal(browser, site, database, portal, tmp_path):
    key = _key(database, [portal])
    context, page = _page(
        browser, tmp_path, "frame.html", FRAME_PAGE.format(base=site.url, key=key)
    )
    page.goto(f"{portal}/frame.html")
    frame = page.frame_locator("iframe")
    frame.locator("#f-need").select_option("academic_support.tutoring")
    frame.locator("#f-place").fill("94601")
    frame.locator("#f-place").press("Enter")
    expect(frame.locator(".result-list .result").first).to_be_visible()
    expect(frame.locator(".reason").first).to_contain_text("Tutoring")
    screenshot(page, "widget-frame")
    context.close()


def test_the_live_example_page_runs_the_widget_under_partnermaps_own_csp(page, site, database):
    """The example page `make run` serves: same origin, a strict CSP (no inline style or
    script), which the `page` fixture fails on if anything is blocked."""
    key = _key(database, [site.url])
    page.goto(f"/embed/v1/example?key={key}")
    expect(page.locator("pre.snippet").first).to_contain_text("/embed/v1/partnermap.js")
    widget = page.locator("partnermap-search")
    widget.locator("#pm-need").select_option("academic_support.tutoring")
    widget.locator("#pm-place").fill("94601")
    widget.get_by_role("button", name="Search").click()
    expect(widget.locator("li.result").first).to_be_visible()
    look(page, "widget-example")
