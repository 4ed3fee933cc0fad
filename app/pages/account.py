"""Sign in and out of the pages; the same log-in (and throttle) as POST /v1/auth/token."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import SessionDep, SettingsDep
from app.domain_errors import Unauthorized
from app.pages.session import CsrfCheckedDep, PagePrincipalDep, end_session, start_session
from app.pages.templating import redirect, render
from app.services import accounts

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no //host or scheme), so sign-in cannot redirect elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(
    request: Request, principal: PagePrincipalDep, next: str | None = None
) -> Response:
    return render(request, "sign_in.html", {"next": _safe_next(next), "error": None})


@router.post("/sign-in", dependencies=[CsrfCheckedDep])
def sign_in(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: PagePrincipalDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """A right email and password start a session; a wrong one shows the form again (401)."""
    throttle = request.app.state.login_throttle
    normal = accounts.normal_email(email)
    address = request.client.host if request.client else "unknown"
    context = {"next": _safe_next(next), "email": email}
    if throttle.attempt(normal, address):  # counted before the check; forgiven on success
        return render(request, "sign_in.html", context | {"error": "throttled"}, 429)
    ttl = dt.timedelta(minutes=settings.token_ttl_minutes)
    try:
        token, _ = accounts.log_in(session=session, email=normal, password=password, ttl=ttl)
    except Unauthorized:
        return render(request, "sign_in.html", context | {"error": "wrong"}, 401)
    throttle.succeeded(normal, address)
    response = redirect(_safe_next(next))
    start_session(request, response, token, settings.token_ttl_minutes)
    return response


@router.post("/sign-out", dependencies=[CsrfCheckedDep])
def sign_out(request: Request, session: SessionDep, principal: PagePrincipalDep) -> Response:
    """The session's token stops working and the cookie goes."""
    if not principal.is_anonymous:
        accounts.revoke(session=session, principal=principal)
    response = redirect("/")
    end_session(response)
    return response
