"""Pages' security: CSRF on every form, a CSP without inline script, user text escaped,
session cookies HttpOnly and SameSite, no asset from another site."""

from __future__ import annotations

import re

import pytest

from app.pages.session import CSRF_COOKIE, SESSION_COOKIE
from tests.api.factories import organization
from tests.conftest import user_token

HOSTILE = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    client.get("/sign-in")
    return client.cookies[CSRF_COOKIE]


@pytest.mark.parametrize("path", ["/sign-in", "/sign-out"])
def test_a_form_without_the_csrf_token_is_refused(anon, path):
    _csrf(anon)
    response = anon.post(path, data={"email": "a@b.test", "password": "x" * 12})
    assert response.status_code == 403
    assert "refused" in response.text


@pytest.mark.parametrize("path", ["/sign-in", "/sign-out"])
def test_a_form_with_another_browsers_csrf_token_is_refused(anon, path):
    _csrf(anon)
    response = anon.post(
        path, data={"csrf_token": "someone-elses-token", "email": "a@b.test", "password": "x"}
    )
    assert response.status_code == 403


def test_a_wrong_password_with_the_right_token_shows_the_form_again(anon):
    token = _csrf(anon)
    response = anon.post(
        "/sign-in",
        data={"csrf_token": token, "email": "nobody@partnermap.test", "password": "wrong"},
    )
    assert response.status_code == 401
    assert "Wrong email or password." in response.text
    assert SESSION_COOKIE not in anon.cookies


def test_cookies_are_httponly_and_samesite(anon):
    anon.get("/sign-in")
    header = anon.get("/taxonomy", headers={"cookie": ""}).headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=lax" in header
    assert "Secure" not in header  # plain HTTP here; served over HTTPS it is Secure


def test_cookies_are_secure_over_https(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="https://testserver") as client:
        assert "Secure" in client.get("/sign-in").headers["set-cookie"]


@pytest.mark.parametrize("path", ["/", "/taxonomy", "/sign-in", "/?q=x"])
def test_pages_carry_a_csp_without_inline_script(anon, path):
    response = anon.get(path)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert script_src == "'self'"
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.text)
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/", "/docs", "/redoc", "/taxonomy"])
def test_pages_load_nothing_from_another_site(anon, path):
    html = anon.get(path).text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), html


def test_an_organization_named_with_html_and_script_renders_as_text(client, anon):
    created = client.post(
        "/v1/organizations", json=organization(name=HOSTILE, description=HOSTILE)
    ).json()
    client.post(f"/v1/organizations/{created['id']}/verification", json={"state": "verified"})
    page = client.get(f"/organizations/{created['id']}")
    assert page.status_code == 200
    assert HOSTILE not in page.text
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in page.text


def test_a_bad_search_field_is_a_422_page_naming_the_field(anon):
    response = anon.get("/", params={"grade": "twelfth", "need": "not.a.category"})
    assert response.status_code == 422
    assert 'href="#f-grade"' in response.text and 'href="#f-need"' in response.text


def test_an_unknown_zip_is_a_422_page_naming_the_place(anon):
    response = anon.get("/", params={"place": "00000"})
    assert response.status_code == 422
    assert 'id="place-error"' in response.text


def test_the_api_keeps_bearer_tokens_and_ignores_the_page_cookie(anon, db):
    _, token = user_token(db, "staff@partnermap.test", "admin")
    anon.cookies.set(SESSION_COOKIE, token)
    assert anon.get("/v1/me").status_code == 401
    assert anon.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_the_sign_up_page_answers_the_same_for_a_taken_email(anon, db):
    from sqlalchemy import func, select

    from app.models import User

    token = _csrf(anon)
    answers = []
    for password in ("a long enough password", "another long password"):
        response = anon.post(
            "/sign-up",
            data={"csrf_token": token, "email": "ada@example.org", "password": password},
            follow_redirects=False,
        )
        answers.append((response.status_code, response.headers["location"], response.text))
        assert SESSION_COOKIE not in anon.cookies
    assert answers[0] == answers[1] == (303, "/sign-in?next=%2Fmy%2Forganizations%2Fnew", "")
    with db.session() as session:
        assert session.scalar(select(func.count(User.id))) == 1
