"""A principal requests a partnership from a ranked partner and follows it: the request form,
the partnership page (status, goals, check-ins), a check-in logged — keyboard only, every page
accessible."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from app.models import NeedsAssessment
from tests.browser.conftest import look, make_user
from tests.browser.test_principal_flow import sign_in


def test_principal_requests_a_partnership_and_logs_a_check_in(page, database):
    with database.session() as session:
        school_id = session.scalars(select(NeedsAssessment.school_id).limit(1)).one()
    email = make_user(database, "principal@school.test", "school_staff", school_ids=[school_id])
    page.goto(f"/schools/{school_id}")
    sign_in(page, email)
    request = page.locator("#ranked a.request").first
    expect(request).to_be_visible()
    request.focus()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Request a partnership")
    look(page, "partnership-request")
    page.fill("#term_end", "2027-06-15")
    page.get_by_role("button", name="Send the request").focus()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/partnerships/\d+$"))
    expect(page.locator("#status")).to_have_text("proposed")
    partnership_path = page.url.split(page.url.split("/partnerships/")[0], 1)[1]
    look(page, "partnership")

    page.focus("#participants")
    page.keyboard.type("Principal, Program lead")
    page.fill("#notes", "Kick-off call")
    page.fill("#next_step", "Send the schedule")
    page.get_by_role("button", name="Log the check-in").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".check-ins")).to_contain_text("Send the schedule")

    page.get_by_role("link", name="All the school's partnerships").click()
    mine = page.locator(f"tbody tr:has(a[href='{partnership_path}'])")
    expect(mine).to_have_count(1)
    expect(mine.locator("td").nth(1)).to_have_text("proposed")
    look(page, "school-partnerships")
