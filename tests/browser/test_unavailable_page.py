"""With the database stopped, a person on a page sees an accessible page saying so (503, in
the browser's language), not the API's JSON: a real server whose database refuses
connections, as a stopped PostgreSQL does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from app.db import Database
from app.main import create_app
from app.settings import Settings
from tests.browser.conftest import DESKTOP, look, served

DOWN = "postgresql+psycopg://postgres@127.0.0.1:1/partnermap_down"


@pytest.fixture
def down_server() -> Iterator[str]:
    settings = Settings(database_url=DOWN, warm_ranking_index=False, map_tile_url="")
    with served(create_app(settings, database=Database(DOWN)), log_level="error") as server:
        yield server.url


@pytest.mark.parametrize(
    ("locale", "heading"),
    [("en-US", "Temporarily unavailable"), ("es-ES", "No disponible por el momento")],
)
def test_a_page_with_the_database_stopped_says_so_accessibly(browser, down_server, locale, heading):
    context = browser.new_context(base_url=down_server, viewport=DESKTOP, locale=locale)
    tab = context.new_page()
    try:
        answer = tab.goto("/organizations/1")
        assert answer is not None and answer.status == 503
        assert answer.headers["retry-after"]
        expect(tab.locator("h1")).to_have_text(heading)
        look(tab, f"unavailable-{locale}")
    finally:
        context.close()
