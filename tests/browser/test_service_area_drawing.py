"""A nonprofit draws its service area on the map (no tiles: tests run offline): each click adds a
corner, the GeoJSON field fills in, undo drops a corner, and the organization is registered
with that polygon; axe on the form."""

from __future__ import annotations

import json

from playwright.sync_api import expect
from sqlalchemy import select

from app.models import Organization
from tests.browser.conftest import look, make_user
from tests.browser.test_principal_flow import sign_in


def test_a_nonprofit_draws_its_service_area_on_the_map(page, database):
    email = make_user(database, "director@drawn.test", "org_member")
    page.goto("/my/organizations/new")
    sign_in(page, email)
    expect(page.locator("h1")).to_have_text("Register an organization")
    page.fill("#name", "Drawn Area Tutors")
    page.fill("#postal_code", "94601")
    area = page.locator("#area-map")
    for x, y in ((60, 60), (260, 60), (260, 200), (60, 200)):
        area.click(position={"x": x, "y": y})
    field = page.locator("#service_area_geojson")
    drawn = json.loads(field.input_value())
    assert drawn["type"] == "Polygon" and len(drawn["coordinates"][0]) == 5  # 4 corners, closed
    page.get_by_role("button", name="Undo the last point").click()
    assert len(json.loads(field.input_value())["coordinates"][0]) == 4
    expect(page.locator("#area-polygon")).to_be_checked()
    look(page, "organization-drawn-area")
    page.get_by_role("button", name="Register").press("Enter")
    expect(page.locator("h1")).to_have_text("Drawn Area Tutors")
    with database.session() as session:
        org = session.scalars(
            select(Organization).where(Organization.name == "Drawn Area Tutors")
        ).one()
        assert org.service_area_kind == "polygon"
