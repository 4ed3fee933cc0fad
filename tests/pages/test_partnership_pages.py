"""A principal's partnership pages: request a partnership from a ranked offering or an
organization (CSRF-checked), then follow it — the other side accepts, either side starts it,
check-ins are logged and goals show their progress; other schools' staff see nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.models import Partnership
from app.pages.session import CSRF_COOKIE, SESSION_COOKIE
from tests.api.factories import offering, organization, school
from tests.conftest import user_token

HOSTILE = '<script>alert("pwned")</script>'


def _world(client, db):  # type: ignore[no-untyped-def]
    """A school, a verified organization with an offering, and a needs assessment."""
    school_id = client.post("/v1/schools", json=school()).json()["id"]
    org_id = client.post("/v1/organizations", json=organization()).json()["id"]
    verified = client.post(f"/v1/organizations/{org_id}/verification", json={"state": "verified"})
    assert verified.status_code == 200, verified.text
    offering_id = client.post(f"/v1/organizations/{org_id}/offerings", json=offering()).json()["id"]
    filed = client.post(
        f"/v1/schools/{school_id}/needs-assessments",
        json={"assessed_on": "2026-09-01", "needs": [{"category": "stem", "priority": 1}]},
    )
    assert filed.status_code == 201, filed.text
    return school_id, org_id, offering_id


def _browser(app, db, email, role, **grants):  # type: ignore[no-untyped-def]
    """A signed-in browser and its CSRF token."""
    _, token = user_token(db, email, role, **grants)
    browser = TestClient(app, raise_server_exceptions=False)
    browser.cookies.set(SESSION_COOKIE, token)
    browser.get("/sign-in")
    return browser, browser.cookies[CSRF_COOKIE]


def _count(db) -> int:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Partnership))


def _request(staff, csrf, school_id, offering_id, **fields):  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": csrf,
        "offering_id": str(offering_id),
        "need_categories": ["stem"],
        "term_start": "2026-10-01",
        "term_end": "2027-06-15",
        "schedule": "Tue/Thu 3-5 pm",
        **fields,
    }
    return staff.post(f"/schools/{school_id}/partnerships/new", data=data, follow_redirects=False)


def test_a_principal_requests_and_follows_a_partnership(app, client, db):
    school_id, org_id, offering_id = _world(client, db)
    staff, csrf = _browser(app, db, "principal@school.test", "school_staff", schools=[school_id])
    # the school page links each ranked partner to the request form
    page = staff.get(f"/schools/{school_id}")
    assert f"/schools/{school_id}/partnerships/new?offering_id={offering_id}" in page.text
    form = staff.get(f"/schools/{school_id}/partnerships/new?offering_id={offering_id}")
    assert form.status_code == 200
    assert "East Bay Science Mentors" in form.text and "After-school robotics club" in form.text

    sent = _request(staff, csrf, school_id, offering_id)
    assert sent.status_code == 303, sent.text
    url = sent.headers["location"]
    shown = staff.get(url)
    assert shown.status_code == 200
    assert '<dd id="status">proposed</dd>' in shown.text
    assert "Tue/Thu 3-5 pm" in shown.text
    assert (
        f"/partnerships/{url.rsplit('/', 1)[1]}"
        in staff.get(f"/schools/{school_id}/partnerships").text
    )

    # the school proposed: it cannot accept its own proposal; the page says why, nothing moves
    refused = staff.post(f"{url}/transitions", data={"csrf_token": csrf, "to": "accepted"})
    assert refused.status_code == 403
    assert "the organization" in refused.text and '<dd id="status">proposed</dd>' in refused.text

    member, member_csrf = _browser(
        app, db, "director@org.test", "org_member", organizations=[org_id]
    )
    accepted = member.post(
        f"{url}/transitions",
        data={"csrf_token": member_csrf, "to": "accepted"},
        follow_redirects=False,
    )
    assert accepted.status_code == 303, accepted.text
    started = staff.post(
        f"{url}/transitions", data={"csrf_token": csrf, "to": "active"}, follow_redirects=False
    )
    assert started.status_code == 303
    assert '<dd id="status">active</dd>' in staff.get(url).text

    logged = staff.post(
        f"{url}/check-ins",
        data={
            "csrf_token": csrf,
            "held_on": "2026-10-20",
            "channel": "meeting",
            "participants": "Ms. Rivera, Mr. Okafor",
            "notes": HOSTILE,
            "next_step": "Pick club days",
            "next_step_due": "2026-11-01",
        },
        follow_redirects=False,
    )
    assert logged.status_code == 303, logged.text
    partnership_id = int(url.rsplit("/", 1)[1])
    goal = client.post(
        f"/v1/partnerships/{partnership_id}/goals",
        json={
            "category": "stem",
            "indicator": "participation_count",
            "baseline_value": 0,
            "baseline_date": "2026-10-01",
            "target_value": 40,
            "target_date": "2027-06-01",
            "owner": "Ms. Rivera",
        },
    )
    assert goal.status_code == 201, goal.text
    reading = client.post(
        f"/v1/goals/{goal.json()['id']}/readings",
        json={"observed_on": "2027-02-01", "value": 30},
    )
    assert reading.status_code == 201, reading.text
    followed = staff.get(url).text
    assert "Pick club days" in followed and "Ms. Rivera, Mr. Okafor" in followed
    assert HOSTILE not in followed and "&lt;script&gt;" in followed
    assert "participation_count" in followed and "30.0 (2027-02-01)" in followed
    assert "yes (75% /" in followed  # on track: 75% of the way, ahead of the calendar


def test_a_request_without_the_csrf_token_is_refused_and_files_nothing(app, client, db):
    school_id, _, offering_id = _world(client, db)
    staff, _ = _browser(app, db, "principal@school.test", "school_staff", schools=[school_id])
    response = _request(staff, "someone-elses-token", school_id, offering_id)
    assert response.status_code == 403
    assert _count(db) == 0


def test_a_check_in_without_the_csrf_token_is_refused(app, client, db):
    school_id, _, offering_id = _world(client, db)
    staff, csrf = _browser(app, db, "principal@school.test", "school_staff", schools=[school_id])
    url = _request(staff, csrf, school_id, offering_id).headers["location"]
    response = staff.post(f"{url}/check-ins", data={"held_on": "2026-10-20", "channel": "call"})
    assert response.status_code == 403
    assert "None yet." in staff.get(url).text


def test_a_bad_term_is_a_422_page_naming_the_field_and_files_nothing(app, client, db):
    school_id, _, offering_id = _world(client, db)
    staff, csrf = _browser(app, db, "principal@school.test", "school_staff", schools=[school_id])
    response = _request(staff, csrf, school_id, offering_id, term_start="not a date")
    assert response.status_code == 422
    assert "term_start" in response.text
    assert _count(db) == 0


def test_a_bad_check_in_or_move_is_a_422_page_naming_the_field_and_changes_nothing(app, client, db):
    school_id, _, offering_id = _world(client, db)
    staff, csrf = _browser(app, db, "principal@school.test", "school_staff", schools=[school_id])
    url = _request(staff, csrf, school_id, offering_id).headers["location"]
    bad_channel = staff.post(
        f"{url}/check-ins", data={"csrf_token": csrf, "held_on": "2026-10-20", "channel": "fax"}
    )
    assert bad_channel.status_code == 422
    assert "<li>channel: " in bad_channel.text and "None yet." in bad_channel.text
    bad_move = staff.post(f"{url}/transitions", data={"csrf_token": csrf, "to": "teleported"})
    assert bad_move.status_code == 422
    assert "<li>to: " in bad_move.text and '<dd id="status">proposed</dd>' in bad_move.text
    assert "None yet." in staff.get(url).text


def test_the_organization_page_offers_school_staff_a_request(app, client, db):
    school_id, org_id, _ = _world(client, db)
    staff, _ = _browser(app, db, "principal@school.test", "school_staff", schools=[school_id])
    page = staff.get(f"/organizations/{org_id}")
    assert f"/schools/{school_id}/partnerships/new?organization_id={org_id}" in page.text
    form = staff.get(f"/schools/{school_id}/partnerships/new?organization_id={org_id}")
    assert form.status_code == 200 and "East Bay Science Mentors" in form.text


def test_another_schools_staff_cannot_see_or_request(app, client, db):
    school_id, _, offering_id = _world(client, db)
    other_school = client.post("/v1/schools", json=school(name="Other school")).json()["id"]
    staff, csrf = _browser(app, db, "principal@school.test", "school_staff", schools=[school_id])
    url = _request(staff, csrf, school_id, offering_id).headers["location"]
    stranger, stranger_csrf = _browser(
        app, db, "other@school.test", "school_staff", schools=[other_school]
    )
    assert stranger.get(url).status_code == 404
    assert _request(stranger, stranger_csrf, school_id, offering_id).status_code in (403, 404)
    assert _count(db) == 1


def test_signed_out_visitors_are_sent_to_sign_in(anon):
    response = anon.get("/partnerships/1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in?next=")
