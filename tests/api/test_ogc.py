"""OGC API - Features under /ogc: the documents GIS clients read, items with bbox, limit and
next links, single features, the 404s and 400s, and who sees the gap analysis."""

from __future__ import annotations

from typing import Any

import pytest

from app.auth.principal import ADMIN, ANONYMOUS, DISTRICT_ADMIN, KEY_READ, ORG_MEMBER
from app.db import Database
from app.models import Location, Offering, Organization, School
from tests.auth.world import World, build

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
PUBLIC = ("offerings", "organization-locations", "schools")
EXTRA = 23  # schools and verified organizations added to the world, so lists take pages


def populate(database: Database) -> World:
    """The permission world plus EXTRA schools and verified partners (every other one at two
    locations), spread out so a box can pick some."""
    w = build(database)
    with database.session() as s:
        for n in range(EXTRA):
            lat, lon = 37.70 + n * 0.01, -122.30 + n * 0.005
            s.add(
                School(
                    name=f"School {n}",
                    district=w.name_b,
                    district_id=w.district_b,
                    lat=lat,
                    lon=lon,
                    location_precision="exact",
                    grade_low=0,
                    grade_high=5,
                    languages=["en"],
                    locale="city",
                )
            )
            org = Organization(
                name=f"Partner {n}",
                type="nonprofit",
                verification="verified",
                languages=["en"],
                service_area_kind="none",
                locations=[Location(lat=lat, lon=lon, precision="exact")]
                + ([Location(lat=lat + 0.001, lon=lon, precision="exact")] if n % 2 else []),
            )
            s.add(org)
            s.add(
                Offering(
                    organization=org,
                    title=f"Tutoring {n}",
                    categories=["academic_support.tutoring"],
                    grade_low=0,
                    grade_high=5,
                    schedule=[],
                    delivery=["at_school"],
                    languages=["en"],
                    populations=[],
                    cost="free",
                )
            )
        s.commit()
    return w


@pytest.fixture
def world(db: Database) -> World:
    return populate(db)


def _get(client: Any, url: str, **kwargs: Any) -> dict[str, Any]:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def _walk(client: Any, url: str, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every feature reached by following `next` links from `url`."""
    features: list[dict[str, Any]] = []
    while url:
        page = _get(client, url, headers=headers)
        assert page["numberReturned"] == len(page["features"])
        features += page["features"]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    return features


def test_landing_page_links_the_api_definition_conformance_and_collections(anon):
    page = _get(anon, "/ogc")
    rels = {link["rel"]: link for link in page["links"]}
    assert rels["service-desc"]["href"].endswith("/openapi.json")
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert rels["service-doc"]["href"].endswith("/docs")
    assert rels["conformance"]["href"].endswith("/ogc/conformance")
    assert rels["data"]["href"].endswith("/ogc/collections")
    assert rels["self"]["type"] == "application/json"


def test_conformance_lists_core_geojson_and_openapi_classes(anon):
    classes = _get(anon, "/ogc/conformance")["conformsTo"]
    base = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
    assert {base + "core", base + "geojson", base + "oas30"} <= set(classes)


def test_anonymous_callers_are_neither_offered_nor_served_the_gap_analysis(anon, world):
    ids = [c["id"] for c in _get(anon, "/ogc/collections")["collections"]]
    assert ids == list(PUBLIC)
    for url in ("/ogc/collections/gaps", "/ogc/collections/deserts/items"):
        response = anon.get(url)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
    member = anon.get("/ogc/collections/gaps/items", headers=world.headers[ORG_MEMBER])
    assert member.status_code == 403


@pytest.mark.parametrize("role", [DISTRICT_ADMIN, KEY_READ])
def test_district_readers_see_gaps_and_deserts_of_their_own_schools_only(anon, world, role):
    headers = world.headers[role]
    ids = [c["id"] for c in _get(anon, "/ogc/collections", headers=headers)["collections"]]
    assert ids == [*PUBLIC, "gaps", "deserts"]
    gaps = _get(anon, "/ogc/collections/gaps/items", headers=headers)
    assert [f["id"] for f in gaps["features"]] == [world.gap_needs["a"]]
    gap = gaps["features"][0]
    assert gap["properties"]["school_id"] == world.school_a
    assert gap["properties"]["status"] == "unmet"
    assert gap["geometry"] == {"type": "Point", "coordinates": [-122.25, 37.8]}
    deserts = _get(anon, "/ogc/collections/deserts/items", headers=headers)["features"]
    assert [d["properties"]["category"] for d in deserts] == ["literacy"]
    assert deserts[0]["properties"]["school_ids"] == [world.school_a]
    assert deserts[0]["geometry"]["type"] == "Polygon"
    other = anon.get(f"/ogc/collections/gaps/items/{world.gap_needs['b']}", headers=headers)
    assert other.status_code == 404


def test_the_operator_sees_every_districts_gaps(anon, world):
    gaps = _get(anon, "/ogc/collections/gaps/items", headers=world.headers[ADMIN])
    assert {f["id"] for f in gaps["features"]} == set(world.gap_needs.values())
    assert gaps["numberMatched"] == 2


@pytest.mark.parametrize("collection", PUBLIC)
def test_following_next_links_walks_the_whole_collection_once(anon, world, collection):
    everything = _get(anon, f"/ogc/collections/{collection}/items", params={"limit": 1000})
    walked = _walk(anon, f"/ogc/collections/{collection}/items?limit=4")
    ids = [f["id"] for f in walked]
    assert ids == [f["id"] for f in everything["features"]]
    assert len(set(ids)) == len(ids) == everything["numberMatched"]
    assert len(ids) > 4 * 5


def test_offerings_are_one_point_per_offering_location_of_visible_organizations(anon, world):
    features = _walk(anon, "/ogc/collections/offerings/items?limit=50")
    # The world's two verified organizations have one location each; the extra odd ones two.
    assert len(features) == 2 + EXTRA + EXTRA // 2
    assert {f["geometry"]["type"] for f in features} == {"Point"}
    assert all(f["properties"]["verified"] for f in features)
    hidden = f"{world.offerings['stranger']}:{world.orgs['stranger']}"
    assert hidden not in {f["id"] for f in features}
    assert anon.get(f"/ogc/collections/offerings/items/{hidden}").status_code == 404
    seen = anon.get(
        f"/ogc/collections/offerings/items/{hidden}", headers=world.headers[DISTRICT_ADMIN]
    )
    assert seen.status_code == 200


def test_bbox_keeps_the_features_inside_it_and_counts_them(anon, world):
    box = (-122.30, 37.695, -122.269, 37.765)  # the first seven extra schools
    page = _get(anon, "/ogc/collections/schools/items", params={"bbox": ",".join(map(str, box))})
    names = sorted(f["properties"]["name"] for f in page["features"])
    assert names == sorted(f"School {n}" for n in range(7))
    assert page["numberMatched"] == 7
    for f in page["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert box[0] <= lon <= box[2] and box[1] <= lat <= box[3]
    with_heights = _get(
        anon,
        "/ogc/collections/schools/items",
        params={"bbox": "-122.30,37.695,0,-122.269,37.765,9"},
    )
    assert with_heights["numberMatched"] == 7


@pytest.mark.parametrize(
    "bbox", ["1,2,3", "a,b,c,d", "0,10,1,5", "200,0,201,1", "1,2,3,4,5", "", "nan,0,1,1"]
)
def test_a_bad_bbox_is_a_400_naming_bbox(anon, bbox):
    response = anon.get("/ogc/collections/schools/items", params={"bbox": bbox})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == ["query", "bbox"]


@pytest.mark.parametrize(
    ("name", "value"), [("limit", "0"), ("limit", "ten"), ("limit", "²"), ("cursor", "x")]
)
def test_a_bad_limit_or_cursor_is_a_400_naming_it(anon, name, value):
    response = anon.get("/ogc/collections/offerings/items", params={name: value})
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == ["query", name]


def test_limit_defaults_to_ten_and_is_capped_at_the_server_maximum(anon, world):
    assert _get(anon, "/ogc/collections/schools/items")["numberReturned"] == 10
    capped = _get(anon, "/ogc/collections/schools/items", params={"limit": 5000})
    assert capped["numberReturned"] == capped["numberMatched"] == 2 + EXTRA


def test_items_are_geojson_in_crs84_with_a_timestamp(anon, world):
    response = anon.get("/ogc/collections/organization-locations/items")
    assert response.headers["content-type"] == "application/geo+json"
    assert response.headers["content-crs"] == f"<{CRS84}>"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["timeStamp"].endswith("Z")
    rels = {link["rel"] for link in body["links"]}
    assert {"self", "collection", "next"} <= rels


@pytest.mark.parametrize("collection", PUBLIC)
def test_a_single_feature_is_the_one_in_the_list(anon, world, collection):
    listed = _get(anon, f"/ogc/collections/{collection}/items", params={"limit": 3})["features"]
    for feature in listed:
        response = anon.get(f"/ogc/collections/{collection}/items/{feature['id']}")
        assert response.status_code == 200
        assert response.headers["content-crs"] == f"<{CRS84}>"
        one = response.json()
        links = one.pop("links")
        assert one == feature
        assert {link["rel"] for link in links} == {"self", "collection"}


def test_a_collection_describes_its_extent_in_crs84(anon, world):
    collection = _get(anon, "/ogc/collections/schools")
    assert collection["id"] == "schools"
    spatial = collection["extent"]["spatial"]
    assert spatial["crs"] == CRS84
    west, south, east, north = spatial["bbox"][0]
    assert [west, south, east, north] == pytest.approx([-122.30, 37.70, -122.19, 37.92])
    assert collection["extent"]["temporal"]["interval"] == [[None, None]]
    assert {link["rel"] for link in collection["links"]} == {"self", "items"}


@pytest.mark.parametrize(
    "url",
    [
        "/ogc/collections/parks",
        "/ogc/collections/parks/items",
        "/ogc/collections/schools/items/999999",
        "/ogc/collections/schools/items/abc",
        "/ogc/collections/schools/items/²",
        "/ogc/collections/offerings/items/1:²",
        "/ogc/collections/offerings/items/1",
        "/ogc/collections/organization-locations/items/999999",
    ],
)
def test_unknown_collections_and_features_are_404_problems(anon, world, url):
    response = anon.get(url)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_school_features_carry_directory_fields_and_never_needs(anon, world):
    body = anon.get("/ogc/collections/schools/items", params={"limit": 1000}).text
    assert "confidential" not in body
    assert "needs_assessment" not in body
    assert "Alpha Middle" in body


@pytest.mark.parametrize("role", [ANONYMOUS, DISTRICT_ADMIN])
def test_an_empty_box_is_an_empty_page(anon, world, role):
    page = _get(
        anon,
        "/ogc/collections/offerings/items",
        params={"bbox": "10,10,11,11"},
        headers=world.headers[role],
    )
    assert page["features"] == [] and page["numberMatched"] == 0
