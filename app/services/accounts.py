"""Use cases for accounts: who a request comes from, log-in and log-out, sign-up, users."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.auth import credentials, origins, passwords
from app.auth.principal import (
    ADMIN,
    DISTRICT_ADMIN,
    KEY_SCOPES,
    OPERATOR,
    ORG_MEMBER,
    SCHOOL_STAFF,
    USER_ROLES,
    Principal,
)
from app.db import unit_of_work
from app.domain_errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from app.models import AccessToken, ApiKey, User, UserOrganization, UserSchool
from app.repositories import accounts as repo
from app.services import audit
from app.services.serving_cache import MISSING, ServingCache

log = logging.getLogger("partnermap.auth")
# last_used_at is written at most this often per key and process: a busy portal must not turn
# every read into a write.
TOUCH_EVERY = dt.timedelta(minutes=1)
_touched: dict[str, dt.datetime] = {}  # by key prefix: random, never reused like ids


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def principal_for_token(
    *, session: Session, token: str, request_id: str | None, cache: ServingCache | None = None
) -> Principal:
    """The principal of a bearer token; with a cache, looked up again only after a write to
    the accounts (any worker's) or a few seconds, and its expiry checked on every request."""
    digest = credentials.digest(token)
    if cache is None:
        principal, expires_at = _token_principal(session, digest)
    else:
        principal, expires_at = cache.get(
            session, "accounts", digest, lambda: _token_principal(session, digest)
        )
    if expires_at <= _now():
        raise Unauthorized("The bearer token has expired or was revoked; log in again.")
    return dataclasses.replace(principal, request_id=request_id)


async def held_principal(
    *, token: str, request_id: str | None, cache: ServingCache | None
) -> Principal | None:
    """The token's principal if the cache holds it under the accounts' version as the worker's
    watch reads it now (ServingCache.peek: no session, no thread), else None: then
    principal_for_token reads."""
    if cache is None:
        return None
    held = await cache.peek("accounts", credentials.digest(token))
    if held is MISSING:
        return None
    principal, expires_at = held
    if expires_at <= _now():
        raise Unauthorized("The bearer token has expired or was revoked; log in again.")
    return dataclasses.replace(principal, request_id=request_id)


def _token_principal(session: Session, digest: str) -> tuple[Principal, dt.datetime]:
    found = repo.token_with_user(session, digest)
    if found is None:
        raise Unauthorized("The bearer token is unknown; log in at POST /v1/auth/token.")
    row, user = found
    if row.revoked_at is not None or row.expires_at <= _now() or not user.is_active:
        raise Unauthorized("The bearer token has expired or was revoked; log in again.")
    schools, orgs = repo.grants(session, user.id)
    principal = Principal(
        role=user.role,
        user_id=user.id,
        email=user.email,
        district_id=user.district_id,
        school_ids=schools,
        organization_ids=orgs,
        token_id=row.id,
    )
    return principal, row.expires_at


@dataclasses.dataclass(frozen=True)
class HeldKey:
    """What a request needs of an active API key, as a worker's serving cache holds it."""

    principal: Principal  # without a request id
    key_id: int
    allowed_origins: frozenset[str]
    prefix: str
    last_used_at: dt.datetime | None  # as read; this process's later touches are in _touched


def principal_for_key(
    *,
    session: Session,
    text: str,
    origin: str | None,
    request_id: str | None,
    cache: ServingCache | None = None,
) -> Principal:
    """The district principal of an API key. A browser request (it has an Origin) from an
    origin the key does not allow is refused even though the key is good. With a cache, the
    key is read again only after a write to the accounts (any worker's: a revoked key, a
    disabled owner, changed origins) or a few seconds; the origin is checked on every
    request, and the key's use recorded at most once a minute (_touch)."""
    held = _held_key_of(session, text, cache)
    principal = _key_principal(held, origin, request_id)
    _touch(session, held.key_id, held.prefix, held.last_used_at)
    return principal


async def held_key_principal(
    *, text: str, origin: str | None, request_id: str | None, cache: ServingCache | None
) -> Principal | None:
    """The key's principal if the cache holds it under the accounts' version as the worker's
    watch reads it now (as held_principal for tokens: no session, no thread), its origin
    checked; None when nothing is held or the key's use is due to be recorded: then
    principal_for_key reads and records it."""
    if cache is None:
        return None
    held = await cache.peek("accounts", _key_entry(text))
    if held is MISSING:
        return None
    principal = _key_principal(held, origin, request_id)
    return None if _touch_due(held.prefix, held.last_used_at, _now()) else principal


def _key_entry(text: str) -> tuple[str, str]:
    """A key's place in the serving cache: by digest (the secret is never kept), apart from
    the tokens' digests."""
    return ("api_key", credentials.digest(text))


def _held_key_of(session: Session, text: str, cache: ServingCache | None) -> HeldKey:
    """The key as the serving cache holds it (read again after a write to the accounts, or a
    few seconds), or read now without a cache."""
    if cache is None:
        return _held_key(session, text)
    return cache.get(session, "accounts", _key_entry(text), lambda: _held_key(session, text))


def _held_key(session: Session, text: str) -> HeldKey:
    key = _active_key(session, text)
    principal = Principal(role=KEY_SCOPES[key.scope], key_id=key.id, district_id=key.district_id)
    origins = frozenset(key.allowed_origins or ())
    return HeldKey(principal, key.id, origins, key.prefix, key.last_used_at)


def _key_principal(held: HeldKey, origin: str | None, request_id: str | None) -> Principal:
    if origin is not None and origin not in held.allowed_origins:
        raise Forbidden(f"This API key may not be used from the origin {origin}.")
    return dataclasses.replace(held.principal, request_id=request_id)


def key_origins(*, session: Session, text: str, cache: ServingCache | None = None) -> list[str]:
    """The origins an active API key allows, in order (for an iframe's frame-ancestors); an
    unknown or revoked key is refused as in principal_for_key. With a cache the key is held
    as principal_for_key holds it (read again after a write to the accounts, or a few
    seconds), so an iframe's page loads do not each read it."""
    held = _held_key_of(session, text, cache)
    return sorted(held.allowed_origins)


def _active_key(session: Session, text: str) -> ApiKey:
    """The stored key a presented secret names; unknown, mistyped or revoked keys are refused."""
    parts = credentials.split_key(text)
    key = repo.key_by_prefix(session, parts[0]) if parts else None
    if parts is None or key is None or not credentials.same_digest(parts[1], key.secret_hash):
        raise Unauthorized("The API key is unknown.")
    if key.revoked_at is not None:
        raise Unauthorized("The API key was revoked.")
    return key


def _touch_due(prefix: str, last_used: dt.datetime | None, now: dt.datetime) -> bool:
    seen = max(filter(None, (last_used, _touched.get(prefix))), default=None)
    return seen is None or now - seen >= TOUCH_EVERY


def _touch(session: Session, key_id: int, prefix: str, last_used: dt.datetime | None) -> None:
    now = _now()
    if not _touch_due(prefix, last_used, now):
        return
    _touched[prefix] = now
    # Its own short transaction, before the request's work begins.
    repo.touch_key(session, key_id, now)
    session.commit()


def log_in(*, session: Session, email: str, password: str, ttl: dt.timedelta) -> tuple[str, User]:
    """A new bearer token for the right email and password; the plaintext leaves only here."""
    user = repo.user_by_email(session, normal_email(email))
    if user is None:
        passwords.burn_time(password)
        raise Unauthorized("Wrong email or password.")
    if not passwords.verify_password(user.password_hash, password) or not user.is_active:
        raise Unauthorized("Wrong email or password.")
    token = credentials.new_token()
    row = AccessToken(
        user_id=user.id, token_hash=credentials.digest(token), expires_at=_now() + ttl
    )
    actor = Principal(role=user.role, user_id=user.id, district_id=user.district_id)
    with unit_of_work(session, conflict="Log-in clashed with another; try again."):
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor,
            action="log_in",
            resource_type="token",
            resource_id=row.id,
            district_id=user.district_id,
        )
    return token, user


def issue_token(*, session: Session, user_id: int, ttl: dt.timedelta) -> str:
    """A token without a password (tests and the CLI's operator tools)."""
    token = credentials.new_token()
    session.add(
        AccessToken(user_id=user_id, token_hash=credentials.digest(token), expires_at=_now() + ttl)
    )
    session.commit()
    return token


def revoke(*, session: Session, principal: Principal) -> None:
    """Log out: the token the request came with stops working at once."""
    row = repo.token(session, principal.token_id)
    if row is None:
        raise Forbidden("Only a log-in token can be revoked here.")
    with unit_of_work(session, conflict="The token changed meanwhile."):
        row.revoked_at = _now()
        audit.record(
            session,
            principal,
            action="revoke",
            resource_type="token",
            resource_id=row.id,
            district_id=principal.district_id,
            fields=["revoked_at"],
        )


def normal_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    *,
    session: Session,
    principal: Principal,
    email: str,
    password: str,
    role: str,
    district_id: int | None = None,
    school_ids: Sequence[int] = (),
    organization_ids: Sequence[int] = (),
) -> User:
    """Add a user with their grants; the grants must fit the role (a district admin has a
    district and nothing else, school staff have schools, members have organizations)."""
    if role not in USER_ROLES:
        raise InvalidInput(["body", "role"], f"role must be one of {', '.join(USER_ROLES)}.")
    check_password(password)
    email = normal_email(email)
    _check_grants(session, role, district_id, school_ids, organization_ids)
    if role == SCHOOL_STAFF and district_id is None and school_ids:
        district_id = repo.district_of_school(session, school_ids[0])
    if repo.user_by_email(session, email) is not None:
        raise Conflict("An account with this email exists; log in instead.")
    user = User(
        email=email,
        password_hash=passwords.hash_password(password),
        role=role,
        district_id=district_id,
        is_active=True,
    )
    with unit_of_work(session, conflict="An account with this email exists; log in instead."):
        session.add(user)
        session.flush()
        session.add_all(UserSchool(user_id=user.id, school_id=s) for s in set(school_ids))
        session.add_all(
            UserOrganization(user_id=user.id, organization_id=o) for o in set(organization_ids)
        )
        audit.record(
            session,
            principal,
            action="create",
            resource_type="user",
            resource_id=user.id,
            district_id=district_id,
            fields=["email", "password", "role", "district_id", "schools", "organizations"],
        )
    return user


def sign_up(*, session: Session, principal: Principal, email: str, password: str) -> None:
    """Self sign-up as an organization member. An email that has an account already gets the
    same answer, as slowly (the password is hashed either way), and nothing changes: sign-up
    must not tell who has an account. Its owner logs in as before."""
    check_password(password)
    if repo.user_by_email(session, normal_email(email)) is not None:
        passwords.hash_password(password)  # what making the account would have cost
        return
    try:
        create_user(
            session=session, principal=principal, email=email, password=password, role=ORG_MEMBER
        )
    except Conflict:
        return  # the same email signed up at the same moment: one account, the same answer


def check_password(password: str) -> None:
    if not passwords.MIN_LENGTH <= len(password) <= passwords.MAX_LENGTH:
        raise InvalidInput(
            ["body", "password"],
            f"Passwords are {passwords.MIN_LENGTH} to {passwords.MAX_LENGTH} characters long.",
        )


def _check_grants(
    session: Session,
    role: str,
    district_id: int | None,
    school_ids: Sequence[int],
    organization_ids: Sequence[int],
) -> None:
    if role == DISTRICT_ADMIN and district_id is None:
        raise InvalidInput(["district"], "A district admin needs a district.")
    if school_ids and role != SCHOOL_STAFF:
        raise InvalidInput(["schools"], "Only school staff are granted schools.")
    if organization_ids and role != ORG_MEMBER:
        raise InvalidInput(["organizations"], "Only organization members are granted those.")
    found = repo.existing_school_ids(session, school_ids)
    if missing := sorted(set(school_ids) - found):
        raise InvalidInput(["schools"], f"No school has id {missing[0]}.")
    found = repo.existing_organization_ids(session, organization_ids)
    if missing := sorted(set(organization_ids) - found):
        raise InvalidInput(["organizations"], f"No organization has id {missing[0]}.")


def add_membership(session: Session, principal: Principal, organization_id: int) -> None:
    """Make the caller a member of an organization they just registered (same transaction)."""
    if principal.role == ORG_MEMBER and principal.user_id is not None:
        session.add(UserOrganization(user_id=principal.user_id, organization_id=organization_id))


def list_users(*, session: Session) -> list[tuple[User, frozenset[int], frozenset[int]]]:
    """Every user with their school and organization grants (three queries in all)."""
    schools, orgs = repo.all_grants(session)
    return [
        (u, frozenset(schools.get(u.id, ())), frozenset(orgs.get(u.id, ())))
        for u in repo.users(session)
    ]


def find_user(*, session: Session, ref: str) -> User:
    """A user by id or email (the CLI's way of naming one)."""
    user = (
        repo.user(session, int(ref))
        if ref.isdigit()
        else repo.user_by_email(session, normal_email(ref))
    )
    if user is None:
        raise NotFound(f"No user has the id or email {ref!r}.")
    return user


@dataclasses.dataclass(frozen=True)
class UserView:
    """A user with their grants, as the users endpoints show them."""

    user: User
    school_ids: frozenset[int]
    organization_ids: frozenset[int]


def _views(session: Session, users: Sequence[User]) -> list[UserView]:
    schools, orgs = repo.grants_of(session, [u.id for u in users])
    return [
        UserView(u, frozenset(schools.get(u.id, ())), frozenset(orgs.get(u.id, ()))) for u in users
    ]


def _reaches(principal: Principal, user: User) -> bool:
    """Whose account a caller manages: the operator everyone's; a district admin the users of
    their own district (school staff, fellow district admins), never an operator's."""
    if principal.is_admin:
        return True
    return (
        principal.role == DISTRICT_ADMIN
        and not principal.is_key
        and user.role != ADMIN
        and user.district_id is not None
        and user.district_id == principal.district_id
    )


def list_page(
    *,
    session: Session,
    principal: Principal,
    role: str | None,
    active: bool | None,
    email: str | None,
    district_id: int | None,
    after_id: int | None,
    limit: int,
) -> list[UserView]:
    """A page of the users the caller manages (see `_reaches`), by id, with their grants."""
    exclude = None
    if not principal.is_admin:
        if principal.role != DISTRICT_ADMIN or principal.is_key:
            raise Forbidden("Only the operator and district admins list users.")
        if district_id is not None and district_id != principal.district_id:
            return []  # another district's users are none of theirs
        district_id, exclude = principal.district_id, ADMIN
    users = repo.users_page(
        session,
        district_id=district_id,
        no_role=exclude,
        role=role,
        active=active,
        email_part=normal_email(email) if email else None,
        after_id=after_id,
        limit=limit,
    )
    return _views(session, users)


def _reachable_user(session: Session, principal: Principal, user_id: int) -> User:
    user = repo.user(session, user_id)
    if user is None or not _reaches(principal, user):
        # Another district's users, and operators, are not the caller's to see: as missing.
        raise NotFound(f"No user has id {user_id}.")
    return user


def get_user(*, session: Session, principal: Principal, user_id: int) -> UserView:
    """One user the caller manages, with their grants."""
    return _views(session, [_reachable_user(session, principal, user_id)])[0]


def set_active(*, session: Session, principal: Principal, user_id: int, active: bool) -> UserView:
    """Disable or enable a user the caller manages; no one disables themselves. Disabling
    revokes, in the same transaction, every log-in token the user holds and every API key they
    made; the write moves the accounts serving version, so every worker's cached principal of
    those tokens and keys ends at its next request (app/services/serving_cache.py). Enabling
    again lets the user log in; revoked tokens and keys stay revoked. Asking for the state the
    user is in changes and records nothing."""
    user = _reachable_user(session, principal, user_id)
    if not active and user.id == principal.user_id:
        raise InvalidInput(
            ["body", "active"],
            "You cannot disable your own account; another admin or the operator can.",
        )
    if user.is_active != active:
        with unit_of_work(session, conflict="The user changed meanwhile; try again."):
            user.is_active = active
            fields = ["is_active"]
            if not active:
                tokens, keys = repo.revoke_credentials_of(session, user.id, _now())
                fields += ["tokens.revoked_at"] * bool(tokens)
                fields += ["api_keys.revoked_at"] * bool(keys)
            audit.record(
                session,
                principal,
                action="enable" if active else "disable",
                resource_type="user",
                resource_id=user.id,
                district_id=user.district_id,
                fields=fields,
            )
        if not active:
            origins.changed()  # a revoked key's origins leave every worker's CORS list
    return _views(session, [user])[0]


def tool_token(*, session: Session, email: str, ttl: dt.timedelta) -> str:
    """A bearer token for an operator account the command line's own tools call the API with
    (benchmarks); made, with a random password no one knows, when missing."""
    import secrets

    user = repo.user_by_email(session, normal_email(email))
    if user is None:
        user = create_user(
            session=session,
            principal=OPERATOR,
            email=email,
            password=secrets.token_urlsafe(24),
            role=ADMIN,
        )
    return issue_token(session=session, user_id=user.id, ttl=ttl)
