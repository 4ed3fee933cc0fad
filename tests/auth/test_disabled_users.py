"""Disabling a user (`partnermap users disable`): their log-in tokens and the API keys they made
stop at once on every worker, they cannot log in, and enabling them again does not bring the
revoked credentials back."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.auth import passwords
from app.auth.principal import OPERATOR
from app.main import create_app
from app.models import AuditEvent, District, User
from app.services import accounts
from tests.conftest import portal_read_key, statements_sent, user_token

PASSWORD = "correct horse battery staple"


@pytest.fixture
def admin(db):  # type: ignore[no-untyped-def]
    """A district admin with a log-in token, a password and an API key they made."""
    with db.session() as session:
        district = District(name="Disabled district", slug="dd")
        session.add(district)
        session.commit()
        district_id = district.id
    user_id, token = user_token(db, "ada@example.org", "district_admin", district_id=district_id)
    with db.session() as session:
        session.get(User, user_id).password_hash = passwords.hash_password(PASSWORD)
        session.commit()
    _, key = portal_read_key(db, district_id, user_id)
    return user_id, {"Authorization": f"Bearer {token}"}, {"X-API-Key": key}


def _workers(db, settings):  # type: ignore[no-untyped-def]
    """Two apps on one database stand for two workers."""
    return [
        TestClient(create_app(settings, database=db), raise_server_exceptions=False)
        for _ in range(2)
    ]


def _set_active(db, user_id: int, active: bool) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        accounts.set_active(session=session, principal=OPERATOR, user_id=user_id, active=active)


def test_a_disabled_users_tokens_and_keys_stop_at_once_on_every_worker(db, settings, admin):
    user_id, bearer, key = admin
    one, two = _workers(db, settings)
    with one, two:
        for client in (one, two):  # each worker has seen both credentials work
            assert client.get("/v1/me", headers=bearer).status_code == 200
            assert client.get("/v1/me", headers=key).status_code == 200
        _set_active(db, user_id, False)
        for client in (one, two):
            assert client.get("/v1/me", headers=bearer).status_code == 401
            assert client.get("/v1/me", headers=key).status_code == 401
        log_in = {"username": "ada@example.org", "password": PASSWORD}
        assert one.post("/v1/auth/token", data=log_in).status_code == 401

        _set_active(db, user_id, True)
        assert one.post("/v1/auth/token", data=log_in).status_code == 200
        # What was revoked stays revoked.
        assert two.get("/v1/me", headers=bearer).status_code == 401
        assert two.get("/v1/me", headers=key).status_code == 401
    with db.session() as session:
        actions = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.resource_type == "user")
            .order_by(AuditEvent.id)
        ).all()
    assert actions == ["disable", "enable"]


def test_disabling_leaves_other_users_credentials_alone(db, settings, admin):
    user_id, _, _ = admin
    _, other = user_token(db, "grace@example.org", "admin")
    (client, _) = _workers(db, settings)
    with client:
        _set_active(db, user_id, False)
        assert client.get("/v1/me", headers={"Authorization": f"Bearer {other}"}).status_code == 200


def test_the_cli_disables_a_user_by_email(db, admin, capsys):
    from app.cli.accounts import _set_active as cli_set_active

    user_id, _, _ = admin

    class Args:
        user, active = "Ada@Example.org", False

    assert cli_set_active(Args(), db) == 0  # type: ignore[arg-type]
    assert "disabled" in capsys.readouterr().out
    with db.session() as session:
        assert session.get(User, user_id).is_active is False


def test_a_user_disabled_over_http_on_worker_a_is_refused_by_worker_b_that_had_them_cached(
    db, settings, admin
):
    """Worker B holds the token's principal in its serving cache (for far longer than the
    test takes); worker A disables the user with PATCH /v1/users/{id}; B's very next request
    with that token, and with the key the user made, is a 401."""

    user_id, bearer, key = admin
    _, operator = user_token(db, "operator@example.org", "admin")
    settings = settings.model_copy(update={"serving_cache_s": 3600.0})
    a, b = _workers(db, settings)
    with a, b:
        # The key first: its first use writes last_used_at, an accounts write.
        assert b.get("/v1/me", headers=key).status_code == 200
        assert b.get("/v1/me", headers=bearer).status_code == 200
        with statements_sent(db) as statements:
            assert b.get("/v1/me", headers=bearer).status_code == 200
        assert "access_tokens" not in " ".join(statements)  # B answers from its cache

        disabled = a.patch(
            f"/v1/users/{user_id}",
            json={"active": False},
            headers={"Authorization": f"Bearer {operator}"},
        )
        assert disabled.status_code == 200, disabled.text
        for headers in (bearer, key):
            refused = b.get("/v1/me", headers=headers)
            assert refused.status_code == 401, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
    with db.session() as session:
        events = session.execute(
            select(AuditEvent.action, AuditEvent.resource_id, AuditEvent.fields).where(
                AuditEvent.resource_type == "user"
            )
        ).all()
    assert [tuple(e) for e in events] == [
        ("disable", str(user_id), ["api_keys.revoked_at", "is_active", "tokens.revoked_at"])
    ]
