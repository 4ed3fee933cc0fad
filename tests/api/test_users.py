"""Finding and disabling users over HTTP (`GET /v1/users`, `GET/PATCH /v1/users/{id}`): the
operator manages everyone, a district admin the users of their own district only, no one
disables themselves, and every answer that is not a success is problem+json."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import AuditEvent, District, School, User
from tests.conftest import user_token


@pytest.fixture
def people(db):  # type: ignore[no-untyped-def]
    """Two districts; in A an admin and two staff members, in B one staff member; a member."""
    with db.session() as session:
        a, b = District(name="District A", slug="a"), District(name="District B", slug="b")
        session.add_all([a, b])
        session.flush()
        school = School(
            name="Alpha Middle",
            district=a.name,
            district_id=a.id,
            lat=37.8,
            lon=-122.25,
            grade_low=6,
            grade_high=8,
            languages=["en"],
            locale="city",
        )
        session.add(school)
        session.commit()
        ids = {"a": a.id, "b": b.id, "school": school.id}
    found: dict[str, int] = dict(ids)
    tokens: dict[str, dict[str, str]] = {}
    for name, email, role, grants in (
        ("admin_a", "Admin.A@Example.org", "district_admin", {"district_id": ids["a"]}),
        (
            "staff_a",
            "staff_a@example.org",
            "school_staff",
            {"district_id": ids["a"], "schools": [ids["school"]]},
        ),
        ("staff%a", "staff%a@example.org", "school_staff", {"district_id": ids["a"]}),
        ("staff_b", "staff_b@example.org", "school_staff", {"district_id": ids["b"]}),
        ("member", "member@example.org", "org_member", {}),
    ):
        found[name], token = user_token(db, email.lower(), role, **grants)
        tokens[name] = {"Authorization": f"Bearer {token}"}
    return found, tokens


def _problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def _user_events(db) -> list[tuple[str, str, int | None]]:  # type: ignore[no-untyped-def]
    with db.session() as session:
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.resource_id, AuditEvent.actor_user_id)
            .where(AuditEvent.resource_type == "user")
            .order_by(AuditEvent.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_the_operator_disables_and_enables_a_user_and_each_change_is_audited(
    client, anon, db, people
):
    ids, tokens = people
    disabled = client.patch(f"/v1/users/{ids['staff_a']}", json={"active": False})
    assert disabled.status_code == 200, disabled.text
    assert disabled.json() | {"created_at": None} == {
        "id": ids["staff_a"],
        "email": "staff_a@example.org",
        "role": "school_staff",
        "district_id": ids["a"],
        "school_ids": [ids["school"]],
        "organization_ids": [],
        "active": False,
        "created_at": None,
    }
    _problem(anon.get("/v1/me", headers=tokens["staff_a"]), 401)
    assert client.get(f"/v1/users/{ids['staff_a']}").json()["active"] is False

    enabled = client.patch(f"/v1/users/{ids['staff_a']}", json={"active": True})
    assert enabled.status_code == 200, enabled.text
    assert enabled.json()["active"] is True
    operator = client.get("/v1/me").json()["user_id"]
    assert _user_events(db) == [
        ("disable", str(ids["staff_a"]), operator),
        ("enable", str(ids["staff_a"]), operator),
    ]
    # A revoked token stays revoked after enabling.
    _problem(anon.get("/v1/me", headers=tokens["staff_a"]), 401)


def test_asking_for_the_state_a_user_is_in_changes_and_records_nothing(client, db, people):
    ids, _ = people
    assert client.patch(f"/v1/users/{ids['staff_a']}", json={"active": True}).status_code == 200
    assert _user_events(db) == []


def test_no_one_disables_themselves_a_422_naming_the_field(anon, db, people):
    ids, tokens = people
    body = _problem(
        anon.patch(
            f"/v1/users/{ids['admin_a']}", json={"active": False}, headers=tokens["admin_a"]
        ),
        422,
    )
    assert body["errors"][0]["loc"] == ["body", "active"]
    assert anon.get("/v1/me", headers=tokens["admin_a"]).status_code == 200
    assert _user_events(db) == []


def test_the_operator_cannot_disable_themselves_either(client, db):
    me = client.get("/v1/me").json()["user_id"]
    _problem(client.patch(f"/v1/users/{me}", json={"active": False}), 422)
    assert client.get("/v1/me").status_code == 200


def test_an_unknown_user_is_a_404(client):
    _problem(client.patch("/v1/users/999999", json={"active": False}), 404)
    _problem(client.get("/v1/users/999999"), 404)


@pytest.mark.parametrize("body", [{}, {"active": "false"}, {"active": 0}, {"active": None}])
def test_active_must_be_a_json_boolean(client, people, body):
    ids, _ = people
    problem = _problem(client.patch(f"/v1/users/{ids['staff_a']}", json=body), 422)
    assert problem["errors"][0]["loc"][:2] == ["body", "active"]


def test_a_district_admin_disables_users_of_their_own_district_only(anon, client, db, people):
    ids, tokens = people
    headers = tokens["admin_a"]
    done = anon.patch(f"/v1/users/{ids['staff_a']}", json={"active": False}, headers=headers)
    assert done.status_code == 200, done.text
    operator = client.get("/v1/me").json()["user_id"]
    for other in (ids["staff_b"], ids["member"], operator):
        # Another district's users, members of no district and operators: as if missing.
        _problem(anon.patch(f"/v1/users/{other}", json={"active": False}, headers=headers), 404)
        _problem(anon.get(f"/v1/users/{other}", headers=headers), 404)
    assert anon.get("/v1/me", headers=tokens["staff_b"]).status_code == 200
    assert client.get("/v1/me").status_code == 200
    assert [e[0] for e in _user_events(db)] == ["disable"]


def test_a_district_admin_never_reaches_an_operator_even_one_given_their_district(anon, db, people):
    ids, tokens = people
    operator_id, operator_token = user_token(db, "op@example.org", "admin", district_id=ids["a"])
    headers = tokens["admin_a"]
    _problem(anon.patch(f"/v1/users/{operator_id}", json={"active": False}, headers=headers), 404)
    listed = anon.get("/v1/users", headers=headers).json()["items"]
    assert operator_id not in {u["id"] for u in listed}
    assert anon.get("/v1/me", headers={"Authorization": f"Bearer {operator_token}"}).is_success


def test_school_staff_members_and_keys_may_not_manage_users(anon, people):
    ids, tokens = people
    for name in ("staff_a", "member"):
        _problem(
            anon.patch(f"/v1/users/{ids['staff%a']}", json={"active": False}, headers=tokens[name]),
            403,
        )
        _problem(anon.get("/v1/users", headers=tokens[name]), 403)
    _problem(anon.get("/v1/users"), 401)


def test_users_are_listed_in_pages_oldest_first(client, people):
    ids, _ = people
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/users", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 2
        seen += [u["id"] for u in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen)
    assert set(seen) >= {ids[n] for n in ("admin_a", "staff_a", "staff%a", "staff_b", "member")}
    assert len(seen) == 6  # and the operator


def _emails(client, headers=None, **params) -> list[str]:  # type: ignore[no-untyped-def]
    response = client.get("/v1/users", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return [u["email"] for u in response.json()["items"]]


def test_users_are_filtered_by_role_state_email_and_district(client, people):
    ids, _ = people
    assert _emails(client, role="district_admin") == ["admin.a@example.org"]
    assert _emails(client, district_id=ids["b"]) == ["staff_b@example.org"]
    # Part of the email in any case; `%` and `_` are letters, not wildcards.
    assert _emails(client, email="ADMIN.A") == ["admin.a@example.org"]
    assert _emails(client, email="staff%") == ["staff%a@example.org"]
    assert _emails(client, email="f_a") == ["staff_a@example.org"]
    assert client.patch(f"/v1/users/{ids['staff_b']}", json={"active": False}).is_success
    assert _emails(client, active="false") == ["staff_b@example.org"]
    assert "staff_b@example.org" not in _emails(client, active="true")


def test_a_district_admin_lists_their_own_districts_users_only(anon, people):
    ids, tokens = people
    headers = tokens["admin_a"]
    assert _emails(anon, headers) == [
        "admin.a@example.org",
        "staff_a@example.org",
        "staff%a@example.org",
    ]
    assert _emails(anon, headers, district_id=ids["b"]) == []
    assert _emails(anon, headers, role="org_member") == []


def test_a_user_shows_their_grants(client, db, people):
    ids, _ = people
    with db.session() as session:
        assert session.get(User, ids["staff_a"]) is not None
    body = client.get(f"/v1/users/{ids['staff_a']}").json()
    assert body["school_ids"] == [ids["school"]]
    assert "password" not in str(body) and "hash" not in str(body)


def test_the_users_endpoints_are_documented_with_examples_and_their_problems(app):
    paths = app.openapi()["paths"]
    patch = paths["/v1/users/{user_id}"]["patch"]
    examples = patch["requestBody"]["content"]["application/json"]["examples"]
    assert {e["value"]["active"] for e in examples.values()} == {False, True}
    for code in ("401", "403", "404", "422"):
        assert "application/problem+json" in patch["responses"][code]["content"], code
    assert "district admin (district)" in patch["description"]
    listing = paths["/v1/users"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {
        "role",
        "active",
        "email",
        "district_id",
        "limit",
        "cursor",
    }
