"""A visitor finds a partner: search by need and ZIP → ranked result with its reason → the
offering → its organization, with the keyboard alone, every page accessible."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import look


def test_search_by_need_and_zip_leads_to_an_organization_page_by_keyboard(page):
    page.goto("/")
    look(page, "search-empty")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.locator("a.skip")).to_be_focused()
    page.select_option("#f-need", "academic_support.tutoring")
    page.select_option("#f-grade", "3")
    page.fill("#f-place", "94601")
    page.focus("#f-q")
    page.keyboard.press("Enter")
    results = page.locator(".result-list .result")
    expect(results.first).to_be_visible()
    expect(results.first.locator(".reason")).to_contain_text("Tutoring")
    # every result with a place is on the map
    expect(page.locator(".leaflet-interactive").first).to_be_attached()
    look(page, "search-results")

    offering = results.first.locator("h3 a")
    title = offering.inner_text()
    offering.focus()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(title)
    look(page, "offering")

    page.locator("p.org a").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/organizations/\d+$"))
    expect(page.locator("#offerings-heading")).to_be_visible()
    look(page, "organization")


def test_taxonomy_and_docs_pages_work_offline(page):
    page.goto("/taxonomy")
    expect(page.locator("h1")).to_be_visible()
    look(page, "taxonomy")
    page.get_by_role("link", name="Tutoring").first.click()
    expect(page.locator("#f-need")).to_have_value("academic_support.tutoring")

    page.goto("/docs")
    # Both render the whole OpenAPI document in the browser: slow on a busy CI machine.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("PartnerMap", timeout=60_000)
    page.goto("/redoc")
    expect(page.locator("h1").first).to_contain_text("PartnerMap", timeout=60_000)
