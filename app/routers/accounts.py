"""HTTP for log-in, log-out, sign-up, the caller's own identity, and finding, disabling and
enabling users."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Body, Form, Path, Query, Request, Response, status

from app.deps import PrincipalDep, SessionDep, SettingsDep
from app.domain_errors import TooManyRequests
from app.routers.params import NO_NUL, PageDep
from app.schemas.accounts import (
    SIGN_UP_DETAIL,
    MeOut,
    SignUpOut,
    TokenOut,
    UserCreate,
    UserOut,
    UserPatch,
    UserRole,
)
from app.schemas.pages import Page
from app.services import accounts as service

router = APIRouter(tags=["accounts"])


@router.post(
    "/v1/auth/token",
    response_model=TokenOut,
    summary="Log in (OAuth2 password flow) for a short-lived bearer token",
)
def log_in(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(min_length=1, max_length=320, description="Your email")],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
) -> TokenOut:
    """Send `username` (the email) and `password` as a form. The token works for
    TOKEN_TTL_MINUTES (60 by default) or until `POST /v1/auth/revoke`. After 5 failures for
    the same email from the same address the next attempts are refused (429, Retry-After)."""
    throttle = request.app.state.login_throttle
    email = service.normal_email(username)
    address = request.client.host if request.client else "unknown"
    wait = throttle.attempt(email, address)
    if wait:
        raise TooManyRequests(
            "Too many failed log-ins; wait before trying again.", retry_after=wait
        )
    ttl = dt.timedelta(minutes=settings.token_ttl_minutes)
    token, _ = service.log_in(session=session, email=email, password=password, ttl=ttl)
    throttle.succeeded(email, address)
    return TokenOut(
        access_token=token,
        expires_in=int(ttl.total_seconds()),
        expires_at=dt.datetime.now(dt.UTC) + ttl,
    )


@router.post(
    "/v1/auth/revoke",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Log out: the token sent with this request stops working",
)
def revoke(session: SessionDep, principal: PrincipalDep) -> Response:
    service.revoke(session=session, principal=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/v1/me", response_model=MeOut, summary="Who the credentials sent belong to")
def me(principal: PrincipalDep) -> MeOut:
    return MeOut(
        role=principal.role,
        user_id=principal.user_id,
        email=principal.email,
        key_id=principal.key_id,
        district_id=principal.district_id,
        school_ids=sorted(principal.school_ids),
        organization_ids=sorted(principal.organization_ids),
    )


@router.post(
    "/v1/users",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SignUpOut,
    summary="Sign up as a member of a community organization",
)
def sign_up(data: UserCreate, session: SessionDep, principal: PrincipalDep) -> SignUpOut:
    """Makes an organization member with no organizations yet; log in, then register your
    organization with `POST /v1/organizations` to become its member. It is listed publicly
    once a district verifies it. The answer is the same (202) whether or not the email had an
    account already — sign-up does not tell who has one — and an existing account is left
    as it is."""
    service.sign_up(session=session, principal=principal, email=data.email, password=data.password)
    return SignUpOut(email=service.normal_email(data.email), detail=SIGN_UP_DETAIL)


UserId = Annotated[int, Path(ge=1, le=2**31 - 1, description="User id")]


def _user_out(view: service.UserView) -> UserOut:
    user = view.user
    return UserOut(
        id=user.id,
        email=user.email,
        role=user.role,  # type: ignore[arg-type]
        district_id=user.district_id,
        school_ids=sorted(view.school_ids),
        organization_ids=sorted(view.organization_ids),
        active=user.is_active,
        created_at=user.created_at,
    )


@router.get("/v1/users", response_model=Page[UserOut], summary="Users, to find whom to disable")
def list_users(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    role: Annotated[UserRole | None, Query()] = None,
    active: Annotated[
        bool | None, Query(description="`false`: only disabled users; `true`: only active ones.")
    ] = None,
    email: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=320,
            pattern=NO_NUL,
            description="Part of the email, any case.",
            examples=["fruitvale.example"],
        ),
    ] = None,
    district_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Page[UserOut]:
    """Oldest first. The operator sees every user; a district admin the users of their own
    district (its school staff and district admins), never an operator."""
    cursor = page.cursor(near=False)
    views = service.list_page(
        session=session,
        principal=principal,
        role=role,
        active=active,
        email=email,
        district_id=district_id,
        after_id=cursor.id if cursor else None,
        limit=page.limit + 1,
    )
    next_cursor = str(views[page.limit - 1].user.id) if len(views) > page.limit else None
    items = [_user_out(v) for v in views[: page.limit]]
    return Page[UserOut](items=items, next_cursor=next_cursor, limit=page.limit)


@router.get("/v1/users/{user_id}", response_model=UserOut, summary="A user")
def get_user(user_id: UserId, session: SessionDep, principal: PrincipalDep) -> UserOut:
    """A user the caller manages; any other (another district's, an operator) is a 404."""
    return _user_out(service.get_user(session=session, principal=principal, user_id=user_id))


PATCH_EXAMPLES = {
    "disable": {
        "summary": "Disable: their tokens and API keys stop at once",
        "value": {"active": False},
    },
    "enable": {"summary": "Let them log in again", "value": {"active": True}},
}


@router.patch(
    "/v1/users/{user_id}",
    response_model=UserOut,
    summary="Disable a user (or enable them again)",
    responses={
        404: {"description": "No such user, or not one the caller manages"},
        422: {"description": "Invalid input, or the caller disabling themselves"},
    },
)
def set_active(
    user_id: UserId,
    data: Annotated[UserPatch, Body(openapi_examples=PATCH_EXAMPLES)],
    session: SessionDep,
    principal: PrincipalDep,
) -> UserOut:
    """`{"active": false}` disables the user: every log-in token they hold and every API key
    they made are revoked in the same transaction, and the next request with any of them is a
    401 on every worker; they cannot log in. `{"active": true}` lets them log in again (revoked
    credentials stay revoked). No one disables themselves (422). Sending the state the user is
    already in changes nothing. Recorded in the audit log (`action` `disable` / `enable`)."""
    view = service.set_active(
        session=session, principal=principal, user_id=user_id, active=data.active
    )
    return _user_out(view)
