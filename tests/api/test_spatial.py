"""Radius and bbox queries. The same expectations hold on SQLite (in-process geodesics) and on
PostGIS (geography pushdown): running this module on both backends is the parity check."""

import json

import pytest
from pyproj import Geod

from tests.api.factories import offering, organization, school

WGS84 = Geod(ellps="WGS84")
CENTER = (37.8053, -122.2725)


def _at(distance_m: float, azimuth: float) -> tuple[float, float]:
    lon, lat, _ = WGS84.fwd(CENTER[1], CENTER[0], azimuth, distance_m)
    return lat, lon


@pytest.fixture
def ring_of_schools(client):
    """Schools at known geodesic distances just inside and outside 10 km."""
    distances = {
        "in-9990": 9_990,
        "in-5000": 5_000,
        "in-100": 100,
        "out-10010": 10_010,
        "out-20000": 20_000,
    }
    for n, (name, metres) in enumerate(distances.items()):
        lat, lon = _at(metres, azimuth=n * 71.0)
        created = client.post("/v1/schools", json=school(name=name, lat=lat, lon=lon))
        assert created.status_code == 201, created.text
    return distances


def test_radius_query_returns_exactly_the_records_within_radius_nearest_first(
    client, ring_of_schools
):
    page = client.get(
        "/v1/schools", params={"near": f"{CENTER[0]},{CENTER[1]}", "radius_km": 10}
    ).json()
    assert [s["name"] for s in page["items"]] == ["in-100", "in-5000", "in-9990"]
    for item in page["items"]:
        assert item["distance_m"] == pytest.approx(ring_of_schools[item["name"]], abs=0.5)


def test_near_pages_keep_distance_order(client, ring_of_schools):
    seen, cursor = [], None
    while True:
        params = {"near": f"{CENTER[0]},{CENTER[1]}", "radius_km": 25, "limit": 2}
        page = client.get("/v1/schools", params=params | ({"cursor": cursor} if cursor else {}))
        assert page.status_code == 200, page.text
        seen += [s["name"] for s in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert seen == ["in-100", "in-5000", "in-9990", "out-10010", "out-20000"]


def test_a_bare_id_cursor_continues_after_that_records_distance(client, ring_of_schools):
    near = {"near": f"{CENTER[0]},{CENTER[1]}", "radius_km": 25}
    everything = client.get("/v1/schools", params=near).json()["items"]
    second = everything[1]
    rest = client.get("/v1/schools", params=near | {"cursor": str(second["id"])}).json()
    assert [s["name"] for s in rest["items"]] == [s["name"] for s in everything[2:]]


def test_a_cursor_naming_a_record_outside_the_query_is_a_404(client, ring_of_schools):
    near = {"near": "0,0", "radius_km": 1}
    response = client.get("/v1/schools", params=near | {"cursor": "99999"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_offerings_near_use_the_nearest_location_of_their_organization(client):
    far, near_ = _at(30_000, 10), _at(2_000, 200)
    org = client.post(
        "/v1/organizations",
        json=organization(
            locations=[{"lat": far[0], "lon": far[1]}, {"lat": near_[0], "lon": near_[1]}]
        ),
    ).json()
    created = client.post(f"/v1/organizations/{org['id']}/offerings", json=offering())
    found = client.get(
        "/v1/offerings", params={"near": f"{CENTER[0]},{CENTER[1]}", "radius_km": 5}
    ).json()["items"]
    assert [o["id"] for o in found] == [created.json()["id"]]
    assert found[0]["distance_m"] == pytest.approx(2_000, abs=0.5)


def test_bbox_selects_points_inside_the_box(client):
    client.post("/v1/schools", json=school(name="inside", lat=37.80, lon=-122.27))
    client.post("/v1/schools", json=school(name="outside", lat=37.95, lon=-122.27))
    names = [
        s["name"]
        for s in client.get("/v1/schools", params={"bbox": "-122.35,37.70,-122.10,37.89"}).json()[
            "items"
        ]
    ]
    assert names == ["inside"]


def test_bbox_across_the_antimeridian(client):
    client.post("/v1/schools", json=school(name="fiji-east", lat=-17.0, lon=179.9))
    client.post("/v1/schools", json=school(name="samoa-west", lat=-17.0, lon=-179.9))
    client.post("/v1/schools", json=school(name="greenwich", lat=51.48, lon=0.0))
    names = [
        s["name"]
        for s in client.get("/v1/schools", params={"bbox": "179,-20,-179,-10"}).json()["items"]
    ]
    assert names == ["fiji-east", "samoa-west"]


def test_radius_query_across_the_antimeridian(client):
    client.post("/v1/schools", json=school(name="east", lat=-17.0, lon=179.99))
    client.post("/v1/schools", json=school(name="west", lat=-17.0, lon=-179.99))
    names = [
        s["name"]
        for s in client.get("/v1/schools", params={"near": "-17.0,179.999", "radius_km": 5}).json()[
            "items"
        ]
    ]
    assert sorted(names) == ["east", "west"]


def test_geojson_is_an_rfc7946_feature_collection_in_lon_lat_order(client):
    client.post("/v1/schools", json=school(name="A", lat=37.80, lon=-122.27))
    response = client.get("/v1/schools", headers={"accept": "application/geo+json"})
    assert response.headers["content-type"].startswith("application/geo+json")
    body = json.loads(response.text)
    assert body["type"] == "FeatureCollection"
    feature = body["features"][0]
    assert feature["type"] == "Feature"
    assert feature["geometry"] == {"type": "Point", "coordinates": [-122.27, 37.8]}
    assert feature["properties"]["name"] == "A"
    same = client.get("/v1/schools", params={"format": "geojson"}).json()
    assert same == body


def test_radius_results_equal_a_brute_force_geodesic_search(client):
    """Seeded random schools around Oakland; each radius query must return exactly the set a
    brute-force WGS84 geodesic search returns (PostGIS on one backend, in-process on the other)."""
    import numpy as np

    rng = np.random.default_rng(7)
    lats = CENTER[0] + rng.uniform(-0.3, 0.3, 60)
    lons = CENTER[1] + rng.uniform(-0.3, 0.3, 60)
    for n, (lat, lon) in enumerate(zip(lats, lons, strict=True)):
        assert (
            client.post(
                "/v1/schools", json=school(name=f"s{n}", lat=float(lat), lon=float(lon))
            ).status_code
            == 201
        )
    for radius_km in (1.0, 5.0, 12.5, 30.0):
        _, _, dist = WGS84.inv(np.full(60, CENTER[1]), np.full(60, CENTER[0]), lons, lats)
        expected = [f"s{n}" for n in np.argsort(dist, kind="stable") if dist[n] <= radius_km * 1000]
        found = client.get(
            "/v1/schools",
            params={"near": f"{CENTER[0]},{CENTER[1]}", "radius_km": radius_km, "limit": 500},
        ).json()
        assert [s["name"] for s in found["items"]] == expected
