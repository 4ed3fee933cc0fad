"""Use cases for district portals' API keys: create (the plaintext is returned once), list,
revoke."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.auth import credentials, origins
from app.auth.principal import Principal
from app.db import unit_of_work
from app.domain_errors import Forbidden, InvalidInput, NotFound
from app.models import ApiKey
from app.repositories import accounts as repo
from app.services import audit, districts

SCOPES = ("read", "read_write")


def _guard(principal: Principal, district_id: int) -> None:
    if not (principal.is_admin or principal.manages_district(district_id)) or principal.is_key:
        raise Forbidden("Only the district's admins manage its API keys.")


def create(
    *,
    session: Session,
    principal: Principal,
    district_id: int,
    name: str,
    scope: str,
    allowed_origins: Sequence[str],
) -> tuple[ApiKey, str]:
    """A new key and its plaintext, which is never stored and never shown again."""
    districts.get(session=session, district_id=district_id)
    _guard(principal, district_id)
    if scope not in SCOPES:
        raise InvalidInput(["body", "scope"], "scope is 'read' or 'read_write'.")
    cleaned = [
        origins.check(o, ["body", "allowed_origins", i]) for i, o in enumerate(allowed_origins)
    ]
    made = credentials.new_key()
    key = ApiKey(
        name=name,
        prefix=made.prefix,
        secret_hash=made.secret_hash,
        district_id=district_id,
        scope=scope,
        allowed_origins=sorted(set(cleaned)),
        created_by_user_id=principal.user_id,
    )
    with unit_of_work(session, conflict="Key prefixes collided; try again."):
        session.add(key)
        session.flush()
        audit.record(
            session,
            principal,
            action="create",
            resource_type="api_key",
            resource_id=key.id,
            district_id=district_id,
            fields=["name", "scope", "allowed_origins"],
        )
    origins.changed()
    return key, made.plaintext


def list_for(*, session: Session, principal: Principal, district_id: int) -> list[ApiKey]:
    districts.get(session=session, district_id=district_id)
    _guard(principal, district_id)
    return repo.keys(session, district_id)


def list_any(*, session: Session, principal: Principal, district_ref: str | None) -> list[ApiKey]:
    """The CLI's list: every key, or one district's (named by id, slug or name); admins only."""
    if district_ref is None:
        if not principal.is_admin:
            raise Forbidden("Only administrators list every API key.")
        return repo.keys(session)
    district = districts.find(session=session, ref=district_ref)
    return list_for(session=session, principal=principal, district_id=district.id)


def revoke(*, session: Session, principal: Principal, district_id: int, key_id: int) -> None:
    districts.get(session=session, district_id=district_id)
    _guard(principal, district_id)
    key = repo.key(session, key_id)
    if key is None or key.district_id != district_id:
        raise NotFound(f"District {district_id} has no API key {key_id}.")
    if key.revoked_at is not None:
        return
    with unit_of_work(session, conflict="The key changed meanwhile."):
        key.revoked_at = dt.datetime.now(dt.UTC)
        audit.record(
            session,
            principal,
            action="revoke",
            resource_type="api_key",
            resource_id=key.id,
            district_id=district_id,
            fields=["revoked_at"],
        )
    origins.changed()


def revoke_any(*, session: Session, principal: Principal, key_id: int) -> ApiKey:
    """The CLI's revoke: by id alone."""
    key = repo.key(session, key_id)
    if key is None:
        raise NotFound(f"No API key has id {key_id}.")
    revoke(session=session, principal=principal, district_id=key.district_id, key_id=key_id)
    return key
