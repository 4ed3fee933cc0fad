"""SQL for users, their grants, log-in tokens and API keys."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import AccessToken, ApiKey, Organization, School, User, UserOrganization, UserSchool


def token(session: Session, token_id: int | None) -> AccessToken | None:
    return None if token_id is None else session.get(AccessToken, token_id)


def key(session: Session, key_id: int) -> ApiKey | None:
    return session.get(ApiKey, key_id)


def user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email))


def token_with_user(session: Session, token_hash: str) -> tuple[AccessToken, User] | None:
    row = session.execute(
        select(AccessToken, User)
        .join(User, User.id == AccessToken.user_id)
        .where(AccessToken.token_hash == token_hash)
    ).first()
    return (row[0], row[1]) if row else None


def grants(session: Session, user_id: int) -> tuple[frozenset[int], frozenset[int]]:
    """(school ids, organization ids) the user is granted."""
    schools = session.scalars(select(UserSchool.school_id).where(UserSchool.user_id == user_id))
    orgs = session.scalars(
        select(UserOrganization.organization_id).where(UserOrganization.user_id == user_id)
    )
    return frozenset(schools), frozenset(orgs)


def key_by_prefix(session: Session, prefix: str) -> ApiKey | None:
    return session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))


def touch_key(session: Session, key_id: int, now: dt.datetime) -> None:
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


def active_origins(session: Session) -> set[str]:
    """Every origin some unrevoked key allows (pre-flights carry no key)."""
    rows = session.scalars(select(ApiKey.allowed_origins).where(ApiKey.revoked_at.is_(None)))
    return {origin for origins in rows for origin in origins or []}


def keys(session: Session, district_id: int | None = None) -> list[ApiKey]:
    """Every API key, or one district's, oldest first."""
    query = select(ApiKey).order_by(ApiKey.id)
    if district_id is not None:
        query = query.where(ApiKey.district_id == district_id)
    return list(session.scalars(query))


def users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def users_page(
    session: Session,
    *,
    district_id: int | None,
    no_role: str | None,
    role: str | None,
    active: bool | None,
    email_part: str | None,
    after_id: int | None,
    limit: int,
) -> list[User]:
    """Users by id after a cursor, narrowed by each filter given (`email_part`: a piece of the
    stored, lower-case email; `no_role`: a role left out)."""
    query = select(User).order_by(User.id).limit(limit)
    if district_id is not None:
        query = query.where(User.district_id == district_id)
    if no_role is not None:
        query = query.where(User.role != no_role)
    if role is not None:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.is_active.is_(active))
    if email_part:
        query = query.where(User.email.contains(email_part, autoescape=True))
    if after_id is not None:
        query = query.where(User.id > after_id)
    return list(session.scalars(query))


def grants_of(
    session: Session, user_ids: Sequence[int]
) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """The given users' granted (school ids, organization ids), two queries in all."""
    ids = list(user_ids)
    schools: dict[int, set[int]] = {}
    for user_id, school_id in session.execute(
        select(UserSchool.user_id, UserSchool.school_id).where(UserSchool.user_id.in_(ids))
    ):
        schools.setdefault(user_id, set()).add(school_id)
    orgs: dict[int, set[int]] = {}
    for user_id, org_id in session.execute(
        select(UserOrganization.user_id, UserOrganization.organization_id).where(
            UserOrganization.user_id.in_(ids)
        )
    ):
        orgs.setdefault(user_id, set()).add(org_id)
    return schools, orgs


def all_grants(session: Session) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """Every user's granted (school ids, organization ids), two queries for all users."""
    schools: dict[int, set[int]] = {}
    for user_id, school_id in session.execute(select(UserSchool.user_id, UserSchool.school_id)):
        schools.setdefault(user_id, set()).add(school_id)
    orgs: dict[int, set[int]] = {}
    for user_id, org_id in session.execute(
        select(UserOrganization.user_id, UserOrganization.organization_id)
    ):
        orgs.setdefault(user_id, set()).add(org_id)
    return schools, orgs


def district_of_school(session: Session, school_id: int) -> int | None:
    return session.scalar(select(School.district_id).where(School.id == school_id))


def existing_school_ids(session: Session, school_ids: Sequence[int]) -> set[int]:
    return set(session.scalars(select(School.id).where(School.id.in_(list(school_ids)))))


def existing_organization_ids(session: Session, organization_ids: Sequence[int]) -> set[int]:
    return set(
        session.scalars(select(Organization.id).where(Organization.id.in_(list(organization_ids))))
    )


def revoke_credentials_of(session: Session, user_id: int, now: dt.datetime) -> tuple[int, int]:
    """Revoke the user's live log-in tokens and the API keys they made: (tokens, keys)."""
    tokens = session.execute(
        update(AccessToken)
        .where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    keys = session.execute(
        update(ApiKey)
        .where(ApiKey.created_by_user_id == user_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return tokens.rowcount or 0, keys.rowcount or 0
