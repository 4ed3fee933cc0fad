"""Log-in, token expiry and revocation, sign-up, and throttled log-in failures."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, update

from app.auth import credentials, passwords
from app.models import AccessToken, AuditEvent, User
from app.schemas.accounts import SIGN_UP_DETAIL

PASSWORD = "correct horse battery staple"


def _sign_up(anon, email: str = "ada@example.org") -> dict:
    response = anon.post("/v1/users", json={"email": email, "password": PASSWORD})
    assert response.status_code == 202, response.text
    return response.json()


def _log_in(anon, email: str = "ada@example.org", password: str = PASSWORD):
    return anon.post("/v1/auth/token", data={"username": email, "password": password})


def test_sign_up_then_log_in_gives_a_bearer_token_that_names_the_caller(anon, db):
    assert _sign_up(anon)["email"] == "ada@example.org"
    response = _log_in(anon, "ADA@example.org")  # emails compare case-insensitively
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    me = anon.get("/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    with db.session() as session:
        user_id = session.scalar(select(User.id).where(User.email == "ada@example.org"))
    assert me.json()["user_id"] == user_id and me.json()["role"] == "org_member"


def test_passwords_are_stored_as_argon2_hashes_and_tokens_as_sha256(anon, db):
    _sign_up(anon)
    token = _log_in(anon).json()["access_token"]
    with db.session() as session:
        user = session.scalar(select(User))
        row = session.scalar(select(AccessToken))
        events = session.scalars(select(AuditEvent)).all()
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert row.token_hash == credentials.digest(token) and token not in row.token_hash
    assert all(PASSWORD not in repr(vars(e)) and token not in repr(vars(e)) for e in events)


def test_a_wrong_password_is_a_401_with_a_challenge(anon):
    _sign_up(anon)
    response = _log_in(anon, password="not the password at all")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"


def test_an_expired_token_stops_working(anon, db):
    _sign_up(anon)
    token = _log_in(anon).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert anon.get("/v1/me", headers=headers).status_code == 200
    with db.session() as session:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session.execute(update(AccessToken).values(expires_at=past))
        session.commit()
    response = anon.get("/v1/me", headers=headers)
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_a_token_lives_token_ttl_minutes(anon, db, settings):
    _sign_up(anon)
    before = dt.datetime.now(dt.UTC)
    _log_in(anon)
    with db.session() as session:
        expires = session.scalar(select(AccessToken.expires_at))
    lifetime = expires - before
    assert dt.timedelta(minutes=settings.token_ttl_minutes - 1) < lifetime
    assert lifetime <= dt.timedelta(minutes=settings.token_ttl_minutes, seconds=5)


def test_a_revoked_token_stops_working_at_once(anon):
    _sign_up(anon)
    token = _log_in(anon).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert anon.post("/v1/auth/revoke", headers=headers).status_code == 204
    assert anon.get("/v1/me", headers=headers).status_code == 401
    # Another log-in still works.
    assert _log_in(anon).status_code == 200


def test_unknown_or_malformed_credentials_are_401_even_on_public_routes(anon):
    for headers in (
        {"Authorization": "Bearer pmt_not-a-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"X-API-Key": "pmk_notakey"},
    ):
        response = anon.get("/v1/schools", headers=headers)
        assert response.status_code == 401, headers


def test_sign_up_refuses_short_passwords_naming_the_field(anon):
    response = anon.post("/v1/users", json={"email": "b@example.org", "password": "short"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "password"]


def test_sign_up_answers_the_same_for_a_taken_email_and_changes_nothing(anon, db):
    new = anon.post("/v1/users", json={"email": "ada@example.org", "password": PASSWORD})
    other_password = "another long password"
    again = anon.post("/v1/users", json={"email": "Ada@Example.org", "password": other_password})
    assert (
        (again.status_code, again.json())
        == (new.status_code, new.json())
        == (
            202,
            {"email": "ada@example.org", "detail": SIGN_UP_DETAIL},
        )
    )
    assert again.headers.get("content-type") == new.headers.get("content-type")
    with db.session() as session:
        users = session.scalars(select(User)).all()
    assert len(users) == 1  # no second account, and the first keeps its own password
    assert _log_in(anon, password=other_password).status_code == 401
    assert _log_in(anon).status_code == 200


def test_repeated_failed_log_ins_are_throttled_with_retry_after(anon, settings):
    _sign_up(anon)
    for _ in range(settings.login_max_failures):
        assert _log_in(anon, password="wrong password guess").status_code == 401
    refused = _log_in(anon)  # even the right password waits now
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= settings.login_window_seconds
    assert refused.headers["content-type"] == "application/problem+json"
    # Another email from the same address is not affected.
    _sign_up(anon, "grace@example.org")
    assert _log_in(anon, "grace@example.org").status_code == 200


def test_a_success_clears_the_failures(anon, settings):
    _sign_up(anon)
    for _ in range(settings.login_max_failures - 1):
        _log_in(anon, password="wrong password guess")
    assert _log_in(anon).status_code == 200
    for _ in range(settings.login_max_failures - 1):
        _log_in(anon, password="wrong password guess")
    assert _log_in(anon).status_code == 200


def test_an_unknown_email_costs_a_password_check_too(anon, monkeypatch):
    burned = []
    real = passwords.burn_time
    monkeypatch.setattr(passwords, "burn_time", lambda p: burned.append(p) or real(p))
    response = _log_in(anon, "nobody@example.org", "whatever password")
    assert response.status_code == 401
    assert response.json()["detail"] == "Wrong email or password."
    assert burned == ["whatever password"]


@pytest.mark.parametrize("role", ["admin", "district_admin"])
def test_sign_up_never_grants_more_than_organization_membership(anon, role):
    response = anon.post(
        "/v1/users", json={"email": "x@example.org", "password": PASSWORD, "role": role}
    )
    assert response.status_code == 422  # unknown field: the role is not the caller's to pick


def test_parallel_wrong_passwords_pass_the_throttle_exactly_the_limit_times(anon, settings):
    _sign_up(anon)
    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(
            pool.map(lambda _: _log_in(anon, password="wrong guess!").status_code, range(20))
        )
    assert sorted(codes).count(401) == settings.login_max_failures
    assert codes.count(429) == 20 - settings.login_max_failures
