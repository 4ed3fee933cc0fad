"""The pages' Jinja2 environments, one per language (autoescaped everywhere), and render()."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.pages.i18n import LANGUAGE_COOKIE, LANGUAGES, catalog, language_of
from app.pages.reasons import translate_reason
from app.pages.session import csrf_token, set_cookies
from app.taxonomy import load_taxonomy

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


@lru_cache(maxsize=len(LANGUAGES))
def environment(language: str) -> Environment:
    """Templates speaking one language; built once, never changed after (threads share it)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(catalog(language), newstyle=True)  # type: ignore[attr-defined]
    label = catalog(language, "labels").gettext
    taxonomy = load_taxonomy()
    env.filters["category"] = lambda code: label(taxonomy.name(code))
    env.filters["label"] = label
    env.filters["reason"] = (
        (lambda text: text)
        if language == "en"
        else (lambda text: translate_reason(text, label, label))
    )
    return env


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """The page in the visitor's language, with the CSRF token its forms post back."""
    language = language_of(request)
    settings = request.app.state.settings
    html = (
        environment(language)
        .get_template(template)
        .render(
            request=request,
            language=language,
            csrf_token=csrf_token(request),
            tile_url=settings.map_tile_url,
            tile_attribution=settings.map_tile_attribution,
            principal=getattr(request.state, "page_principal", None),
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status_code)
    set_cookies(request, response)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax", httponly=True
        )
    return response


def redirect(url: str) -> RedirectResponse:
    """After a form: 303 so the browser GETs the next page."""
    return RedirectResponse(url, status_code=303)
