"""Sign-in for pages: the log-in's token in an HttpOnly, SameSite=Lax cookie (Secure over HTTPS),
resolved to the same Principal as a bearer token; a double-submit CSRF token on every form."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request, Response

from app.auth.policy import door
from app.auth.principal import NOBODY, Principal
from app.deps import SessionDep
from app.domain_errors import Forbidden, Unauthorized

SESSION_COOKIE = "pm_session"
CSRF_COOKIE = "pm_csrf"
CSRF_FIELD = "csrf_token"


class CsrfRefused(Exception):
    """A form came without the CSRF token its page was given."""


class SignInRequired(Exception):
    """A page for signed-in users was opened without a session."""


class PageForbidden(Exception):
    """The signed-in user's role may not do what this page does."""


def admit(principal: Principal, method: str, api_path: str) -> None:
    """A page that performs an API operation asks the permission matrix about that operation,
    so pages and the JSON API follow the one table."""
    try:
        door(principal, method, api_path)
    except Unauthorized:
        raise SignInRequired from None
    except Forbidden:
        raise PageForbidden from None


def csrf_token(request: Request) -> str:
    """This visitor's CSRF token: the cookie's, or a new one `set_cookies` will send."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if token is None:
        token = request.state.new_csrf = secrets.token_urlsafe(32)
    return token


def set_cookies(request: Request, response: Response) -> None:
    """Send a CSRF cookie the page has just issued."""
    new = getattr(request.state, "new_csrf", None)
    if new is not None:
        _cookie(request, response, CSRF_COOKIE, new, max_age=None)


def _cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def start_session(request: Request, response: Response, token: str, minutes: int) -> None:
    """Sign the browser in with a log-in's token; a fresh CSRF token goes with it."""
    _cookie(request, response, SESSION_COOKIE, token, max_age=minutes * 60)
    _cookie(request, response, CSRF_COOKIE, secrets.token_urlsafe(32), max_age=None)


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


async def check_csrf(request: Request) -> None:
    """Refuse a form whose token is missing or is not this browser's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.cookies.get(CSRF_COOKIE)
    if not isinstance(sent, str) or not expected or not secrets.compare_digest(sent, expected):
        raise CsrfRefused


def page_principal(request: Request, session: SessionDep) -> Principal:
    """Who is signed in to the pages (nobody when the cookie is missing or has expired)."""
    from app.services import accounts

    token = request.cookies.get(SESSION_COOKIE)
    principal = NOBODY
    if token:
        try:
            principal = accounts.principal_for_token(
                session=session, token=token, request_id=getattr(request.state, "request_id", None)
            )
        except Unauthorized:
            principal = NOBODY
    request.state.page_principal = principal
    return principal


def signed_in(principal: Annotated[Principal, Depends(page_principal)]) -> Principal:
    if principal.is_anonymous:
        raise SignInRequired
    return principal


PagePrincipalDep = Annotated[Principal, Depends(page_principal)]
SignedInDep = Annotated[Principal, Depends(signed_in)]
CsrfCheckedDep = Depends(check_csrf)
