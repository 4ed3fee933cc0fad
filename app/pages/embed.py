"""The widget for district portals, under /embed/v1: its script, the two calls it makes, the
iframe variant for portals that cannot run scripts, and a live example page.

The script's calls are CORS "simple" requests (POST, text/plain body holding the key), so a
browser sends no pre-flight and can read every answer, including a refusal: each answer under
/embed/v1 carries `Access-Control-Allow-Origin: *` (PortalCORS leaves these paths to this
module, and nothing here reads cookies). Whether a page may use the widget is the key's
origin allowlist, checked against the request's Origin by `accounts.principal_for_key`, the
same check the JSON API makes. The iframe's page is framed only by the key's origins
(`frame-ancestors`), instead of the `X-Frame-Options: DENY` every other answer carries.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.auth.principal import NOBODY
from app.deps import RankingIndexDep, ServingCacheDep, SessionDep, SettingsDep
from app.domain_errors import InvalidInput, Unauthorized
from app.middleware import tile_origin
from app.pages.i18n import LANGUAGES
from app.pages.public import listed, ranked
from app.pages.search import parse, place_of
from app.pages.templating import environment, render
from app.services import accounts
from app.services.serving_cache import ServingCache
from app.taxonomy import load_taxonomy

router = APIRouter(prefix="/embed/v1", include_in_schema=False)
SCRIPT = Path(__file__).resolve().parent.parent / "static" / "embed" / "partnermap.js"
MAX_BODY = 4096
FRAME_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: {tiles}; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}"
)


async def _body(request: Request) -> dict[str, Any]:
    """The widget's call: a small JSON object sent as text/plain (no pre-flight)."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise InvalidInput(["body"], f"The widget's request is at most {MAX_BODY} bytes.")
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise InvalidInput(["body"], "The widget's request is a JSON object.") from None
    if not isinstance(data, dict):
        raise InvalidInput(["body"], "The widget's request is a JSON object.")
    return data


BodyDep = Annotated[dict[str, Any], Depends(_body)]


def _key(data: dict[str, Any]) -> str:
    key = data.get("key")
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput(["body", "key"], "The widget needs the district's key (data-key).")
    return key.strip()


def _admit(
    request: Request, session: Any, data: dict[str, Any], cache: ServingCache | None
) -> None:
    """The key is good and allows the calling page's origin (403 problem+json if not). The
    key is held as the JSON API holds it (the serving cache: read again after any write to
    the accounts on any worker, or a few seconds), so a page's calls do not each read it."""
    accounts.principal_for_key(
        session=session,
        text=_key(data),
        origin=request.headers.get("origin"),
        request_id=getattr(request.state, "request_id", None),
        cache=cache,
    )


def _language(data: dict[str, Any]) -> str:
    lang = str(data.get("lang") or "en")[:2].lower()
    return lang if lang in LANGUAGES else "en"


@router.get("/partnermap.js")
def widget_script() -> Response:
    """The custom element <partnermap-search>: plain JavaScript, no build step."""
    return Response(
        SCRIPT.read_bytes(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.post("/hello")
def widget_hello(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    serving_cache: ServingCacheDep,
    data: BodyDep,
) -> dict[str, Any]:
    """What the widget needs to draw its form, once the key allows the page's origin."""
    _admit(request, session, data, serving_cache)
    category = environment(_language(data)).filters["category"]  # names in the page's language
    return {
        "needs": [
            {"code": c.code, "name": f"{category(c.parent)} — {category(c.code)}"}
            for c in load_taxonomy().categories
            if c.parent
        ],
        "tiles": settings.map_tile_url,
        "attribution": settings.map_tile_attribution,
    }


@router.post("/search")
def widget_search(
    request: Request,
    session: SessionDep,
    ranking_index: RankingIndexDep,
    settings: SettingsDep,
    serving_cache: ServingCacheDep,
    data: BodyDep,
) -> dict[str, Any]:
    """Partners for a need near a place, ranked with their reasons, as the public sees them."""
    _admit(request, session, data, serving_cache)
    fields = {k: str(data[k]) for k in ("need", "grade", "place", "q") if data.get(k) is not None}
    form, errors = parse(fields)
    point = None
    if form is not None:
        point, place_error = place_of(form)
        if place_error:
            errors["place"] = place_error
    if form is None or errors:
        raise InvalidInput(
            ["body", *sorted(errors)[:1]], "; ".join(f"{k}: {v}" for k, v in errors.items())
        )
    reason = environment(_language(data)).filters["reason"]  # as the page's language says it
    # The key admits the page; the results are the public's (verified partners only).
    if form.need and point:
        results = ranked(session, ranking_index, settings, NOBODY, form, point)
    else:
        results = listed(session, NOBODY, form, point)
    return {
        "point": None if point is None else {"lat": point.lat, "lon": point.lon},
        "results": [
            {
                "offering_id": r["offering_id"],
                "title": r["title"],
                "organization_name": r["organization_name"],
                "reason": reason(r["reason"]),
                "distance_km": r["distance_km"],
                "place": r["place"],
            }
            for r in results
        ],
    }


@router.get("/frame", response_class=HTMLResponse)
def widget_frame(
    request: Request,
    session: SessionDep,
    ranking_index: RankingIndexDep,
    settings: SettingsDep,
    serving_cache: ServingCacheDep,
    key: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The iframe variant: the search as a plain form, framed only by the key's origins (the
    key held as the widget's calls hold it)."""
    try:
        ancestors = accounts.key_origins(session=session, text=key, cache=serving_cache)
    except Unauthorized:
        ancestors = []
    form, errors = parse({k: v for k, v in request.query_params.items() if k != "key"})
    results = point = None
    if form is not None and ancestors:
        point, place_error = place_of(form)
        if place_error:
            errors["place"] = place_error
        elif form.need and point:
            results = ranked(session, ranking_index, settings, NOBODY, form, point)
        elif any(v is not None for v in form.model_dump().values()):
            results = listed(session, NOBODY, form, point)
    response = render(
        request,
        "embed_frame.html",
        {
            "key": key,
            "known": bool(ancestors),
            "form": form,
            "errors": errors,
            "results": results,
            "point": point,
            "taxonomy": load_taxonomy(),
        },
        status_code=200 if ancestors else 403,
    )
    tiles = tile_origin(settings.map_tile_url)
    response.headers["Content-Security-Policy"] = FRAME_CSP.format(
        tiles=tiles, ancestors=" ".join(ancestors) or "'none'"
    )
    return response


@router.get("/example", response_class=HTMLResponse)
def widget_example(
    request: Request, key: Annotated[str, Query(max_length=200)] = ""
) -> HTMLResponse:
    """A page showing the snippet, live when a key is given (?key=pmk_…)."""
    return render(
        request,
        "embed_example.html",
        {"key": key, "base": str(request.base_url).rstrip("/")},
    )
