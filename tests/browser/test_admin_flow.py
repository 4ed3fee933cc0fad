"""A district admin, keyboard only, on the demo: reads the gaps map and table, verifies a new
organization, makes a key for the district portal (shown once) and revokes it, imports a
schools CSV and follows the job to its row-level report — axe and screenshots on each page."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from app.auth.principal import Principal
from app.models import District
from app.schemas.organizations import OrganizationCreate
from app.services import organizations
from tests.api.factories import organization
from tests.browser.conftest import PASSWORD, look, make_user

NEWCOMER = "Lake Merritt Chess Club"
SCHOOLS_CSV = (
    "external_id,name,nces_id,state_id,district,address,city,state,postal_code,lat,lon,"
    "grade_low,grade_high,enrollment,frl_pct,title_i,el_pct,swd_pct,chronic_absence_pct,"
    "locale,languages\n"
    "pilot-1,Pilot Hill Elementary,,,Oakland Unified School District,1 Pilot St,Oakland,CA,"
    "94610,37.80,-122.25,K,5,300,80,true,30,10,12,city,en;es\n"
    "pilot-2,Row With A Bad Latitude,,,Oakland Unified School District,2 Pilot St,Oakland,CA,"
    "94610,north,-122.25,K,5,300,80,true,30,10,12,city,en\n"
)


def _district_admin(database) -> str:  # type: ignore[no-untyped-def]
    with database.session() as session:
        district_id = (
            session.scalars(
                select(District.id).where(District.name == "Oakland Unified School District")
            ).first()
            or session.scalars(select(District.id)).first()
        )
        organizations.create(
            session=session,
            principal=Principal(role="admin"),
            data=OrganizationCreate.model_validate(organization(name=NEWCOMER)),
        )
    return make_user(database, "admin@ousd.test", "district_admin", district_id=district_id)


def test_a_district_admin_reads_gaps_verifies_makes_a_key_and_imports_a_csv(
    page, database, tmp_path
):
    email = _district_admin(database)
    page.goto("/admin/gaps")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")

    expect(page.locator("h1")).to_have_text("Unmet and thin needs")
    expect(page.locator("#gap-table tbody tr").first).to_be_visible()
    expect(page.locator("#gap-map .leaflet-interactive").first).to_be_attached()  # the GeoJSON
    look(page, "admin-gaps")

    page.get_by_role("link", name="Verification queue").press("Enter")
    expect(page.locator("h1")).to_have_text("Organizations waiting for verification")
    look(page, "admin-verification")
    page.get_by_role("button", name=f"Verify {NEWCOMER}").press("Enter")
    expect(page.get_by_role("button", name=f"Verify {NEWCOMER}")).to_have_count(0)

    page.get_by_role("link", name="API keys").press("Enter")
    expect(page.locator("h1")).to_contain_text("API keys for")
    look(page, "admin-keys")
    page.locator("#key-name").press_sequentially("Family portal")
    page.locator("#key-origins").press_sequentially("https://portal.ousd.example")
    page.get_by_role("button", name="Make the key").press("Enter")
    expect(page.locator("#new-key")).to_contain_text("Family portal")
    secret = page.locator("#secret").input_value()
    assert secret.startswith("pmk_")
    expect(page.locator("#keys")).to_contain_text("https://portal.ousd.example")
    look(page, "admin-key-made")
    page.get_by_role("button", name="Revoke Family portal").press("Enter")
    expect(page.locator("#keys")).to_contain_text("revoked")
    expect(page.locator("#secret")).to_have_count(0)  # shown once only

    page.get_by_role("link", name="Imports").press("Enter")
    expect(page.locator("h1")).to_have_text("Import a CSV file")
    look(page, "admin-imports")
    upload = tmp_path / "schools.csv"
    upload.write_text(SCHOOLS_CSV)
    page.set_input_files("#file", str(upload))  # a file chooser is the OS's, not the page's
    page.locator("#skip_invalid").press("Space")
    page.get_by_role("button", name="Upload").press("Enter")
    expect(page.locator("h1")).to_contain_text("Import job")
    expect(page.locator("#job-status")).to_contain_text("imported", timeout=20_000)
    expect(page.locator("#job-issues")).to_contain_text("north")
    look(page, "admin-import-job")

    page.goto("/admin/gaps?lang=es")
    expect(page.locator("h1")).to_have_text("Necesidades no cubiertas y apenas cubiertas")
    look(page, "admin-gaps-es")
    page.goto("/no/such/page")
    expect(page.locator("h1")).to_have_text("Página no encontrada")
    look(page, "not-found")
