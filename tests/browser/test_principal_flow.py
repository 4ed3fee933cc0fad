"""A principal signs in, edits the school's needs and sees partners ranked for them, with the
coverage of each need — keyboard only, every page accessible."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from app.models import NeedsAssessment
from tests.browser.conftest import PASSWORD, look, make_user


def sign_in(page, email: str) -> None:  # type: ignore[no-untyped-def]
    if "/sign-in" not in page.url:
        page.goto("/sign-in")
    look(page, "sign-in")
    page.focus("#email")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")


def test_principal_signs_in_edits_needs_and_sees_ranked_partners(page, database):
    with database.session() as session:
        school_id = session.scalars(select(NeedsAssessment.school_id).limit(1)).one()
    email = make_user(database, "principal@school.test", "school_staff", school_ids=[school_id])

    page.goto(f"/schools/{school_id}")  # signed out: sent to sign in, then back
    sign_in(page, email)
    expect(page.locator("h1")).not_to_have_text("Sign in")
    expect(page.locator("#needs-heading")).to_be_visible()
    expect(page.locator("#ranked .reason").first).to_be_visible()
    expect(page.locator("tr[class^=coverage-]").first).to_be_visible()
    look(page, "school")

    page.get_by_role("link", name="Edit needs").focus()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Needs assessment")
    look(page, "needs-editor")
    blank = page.locator("select[name=category]").last
    blank.focus()
    blank.select_option("arts.music")
    page.locator("select[name=priority]").last.select_option("1")
    page.locator("input[name=notes]").last.fill("Band <b>instruments</b> needed")
    page.get_by_role("button", name="Save needs").focus()
    page.keyboard.press("Enter")

    expect(page.locator("#needs-heading")).to_be_visible()
    expect(page.locator("tbody")).to_contain_text("Music")
    expect(page.locator("#ranked .result").first).to_be_visible()
    expect(page.locator("#history-heading + ul li")).to_have_count(2)
