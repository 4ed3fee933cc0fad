"""English and Spanish for the pages: gettext catalogs (app/locale/*/LC_MESSAGES/messages.po
for the templates, labels.po for category and language names and ranking reasons) compiled in
memory once, chosen by ?lang=, then the pm_lang cookie, then Accept-Language."""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from fastapi import Request

LANGUAGES = ("en", "es")
LANGUAGE_COOKIE = "pm_lang"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


DOMAINS = ("messages", "labels")


@lru_cache(maxsize=len(LANGUAGES) * len(DOMAINS))
def catalog(language: str, domain: str = "messages") -> gettext.NullTranslations:
    """The language's translations; English is the source text itself."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"
    if language == "en" or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as source:
        compiled = io.BytesIO()
        write_mo(compiled, read_po(source, locale=language))
    compiled.seek(0)
    return Translations(compiled)


def language_of(request: Request) -> str:
    """The visitor's language: an explicit choice, else the browser's first one we speak."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"
