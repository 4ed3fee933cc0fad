"""Spanish category names, language names and ranking reasons on the pages: every label has its
translation, and the reasons the ranker writes for the Oakland demo read back phrase by phrase."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from app.demo.oakland import load_oakland
from app.models import NeedsAssessment, Offering
from app.pages.i18n import LOCALE_DIR, catalog
from app.pages.reasons import GRADES, LEADS, PHRASES, WARNINGS, translate_reason, unknown_phrases
from app.services import demo
from app.taxonomy import load_taxonomy
from matching.vocab import LANGUAGE_NAMES


def _translated() -> dict[str, str]:
    with (LOCALE_DIR / "es" / "LC_MESSAGES" / "labels.po").open("rb") as source:
        return {m.id: m.string for m in read_po(source) if m.id and m.string}


def test_every_category_and_language_name_has_a_spanish_label():
    wanted = {c.name for c in load_taxonomy().categories} | set(LANGUAGE_NAMES.values())
    assert wanted - set(_translated()) == set()


def test_every_reason_phrase_has_a_spanish_label_with_the_same_values():
    phrases = (
        *LEADS,
        *PHRASES,
        *WARNINGS,
        *GRADES,
        " and %(n)s more need",
        " and %(n)s more needs",
    )
    labels = _translated()
    for phrase in phrases:
        assert phrase in labels, phrase
        assert sorted(_names(phrase)) == sorted(_names(labels[phrase])), phrase


def _names(msgid: str) -> list[str]:
    import re

    return re.findall(r"%\((\w+)\)s", msgid)


def _es(text: str) -> str:
    label = catalog("es", "labels").gettext
    return translate_reason(text, label, label)


@pytest.mark.parametrize(
    ("english", "spanish"),
    [
        (
            "Meets your top need: Counselling and therapy (Spanish) and 2 more needs, "
            "serves your area (3.2 km), free, serves grades 6\u20138",
            "Cubre su necesidad principal: Consejería y terapia (español) y 2 necesidades más, "
            "atiende su zona (3.2 km), gratis, atiende grados 6\u20138",
        ),
        (
            "Related to your priority-2 need: Science, technology, engineering and mathematics, "
            "12.0 km, fee $1,200, serves grade K \u2014 at capacity; serves grades 6\u20138, "
            "not grades K\u20135; not offered in Spanish or Vietnamese",
            "Relacionado con su necesidad de prioridad 2: Ciencia, tecnología, ingeniería y "
            "matemáticas, 12.0 km, tarifa $1,200, atiende grado K \u2014 sin plazas; atiende "
            "grados 6\u20138, no grados K\u20135; no se ofrece en español o vietnamita",
        ),
        (
            "Related to your top need: Tutoring (via Homework help) (Spanish), serves your area "
            "(about 2.0 km from an approximate location), free, serves grades K\u20135, past "
            "partner of this school and 3 other schools",
            "Relacionado con su necesidad principal: Tutoría (vía Ayuda con las tareas) (español), "
            "atiende su zona (unos 2.0 km desde una ubicación aproximada), gratis, atiende grados "
            "K\u20135, ya colaboró con esta escuela y 3 escuelas más",
        ),
        (
            "Needs related to Early literacy (priority 1), 4.1 km, high need (0.82)",
            "Necesita algo relacionado con Alfabetización temprana (prioridad 1), 4.1 km, "
            "necesidad alta (0.82)",
        ),
    ],
)
def test_a_reason_reads_back_into_spanish(english, spanish):
    assert unknown_phrases(english) == []
    assert _es(english) == spanish


def test_a_phrase_it_does_not_know_stays_as_it_came():
    text = "Meets your top need: Tutoring, 3.0 km, a brand-new phrase"
    assert unknown_phrases(text) == ["a brand-new phrase"]
    assert _es(text) == "Cubre su necesidad principal: Tutoría, 3.0 km, a brand-new phrase"


@pytest.fixture
def oakland(db):  # type: ignore[no-untyped-def]
    with db.session() as session:
        demo.load(session=session, data=load_oakland())
        schools = session.scalars(
            select(NeedsAssessment.school_id).distinct().order_by(NeedsAssessment.school_id)
        ).all()
        # Organizations with offerings to match schools with (one demo organization has none:
        # a 422), in a fixed order: PostgreSQL returns unordered rows as they lie on disk.
        organizations = session.scalars(
            select(Offering.organization_id).distinct().order_by(Offering.organization_id)
        ).all()
    return schools, organizations


def test_every_reason_the_ranker_writes_for_the_demo_is_known(client, oakland):
    schools, organizations = oakland
    reasons = [
        item["reason"]
        for school_id in schools
        for item in client.get(f"/v1/schools/{school_id}/matches", params={"limit": 20}).json()[
            "items"
        ]
    ]
    reasons += [
        item["reason"]
        for organization_id in organizations[:10]
        for item in client.get(
            f"/v1/organizations/{organization_id}/school-matches", params={"limit": 10}
        ).json()["items"]
    ]
    assert reasons
    unknown = {p for r in reasons for p in unknown_phrases(r)}
    assert unknown == set()
    assert all(_es(r) != r for r in reasons)


def test_the_school_page_in_spanish_shows_spanish_reasons_and_category_names(
    client, anon, db, oakland
):
    from tests.pages.test_admin_pages import sign_in

    school_id = oakland[0][0]
    sign_in(anon, db, "staff@school.test", "school_staff", schools=[school_id])
    page = anon.get(f"/schools/{school_id}?lang=es")
    assert page.status_code == 200
    assert "su necesidad" in page.text  # "Cubre su necesidad principal: …"
    assert "Meets your" not in page.text and "Related to your" not in page.text
