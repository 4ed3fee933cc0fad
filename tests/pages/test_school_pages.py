"""My school: a signed-in staff member files needs through the page's form (CSRF-checked);
signed-out visitors are sent to sign in; another school's staff cannot file."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import NeedsAssessment
from app.pages.session import CSRF_COOKIE, SESSION_COOKIE
from tests.api.factories import school
from tests.conftest import user_token


def _signed_in_staff(client, anon, db):  # type: ignore[no-untyped-def]
    school_id = client.post("/v1/schools", json=school()).json()["id"]
    _, token = user_token(db, "staff@school.test", "school_staff", schools=[school_id])
    anon.cookies.set(SESSION_COOKIE, token)
    anon.get("/sign-in")
    return school_id, anon.cookies[CSRF_COOKIE]


def _count(db) -> int:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(NeedsAssessment))


def test_signed_out_visitors_are_sent_to_sign_in_and_back(anon):
    response = anon.get("/schools/1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Fschools%2F1"


def test_staff_file_needs_through_the_form(client, anon, db):
    school_id, csrf = _signed_in_staff(client, anon, db)
    response = anon.post(
        f"/schools/{school_id}/needs",
        data={
            "csrf_token": csrf,
            "assessed_on": "2026-09-15",
            "category": ["literacy.early_literacy", ""],
            "priority": ["1", "3"],
            "notes": ["K-2 readers", ""],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = anon.get(f"/schools/{school_id}")
    assert "Early literacy" in page.text and "2026-09-15" in page.text


def test_needs_without_the_csrf_token_are_refused_and_not_filed(client, anon, db):
    school_id, _ = _signed_in_staff(client, anon, db)
    response = anon.post(
        f"/schools/{school_id}/needs",
        data={"category": ["literacy.early_literacy"], "priority": ["1"], "notes": [""]},
    )
    assert response.status_code == 403
    assert _count(db) == 0


def test_an_unknown_need_is_a_422_page_naming_the_row(client, anon, db):
    school_id, csrf = _signed_in_staff(client, anon, db)
    response = anon.post(
        f"/schools/{school_id}/needs",
        data={"csrf_token": csrf, "category": ["no.such"], "priority": ["1"], "notes": [""]},
    )
    assert response.status_code == 422
    assert "row 1: category" in response.text
    assert _count(db) == 0


def test_staff_of_another_school_cannot_file_its_needs(client, anon, db):
    _, csrf = _signed_in_staff(client, anon, db)
    other = client.post("/v1/schools", json=school(name="Other", nces_id=None)).json()["id"]
    response = anon.post(
        f"/schools/{other}/needs",
        data={"csrf_token": csrf, "category": ["arts.music"], "priority": ["1"], "notes": [""]},
    )
    assert response.status_code in (403, 404)
    assert _count(db) == 0
