"""The organization form's service area: a radius, or an area drawn on the map — sent as the
GeoJSON field, which also works with no script and no tiles (pasted); bad GeoJSON is a 422
naming the field and registers nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.models import Organization
from app.pages.session import CSRF_COOKIE, SESSION_COOKIE
from tests.conftest import user_token

AREA = {
    "type": "Polygon",
    "coordinates": [
        [[-122.30, 37.75], [-122.15, 37.75], [-122.15, 37.85], [-122.30, 37.85], [-122.30, 37.75]]
    ],
}
BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [[-122.3, 37.75], [-122.15, 37.85], [-122.15, 37.75], [-122.3, 37.85], [-122.3, 37.75]]
    ],
}


@pytest.fixture
def member(anon, db):  # type: ignore[no-untyped-def]
    _, token = user_token(db, "director@club.test", "org_member")
    anon.cookies.set(SESSION_COOKIE, token)
    anon.get("/sign-in")
    return anon


def _register(member, **fields):  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": member.cookies[CSRF_COOKIE],
        "name": "Fruitvale Reading Circle",
        "type": "nonprofit",
        "postal_code": "94601",
        **fields,
    }
    return member.post("/my/organizations/new", data=data, follow_redirects=False)


def _area(client, response) -> dict:  # type: ignore[no-untyped-def]
    org_id = int(response.headers["location"].rsplit("/", 1)[1])
    return client.get(f"/v1/organizations/{org_id}").json()["service_area"]


def _count(db) -> int:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Organization))


def test_the_form_offers_a_drawn_area_with_a_geojson_fallback(member):
    page = member.get("/my/organizations/new").text
    assert 'id="area-map"' in page and 'name="service_area_geojson"' in page
    assert 'value="polygon"' in page


def test_a_drawn_area_registers_as_the_polygon(member, client):
    response = _register(member, area_kind="polygon", service_area_geojson=json.dumps(AREA))
    assert response.status_code == 303, response.text
    area = _area(client, response)
    assert area["kind"] == "polygon"
    assert area["geometry"]["type"] in ("Polygon", "MultiPolygon")  # stored as MultiPolygon


def test_a_pasted_feature_is_read_for_its_geometry_without_choosing(member, client):
    feature = {"type": "Feature", "properties": {}, "geometry": AREA}
    response = _register(member, service_area_geojson=json.dumps(feature))
    assert response.status_code == 303, response.text
    assert _area(client, response)["kind"] == "polygon"


def test_choosing_the_radius_keeps_the_radius(member, client):
    response = _register(
        member, area_kind="radius", radius_km="12", service_area_geojson=json.dumps(AREA)
    )
    assert response.status_code == 303, response.text
    area = _area(client, response)
    assert area["kind"] == "radius" and area["radius_km"] == 12


@pytest.mark.parametrize(
    ("geojson", "field"),
    [
        ("{not json", "service_area_geojson"),
        (json.dumps({"type": "Point", "coordinates": [-122.2, 37.8]}), "service_area_geojson"),
        ("", "service_area_geojson"),
        (json.dumps(BOWTIE), "service_area.geometry"),
    ],
)
def test_a_bad_area_is_a_422_naming_the_field_and_registers_nothing(member, db, geojson, field):
    response = _register(member, area_kind="polygon", service_area_geojson=geojson)
    assert response.status_code == 422, response.text
    assert field in response.text
    assert 'aria-invalid="true"' in response.text
    assert _count(db) == 0
