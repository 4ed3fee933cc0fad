"""The widget's server side: its script, its calls refused from an origin the key does not
list (readably, for the widget to say so), results with reasons, and the iframe variant framed
only by the key's origins."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.auth.principal import OPERATOR
from app.models import ApiKey, District
from app.services import api_keys, demo
from tests.conftest import statements_sent

PORTAL = "http://portal.example.org"
ELSEWHERE = "http://elsewhere.example.net"
SCRIPT = Path(__file__).resolve().parents[2] / "app" / "static" / "embed" / "partnermap.js"


def _key(db, origins=(PORTAL,), district_name="D") -> str:  # type: ignore[no-untyped-def]
    with db.session() as session:
        district = District(name=district_name, slug=district_name.lower())
        session.add(district)
        session.commit()
        _, key = api_keys.create(
            session=session,
            principal=OPERATOR,
            district_id=district.id,
            name="portal",
            scope="read",
            allowed_origins=list(origins),
        )
    return key


def _post(client: TestClient, path: str, body: dict, origin: str = PORTAL):  # type: ignore[no-untyped-def]
    return client.post(
        f"/embed/v1/{path}",
        content=json.dumps(body),
        headers={"Content-Type": "text/plain", "Origin": origin},
    )


def test_the_script_is_javascript_under_30_kb_gzipped(anon):
    response = anon.get("/embed/v1/partnermap.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "partnermap-search" in response.text
    assert len(gzip.compress(SCRIPT.read_bytes(), 9)) <= 30 * 1024


def test_hello_from_a_listed_origin_gives_the_needs(anon, db):
    key = _key(db)
    response = _post(anon, "hello", {"key": key, "lang": "en"})
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    needs = response.json()["needs"]
    assert any(n["code"] == "academic_support.tutoring" for n in needs)


def test_hello_from_an_origin_the_key_does_not_list_is_a_readable_403(anon, db):
    key = _key(db)
    response = _post(anon, "hello", {"key": key}, origin=ELSEWHERE)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    # readable by the refused page, so the widget can say why
    assert response.headers["access-control-allow-origin"] == "*"
    assert ELSEWHERE in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status"),
    [({"key": "pmk_nope_nope"}, 401), ({}, 422), ({"key": 5}, 422)],
)
def test_a_missing_or_unknown_key_is_refused_by_name(anon, db, body, status):
    response = _post(anon, "hello", body)
    assert response.status_code == status
    assert response.headers["access-control-allow-origin"] == "*"


def test_the_key_is_held_between_a_pages_calls_and_a_revoked_one_refused_at_once(anon, db):
    """As the JSON API holds a key's principal (the serving cache, issue 13): the widget's
    next call reads no key, and a revocation (here straight in the database, as another
    worker or the CLI would) is seen by the next call all the same."""
    key = _key(db)
    assert _post(anon, "hello", {"key": key}).status_code == 200  # read, then held
    with statements_sent(db) as statements:
        assert _post(anon, "hello", {"key": key}).status_code == 200
    assert not any("api_keys" in s for s in statements), statements
    with db.session() as session:
        session.execute(update(ApiKey).values(revoked_at=ApiKey.created_at))
        session.commit()
    refused = _post(anon, "hello", {"key": key})
    assert refused.status_code == 401, refused.text
    assert _post(anon, "search", {"key": key, "need": "x"}).status_code == 401


def test_the_frame_holds_the_key_between_loads_and_a_revoked_one_is_refused_at_once(anon, db):
    """The iframe's page holds its key as the widget's calls do: a second load reads no key,
    and a revocation made elsewhere (straight in the database) unframes the next load."""
    key = _key(db)
    assert anon.get("/embed/v1/frame", params={"key": key}).status_code == 200
    with statements_sent(db) as statements:
        again = anon.get("/embed/v1/frame", params={"key": key})
    assert again.status_code == 200
    assert f"frame-ancestors {PORTAL}" in again.headers["content-security-policy"]
    assert not any("api_keys" in s for s in statements), statements
    with db.session() as session:
        session.execute(update(ApiKey).values(revoked_at=ApiKey.created_at))
        session.commit()
    refused = anon.get("/embed/v1/frame", params={"key": key})
    assert refused.status_code == 403
    assert "frame-ancestors 'none'" in refused.headers["content-security-policy"]


def test_a_body_that_is_not_json_is_a_422_not_a_500(anon, db):
    response = anon.post("/embed/v1/hello", content=b"<<", headers={"Content-Type": "text/plain"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body"]


def test_search_with_a_bad_zip_is_a_422_naming_the_place(anon, db):
    key = _key(db)
    response = _post(
        anon, "search", {"key": key, "need": "academic_support.tutoring", "place": "x"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "place"]


def test_search_ranks_demo_partners_with_reasons_and_places(anon, db):
    with db.session() as session:
        demo.load(session=session)
    key = _key(db, district_name="Portal district")
    response = _post(
        anon,
        "search",
        {"key": key, "need": "academic_support.tutoring", "grade": "3", "place": "94601"},
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["point"] is not None
    assert data["results"], "the demo has tutoring partners near 94601"
    first = data["results"][0]
    assert "Tutoring" in first["reason"]
    assert {"offering_id", "title", "organization_name", "place", "distance_km"} <= set(first)


def test_the_scripts_calls_speak_the_portals_language(anon, db):
    """The custom element sends its page's `lang`: need names and reasons follow it, as the
    iframe's do (the English taxonomy and reasons were sent to Spanish pages before)."""
    with db.session() as session:
        demo.load(session=session)
    key = _key(db, district_name="Portal district")
    names = {
        lang: {
            n["code"]: n["name"]
            for n in _post(anon, "hello", {"key": key, "lang": lang}).json()["needs"]
        }
        for lang in ("es", "en")
    }
    assert names["es"]["mental_health_sel.counseling"].startswith(
        "Salud mental y aprendizaje socioemocional — "
    )
    assert names["en"]["mental_health_sel.counseling"].startswith("Mental health")
    search = {"key": key, "need": "academic_support.tutoring", "grade": "3", "place": "94601"}
    spanish = _post(anon, "search", {**search, "lang": "es"}).json()["results"]
    english = _post(anon, "search", {**search, "lang": "en"}).json()["results"]
    assert spanish[0]["reason"].startswith("Relacionado con su necesidad principal: Tutoría")
    assert english[0]["reason"].startswith("Related to your top need: Tutoring")
    assert [r["offering_id"] for r in spanish] == [r["offering_id"] for r in english]


def test_search_from_an_unlisted_origin_is_refused(anon, db):
    key = _key(db)
    response = _post(anon, "search", {"key": key, "place": "94601"}, origin=ELSEWHERE)
    assert response.status_code == 403


def test_the_frame_may_be_framed_by_the_keys_origins_only(anon, db):
    key = _key(db, origins=(PORTAL, "https://second.example.org"))
    response = anon.get("/embed/v1/frame", params={"key": key})
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert f"frame-ancestors {PORTAL} https://second.example.org" in csp
    assert "unsafe-inline" not in csp
    assert "x-frame-options" not in response.headers
    assert response.headers["content-security-policy"].count("frame-ancestors") == 1


def test_the_frame_names_the_needs_in_the_visitors_language(anon, db):
    key = _key(db)
    spanish = anon.get("/embed/v1/frame", params={"key": key, "lang": "es"})
    assert spanish.status_code == 200
    assert "Salud mental y aprendizaje socioemocional" in spanish.text
    english = anon.get("/embed/v1/frame", params={"key": key, "lang": "en"})
    assert "Salud mental" not in english.text


def test_the_frames_results_give_their_reasons_in_the_visitors_language(anon, db):
    with db.session() as session:
        demo.load(session=session)
    key = _key(db, district_name="Portal district")
    search = {"key": key, "need": "academic_support.tutoring", "grade": "3", "place": "94601"}
    spanish = anon.get("/embed/v1/frame", params={**search, "lang": "es"})
    assert spanish.status_code == 200
    assert 'class="reason">Relacionado con su necesidad principal: Tutoría' in spanish.text
    assert "Related to your top need" not in spanish.text
    english = anon.get("/embed/v1/frame", params={**search, "lang": "en"})
    assert 'class="reason">Related to your top need: Tutoring' in english.text


def test_the_frame_with_an_unknown_key_says_so_and_may_not_be_framed(anon, db):
    response = anon.get("/embed/v1/frame", params={"key": "pmk_nope_nope"})
    assert response.status_code == 403
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "unknown or was revoked" in response.text


def test_every_other_page_still_refuses_framing(anon):
    for path in ("/", "/embed/v1/example", "/embed/v1/partnermap.js"):
        response = anon.get(path)
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_the_example_page_shows_the_snippet_and_escapes_the_key(anon):
    response = anon.get("/embed/v1/example", params={"key": '"><script>x</script>'})
    assert response.status_code == 200
    assert "/embed/v1/partnermap.js" in response.text
    assert "<script>x</script>" not in response.text
