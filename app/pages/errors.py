"""What a page shows when it cannot: a sign-in redirect, a refused form, a missing record, a
forbidden one, or a service that cannot reach its data (HTML for pages; the JSON API keeps its
problem+json)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.domain_errors import Forbidden, NotFound
from app.errors import RETRY_UNAVAILABLE_S, STATUS_CODES, UNAVAILABLE
from app.pages.session import CsrfRefused, PageForbidden, SignInRequired
from app.pages.templating import redirect, render

Handler = Callable[[Request, Exception], Awaitable[Response]]
# Paths that are never pages: the JSON API, OGC API, health, the OpenAPI document, assets, the
# widget's script. An unknown URL under them is the API's problem+json 404.
NOT_PAGES = ("/v1/", "/ogc", "/health", "/openapi", "/static/", "/embed/", "/docs", "/redoc")
PAGE_MODULE = "app.pages."


async def send_unavailable_page(scope: dict, receive: Any, send: Any) -> bool:
    """The "unavailable" page (503, Retry-After) sent to a request for a page, for the
    middleware that answers when the routes cannot (app.middleware.Deadline: a frozen
    database); False, nothing sent, for any other request."""
    request = Request(scope, receive)
    if not is_page(request):
        return False
    await unavailable_page(request, str(RETRY_UNAVAILABLE_S))(scope, receive, send)
    return True


def unavailable_page(request: Request, retry_after: str | None) -> Response:
    """The "unavailable" page (503) in the visitor's language, with this Retry-After."""
    page = render(request, "unavailable.html", {}, status_code=503)
    if retry_after is not None:
        page.headers["Retry-After"] = retry_after
    return page


def is_page(request: Request) -> bool:
    """Answered by a page route, or an unknown URL outside the API asked for by a browser."""
    path = request.url.path
    if path == "/v1" or path.startswith(NOT_PAGES):
        return False  # the widget's calls (app/pages/embed.py) answer problem+json too
    route = request.scope.get("route")
    endpoint = getattr(route, "endpoint", None)
    if endpoint is not None:
        return getattr(endpoint, "__module__", "").startswith(PAGE_MODULE)
    return "text/html" in request.headers.get("accept", "")


def add_page_handlers(app: FastAPI) -> None:
    """Pages answer in HTML; the JSON API's problem+json handlers still answer everything else
    (registered first by add_exception_handlers, and called from here for API requests)."""

    async def sign_in_required(request: Request, _: Exception) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect("/sign-in?next=" + quote(target, safe=""))

    async def csrf_refused(request: Request, _: Exception) -> Response:
        return render(request, "refused.html", {}, status_code=403)

    async def forbidden(request: Request, _: Exception) -> Response:
        return render(request, "forbidden.html", {}, status_code=403)

    async def not_found(request: Request, _: Exception) -> Response:
        return render(request, "not_found.html", {}, status_code=404)

    def for_pages(api: Handler, status_page: dict[int, Handler]) -> Handler:
        async def handle(request: Request, exc: Exception) -> Response:
            status = (
                404
                if isinstance(exc, NotFound)
                else 403
                if isinstance(exc, Forbidden)
                else (exc.status_code if isinstance(exc, StarletteHTTPException) else 0)
            )
            page = status_page.get(status)
            if page is not None and is_page(request):
                return await page(request, exc)
            return await api(request, exc)

        return handle

    pages = {404: not_found, 403: forbidden}
    for cls in (NotFound, Forbidden, StarletteHTTPException):
        api = app.exception_handlers[cls]
        app.add_exception_handler(cls, for_pages(api, pages))  # type: ignore[arg-type]

    invalid = app.exception_handlers[RequestValidationError]

    async def invalid_address(request: Request, exc: Exception) -> Response:
        # /organizations/0 or /schools/abc names no record: a page's 404, not a form error.
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        if is_page(request) and any(e["loc"][:1] == ("path",) for e in errors):
            return await not_found(request, exc)
        return await invalid(request, exc)

    app.add_exception_handler(RequestValidationError, invalid_address)

    # The table's 503s (the database or Redis not answering, the ranking index still being
    # built): a page says so in the visitor's language, with the API's Retry-After.
    def unavailable_for_pages(api: Handler) -> Handler:
        async def handle(request: Request, exc: Exception) -> Response:
            answer = await api(request, exc)  # logged as for the API
            if not is_page(request):
                return answer
            return unavailable_page(request, answer.headers.get("retry-after"))

        return handle

    for cls, kind in STATUS_CODES.items():
        if kind is UNAVAILABLE:
            api = app.exception_handlers[cls]
            app.add_exception_handler(cls, unavailable_for_pages(api))  # type: ignore[arg-type]
    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(PageForbidden, forbidden)
    app.add_exception_handler(CsrfRefused, csrf_refused)
