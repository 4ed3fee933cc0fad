"""HTTP for log-in, log-out, sign-up and the caller's own identity."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status

from app.deps import PrincipalDep, SessionDep, SettingsDep
from app.domain_errors import TooManyRequests
from app.schemas.accounts import SIGN_UP_DETAIL, MeOut, SignUpOut, TokenOut, UserCreate
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
