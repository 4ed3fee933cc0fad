"""Pages answer a missing or forbidden record with an HTML page in the visitor's language;
the JSON API keeps answering problem+json."""

from __future__ import annotations

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_a_missing_organization_page_is_an_html_404(anon):
    response = anon.get("/organizations/999999")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page not found" in response.text
    assert "content-security-policy" in response.headers


def test_an_address_naming_no_possible_record_is_an_html_404(anon):
    for path in ("/organizations/0", "/offerings/abc", "/organizations/99999999999"):
        response = anon.get(path)
        assert response.status_code == 404, path
        assert "Page not found" in response.text


def test_an_unknown_address_asked_for_by_a_browser_is_an_html_404_in_spanish(anon):
    response = anon.get("/no/such/page", headers=HTML | {"accept-language": "es"})
    assert response.status_code == 404
    assert '<html lang="es">' in response.text
    assert "Página no encontrada" in response.text


def test_the_api_keeps_problem_json_for_missing_records_and_addresses(anon):
    for path in ("/v1/organizations/999999", "/v1/no-such-thing"):
        response = anon.get(path, headers=HTML)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def test_an_unknown_address_without_html_in_accept_stays_problem_json(anon):
    response = anon.get("/no/such/page", headers={"accept": "application/json"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_an_admin_page_for_a_school_staff_member_is_an_html_403(anon, db):
    from tests.pages.test_admin_pages import sign_in

    sign_in(anon, db, "staff@school.test", "school_staff")
    response = anon.get("/admin/keys")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "This page is not for your account" in response.text
