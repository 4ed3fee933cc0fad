"""A form the service refuses (not a field error) comes back with the API's status for the
refusal and the same accessible page as before: the error summary announced (role=alert),
axe clean, the form still usable from the keyboard."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from app.models import District
from tests.browser.conftest import PASSWORD, check_accessibility, make_user


def test_a_spreadsheet_upload_comes_back_as_the_apis_415_and_stays_accessible(
    page, database, tmp_path
):
    with database.session() as session:
        district_id = session.scalars(select(District.id)).first()
    email = make_user(database, "imports@ousd.test", "district_admin", district_id=district_id)
    page.goto("/admin/imports")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Import a CSV file")

    sheet = tmp_path / "schools.xlsx"
    sheet.write_bytes(b"PK\x03\x04 not a csv")
    page.set_input_files("#file", str(sheet))
    with page.expect_response(lambda r: r.request.method == "POST") as answered:
        page.get_by_role("button", name="Upload").press("Enter")
    assert answered.value.status == 415
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("CSV UTF-8")
    expect(page.locator("h1")).to_have_text("Import a CSV file")
    expect(page.get_by_role("button", name="Upload")).to_be_enabled()
    check_accessibility(page)
