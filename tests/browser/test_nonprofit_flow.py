"""A nonprofit's director signs up, registers the organization and an offering; it is listed
publicly only after a district admin verifies it in the queue — keyboard and axe throughout."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from app.models import District
from tests.browser.conftest import DESKTOP, PASSWORD, look, make_user

NAME = 'Robotics <script>alert("x")</script> Club'


def test_nonprofit_signs_up_registers_and_its_offering_appears_after_verification(
    page, browser, site, database
):
    page.goto("/sign-up")
    look(page, "sign-up")
    page.fill("#email", "director@robotsclub.org")
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")

    # Sign-up never tells whether the email had an account: the answer is to sign in.
    expect(page.locator("h1")).to_have_text("Sign in")
    page.fill("#email", "director@robotsclub.org")
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Register an organization")
    look(page, "organization-register")
    page.fill("#name", NAME)
    page.fill("#description", "Hands-on robotics after school.")
    page.fill("#postal_code", "94601")
    page.fill("#radius_km", "10")
    page.get_by_role("button", name="Register").press("Enter")

    expect(page.locator("#verification")).to_contain_text("waiting")
    expect(page.locator("h1")).to_have_text(NAME)  # shown as text, not run
    page.get_by_role("link", name="Add an offering").press("Enter")
    look(page, "offering-form")
    page.fill("#title", "Zanzibar robotics lab")
    page.locator("details", has_text="Science, technology").locator("summary").press("Enter")
    page.get_by_label("Engineering and robotics").check()
    page.select_option("#grade_low", "6")
    page.select_option("#grade_high", "8")
    page.get_by_label("after school").check()
    page.select_option("#cost", "free")
    page.fill("#capacity_schools", "3")
    page.get_by_role("button", name="Save offering").press("Enter")
    expect(page.locator("#my-offerings")).to_contain_text("Zanzibar robotics lab")
    expect(page.locator("#needed")).to_contain_text("once a district verifies")
    look(page, "my-organization")

    visitor = browser.new_context(base_url=site.url, viewport=DESKTOP).new_page()
    visitor.goto("/?q=Zanzibar")
    expect(visitor.locator(".result-list")).to_have_count(0)  # not public before verification

    with database.session() as session:
        district_id = session.scalars(select(District.id)).first()
    admin = make_user(database, "admin@district.test", "district_admin", district_id=district_id)
    context = browser.new_context(base_url=site.url, viewport=DESKTOP)
    desk = context.new_page()
    desk.goto("/admin/verification")
    desk.fill("#email", admin)
    desk.fill("#password", PASSWORD)
    desk.keyboard.press("Enter")
    expect(desk.locator("h1")).to_have_text("Organizations waiting for verification")
    look(desk, "verification-queue")
    desk.get_by_role("button", name=f"Verify {NAME}").press("Enter")
    expect(desk.get_by_role("button", name=f"Verify {NAME}")).to_have_count(0)
    context.close()

    visitor.goto("/?q=Zanzibar")
    expect(visitor.locator(".result-list .result")).to_have_count(1)
    expect(visitor.locator(".result-list")).to_contain_text("Zanzibar robotics lab")
    visitor.context.close()
    page.goto("/my/organizations")
    page.get_by_role("link", name=NAME).press("Enter")
    expect(page.locator("#verification")).to_contain_text("verified")
    expect(page.locator("#needed li strong").first).to_be_visible()  # schools that need it
