"""What a page shows when it cannot: a sign-in redirect, a refused form, a missing record."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import Response

from app.pages.session import CsrfRefused, PageForbidden, SignInRequired
from app.pages.templating import redirect, render


def add_page_handlers(app: FastAPI) -> None:
    """Pages answer in HTML; the JSON API's problem+json handlers are untouched."""

    async def sign_in_required(request: Request, _: Exception) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect("/sign-in?next=" + quote(target, safe=""))

    async def csrf_refused(request: Request, _: Exception) -> Response:
        return render(request, "refused.html", {}, status_code=403)

    async def forbidden(request: Request, _: Exception) -> Response:
        return render(request, "forbidden.html", {}, status_code=403)

    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(PageForbidden, forbidden)
    app.add_exception_handler(CsrfRefused, csrf_refused)
