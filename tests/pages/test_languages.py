"""English and Spanish: the browser's language is followed, ?lang= switches and is kept, and
every string in the templates has its Spanish translation."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app.pages.i18n import LOCALE_DIR
from app.pages.templating import TEMPLATE_DIR


def test_the_language_follows_the_browser(anon):
    page = anon.get("/", headers={"accept-language": "es-MX,es;q=0.9,en;q=0.5"})
    assert '<html lang="es">' in page.text
    assert "Buscar aliados comunitarios" in page.text


def test_english_is_the_default(anon):
    page = anon.get("/", headers={"accept-language": "fr-FR"})
    assert '<html lang="en">' in page.text and "Find community partners" in page.text


def test_the_language_can_be_switched_and_is_remembered(anon):
    assert "Buscar aliados" in anon.get("/taxonomy?lang=es").text
    assert "Categorías de colaboración" in anon.get("/taxonomy").text
    assert "Categories of partnership" in anon.get("/taxonomy?lang=en").text


def test_every_template_string_has_a_spanish_translation():
    extracted = {
        message[2]
        for message in extract_from_dir(
            TEMPLATE_DIR, method_map=[("**.html", "jinja2")], options_map={"**.html": {}}
        )
    }
    with (LOCALE_DIR / "es" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source)
    translated = {m.id for m in catalog if m.id and m.string}
    assert extracted, "no strings found in the templates"
    assert extracted - translated == set()
