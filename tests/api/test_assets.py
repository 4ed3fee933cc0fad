"""Asset map, gaps and school coverage over HTTP. Every expectation is exact and the module runs
unchanged on SQLite and on PostGIS (DATABASE_URL): running it on both is the parity check."""

from __future__ import annotations

import csv
import io
from numbers import Real
from typing import Any

import pytest
import shapely
from pyproj import Geod
from shapely.geometry import shape
from sqlalchemy import update

from app.demo.oakland import load_oakland
from app.models import Offering, Partnership
from app.repositories.catalog_changes import record_change
from app.services import demo
from tests.api.factories import offering, organization, problem_fields, school

WGS84 = Geod(ellps="WGS84")
CENTER = (37.8053, -122.2725)
DISTRICT = "Oakland Unified School District"
OAKLAND_BBOX = "-122.35,37.70,-122.10,37.89"


def _at(km: float, azimuth: float = 0.0, origin: tuple[float, float] = CENTER) -> tuple:
    lon, lat, _ = WGS84.fwd(origin[1], origin[0], azimuth, km * 1000.0)
    return lat, lon


def _org(client, at=CENTER, **changes) -> int:
    body = organization(locations=[{"lat": at[0], "lon": at[1]}], **changes)
    response = client.post("/v1/organizations", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _offering(client, org_id: int, **changes) -> int:
    body = offering(
        **({"grade_low": 0, "grade_high": 12, "languages": [], "populations": []} | changes)
    )
    response = client.post(f"/v1/organizations/{org_id}/offerings", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _school(client, at=CENTER, needs=(("stem", 1, None),), **changes) -> int:
    body = school(lat=at[0], lon=at[1], **changes)
    response = client.post("/v1/schools", json=body)
    assert response.status_code == 201, response.text
    school_id = response.json()["id"]
    if needs:
        filed = client.post(
            f"/v1/schools/{school_id}/needs-assessments",
            json={
                "assessed_on": "2026-09-15",
                "needs": [
                    {"category": c, "priority": p, "students_affected": n} for c, p, n in needs
                ],
            },
        )
        assert filed.status_code == 201, filed.text
    return school_id


def _gaps(client, **params) -> dict:
    params.setdefault("district", DISTRICT)
    response = client.get("/v1/gaps", params={k: v for k, v in params.items() if v is not None})
    assert response.status_code == 200, response.text
    return response.json()


def _rows(report: dict, school_id: int) -> list[dict]:
    return [r for r in report["items"] if r["school_id"] == school_id]


def _csv(response) -> list[dict[str, str]]:
    assert response.headers["content-type"].startswith("text/csv"), response.text
    return list(csv.DictReader(io.StringIO(response.text)))


# --- RFC 7946 checked by a parser --------------------------------------------------------------


def assert_rfc7946(doc: dict[str, Any]) -> None:
    """A FeatureCollection per RFC 7946: members, [lon, lat] positions in range, closed rings
    of four or more positions wound counter-clockwise (holes clockwise), valid geometry."""
    assert doc["type"] == "FeatureCollection" and isinstance(doc["features"], list)
    for feature in doc["features"]:
        assert feature["type"] == "Feature"
        assert "geometry" in feature and "properties" in feature
        assert isinstance(feature.get("id", ""), str | int)
        geometry = feature["geometry"]
        if geometry is None:
            continue
        _check_geometry(geometry)
        assert shape(geometry).is_valid, feature


def _check_geometry(geometry: dict[str, Any]) -> None:
    kind, coordinates = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        _check_position(coordinates)
    elif kind == "MultiPoint":
        for position in coordinates:
            _check_position(position)
    elif kind == "Polygon":
        _check_polygon(coordinates)
    elif kind == "MultiPolygon":
        for polygon in coordinates:
            _check_polygon(polygon)
    else:
        raise AssertionError(f"unexpected geometry {kind}")


def _check_position(position: list) -> None:
    assert len(position) in (2, 3) and all(isinstance(v, Real) for v in position)
    lon, lat = position[:2]
    assert -180 <= lon <= 180 and -90 <= lat <= 90


def _check_polygon(rings: list) -> None:
    for i, ring in enumerate(rings):
        assert len(ring) >= 4 and ring[0] == ring[-1]
        for position in ring:
            _check_position(position)
        assert shapely.LinearRing(ring).is_ccw == (i == 0)


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/gaps", "/v1/asset-map"])
def test_an_area_is_required_and_only_one(client, path):
    neither = client.get(path)
    assert neither.status_code == 422 and problem_fields(neither) == [["query", "district"]]
    both = client.get(path, params={"district": DISTRICT, "bbox": OAKLAND_BBOX})
    assert both.status_code == 422 and problem_fields(both) == [["query", "bbox"]]


@pytest.mark.parametrize("path", ["/v1/gaps", "/v1/asset-map"])
def test_bad_area_and_category_are_422s_naming_the_field(client, path):
    reversed_box = client.get(path, params={"bbox": "-122.35,37.89,-122.10,37.70"})
    assert reversed_box.status_code == 422 and problem_fields(reversed_box) == [["query", "bbox"]]
    unknown = client.get(path, params={"bbox": OAKLAND_BBOX, "category": "astrology"})
    assert unknown.status_code == 422 and problem_fields(unknown) == [["query", "category", 0]]


@pytest.mark.parametrize("path", ["/v1/gaps", "/v1/asset-map"])
def test_an_unknown_district_is_a_404_problem(client, path):
    response = client.get(path, params={"district": "Atlantis Unified"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_coverage_of_an_unknown_or_unassessed_school_is_a_404(client):
    assert client.get("/v1/schools/999/coverage").status_code == 404
    school_id = _school(client, needs=())
    response = client.get(f"/v1/schools/{school_id}/coverage")
    assert response.status_code == 404
    assert "needs-assessments" in response.json()["detail"]


def test_invalid_service_area_polygons_are_rejected_on_input(client):
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    body = organization(service_area={"kind": "polygon", "geometry": bowtie})
    response = client.post("/v1/organizations", json=body)
    assert response.status_code == 422
    assert problem_fields(response)[0][:3] == ["body", "service_area", "geometry"]


# --- empty areas -------------------------------------------------------------------------------


def test_an_empty_area_is_an_empty_valid_answer(client):
    empty_box = "10,10,10.1,10.1"
    cells = client.get("/v1/asset-map", params={"bbox": empty_box})
    assert cells.status_code == 200 and cells.headers["content-type"] == "application/geo+json"
    assert cells.json()["features"] == [] and cells.json()["summary"]["assets"] == 0
    assert_rfc7946(cells.json())
    fine = client.get("/v1/asset-map", params={"bbox": empty_box, "resolution": 17}).json()
    assert fine["features"] == [] and fine["next_cursor"] is None
    report = _gaps(client, district=None, bbox=empty_box)
    assert report["items"] == [] and report["deserts"] == [] and report["schools"] == []
    assert report["summary"]["needs"] == 0
    assert_rfc7946(client.get("/v1/gaps", params={"bbox": empty_box, "format": "geojson"}).json())


# --- capacity-aware coverage -------------------------------------------------------------------


def _four_schools_one_partner(client, capacity_schools):
    org = _org(client, service_area={"kind": "radius", "radius_km": 20})
    offering_id = _offering(client, org, categories=["stem"], capacity_schools=capacity_schools)
    schools = [_school(client, at=_at(1.0 + i, 90.0 * i)) for i in range(4)]
    return offering_id, schools


def test_a_partner_with_room_for_two_schools_cannot_meet_the_need_of_four(client):
    offering_id, schools = _four_schools_one_partner(client, capacity_schools=2)
    report = _gaps(client)
    assert report["summary"] | {"desert_cells": 0} == {
        "schools": 4, "assessed_schools": 4, "needs": 4, "met": 0, "thin": 4, "unmet": 0,
        "students_in_gaps": 0, "desert_cells": 0,
    }  # fmt: skip
    coverage = client.get(f"/v1/schools/{schools[0]}/coverage").json()
    (reached,) = coverage["needs"][0]["reaching"]
    assert reached["offering_id"] == offering_id
    assert reached["share"] == 0.5 and reached["schools_counting_on_it"] == 4
    assert reached["contribution"] == pytest.approx(reached["fit"] * 0.5, abs=1e-4)
    assert reached["via"] == "service_area" and reached["issue"] is None

    client.patch(f"/v1/offerings/{offering_id}", json={"capacity_schools": 4})
    assert _gaps(client)["summary"]["met"] == 4


def test_unknown_capacity_is_estimated_and_marked_not_taken_as_unlimited(client):
    _, schools = _four_schools_one_partner(client, capacity_schools=None)
    report = _gaps(client)
    assert report["thresholds"]["estimated_schools"] == 2
    assert (report["summary"]["met"], report["summary"]["thin"]) == (0, 4)  # 2 of 4 schools
    assert {row["capacity_estimated"] for row in report["items"]} == {True}
    need = client.get(f"/v1/schools/{schools[0]}/coverage").json()["needs"][0]
    assert need["capacity_estimated"] is True
    (reached,) = need["reaching"]
    assert reached["share"] == 0.5 and reached["capacity_estimated"] is True
    csv_text = client.get(f"/v1/schools/{schools[0]}/coverage", headers={"Accept": "text/csv"}).text
    cells = next(csv.DictReader(io.StringIO(csv_text)))
    assert cells["capacity_estimated"] == cells["offering_capacity_estimated"] == "True"


def test_a_declared_capacity_is_not_marked_estimated(client):
    _, schools = _four_schools_one_partner(client, capacity_schools=4)
    need = client.get(f"/v1/schools/{schools[0]}/coverage").json()["needs"][0]
    assert need["status"] == "met" and need["capacity_estimated"] is False
    assert need["reaching"][0]["capacity_estimated"] is False


def test_capacity_is_shared_with_schools_outside_the_area_asked_about(client):
    _, schools = _four_schools_one_partner(client, capacity_schools=2)
    by_district = _rows(_gaps(client), schools[0])
    lat, lon = _at(1.0)
    box = f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"
    by_box = _gaps(client, district=None, bbox=box)
    assert by_box["summary"]["schools"] == 1
    assert _rows(by_box, schools[0]) == [r | {"rank": 1} for r in by_district]


def test_coverage_held_in_memory_follows_new_assessments_and_catalog_writes(client):
    offering_id, schools = _four_schools_one_partner(client, capacity_schools=2)

    def share() -> float:
        coverage = client.get(f"/v1/schools/{schools[0]}/coverage").json()
        return coverage["needs"][0]["reaching"][0]["share"]

    assert share() == share() == 0.5
    _school(client, at=_at(5.0, 45.0))  # a fifth school now counts on the partner
    assert share() == 0.4
    client.patch(f"/v1/offerings/{offering_id}", json={"capacity_schools": 5})
    assert share() == 1.0


def test_an_offering_that_cannot_serve_the_need_is_listed_with_why(client):
    org = _org(client)
    _offering(client, org, categories=["stem"], grade_low=9, grade_high=12)
    school_id = _school(client)  # grades K-5
    need = client.get(f"/v1/schools/{school_id}/coverage").json()["needs"][0]
    assert need["status"] == "unmet" and need["offerings"] == 0
    assert [(o["issue"], o["share"]) for o in need["reaching"]] == [("grades", 0.0)]


# --- service areas: antimeridian, holes, boundaries ----------------------------------------------


def _polygon_partner(client, at, rings) -> int:
    area = {"kind": "polygon", "geometry": {"type": "Polygon", "coordinates": rings}}
    org = _org(client, at=at, service_area=area)
    return _offering(client, org, categories=["stem"])


def _via(client, school_id) -> list[str]:
    need = client.get(f"/v1/schools/{school_id}/coverage").json()["needs"][0]
    return [o["via"] for o in need["reaching"]]


def test_a_service_area_across_the_antimeridian_covers_schools_on_both_sides(client):
    rings = [[[178.0, -18.0], [-178.0, -18.0], [-178.0, -16.0], [178.0, -16.0], [178.0, -18.0]]]
    _polygon_partner(client, (-17.0, 178.5), rings)
    east = _school(client, at=(-17.0, 179.6), district="Fiji", locale="city")
    west = _school(client, at=(-17.0, -179.5), district="Fiji", locale="city")
    outside = _school(client, at=(-17.0, -177.5), district="Fiji", locale="city")
    assert _via(client, east) == ["service_area"]
    assert _via(client, west) == ["service_area"]  # 110 km away, across 180°
    assert _via(client, outside) == []  # declared area does not cover it


def test_a_school_in_a_service_areas_hole_is_not_reached_however_near(client):
    shell = [[-122.40, 37.70], [-122.10, 37.70], [-122.10, 37.90], [-122.40, 37.90]]
    hole = [[-122.29, 37.79], [-122.29, 37.82], [-122.25, 37.82], [-122.25, 37.79]]
    _polygon_partner(client, _at(0.5), [shell + shell[:1], hole + hole[:1]])
    in_hole = _school(client, at=CENTER)
    in_area = _school(client, at=(37.75, -122.20))
    assert _via(client, in_hole) == []
    assert _via(client, in_area) == ["service_area"]


def test_a_school_on_a_service_area_vertex_is_covered(client):
    square = [[-122.30, 37.78], [-122.2725, 37.78], [-122.2725, 37.81], [-122.30, 37.81]]
    _polygon_partner(client, (37.79, -122.29), [square + square[:1]])
    on_corner = _school(client, at=(37.81, -122.2725))
    assert _via(client, on_corner) == ["service_area"]


# --- gaps: order, pages, formats, deserts --------------------------------------------------------


@pytest.fixture
def district(client):
    """Three schools of different need; one partner for STEM, none for the arts."""
    org = _org(client)
    _offering(client, org, categories=["stem"], capacity_schools=1)
    schools = {
        "high": _school(
            client, at=_at(2.0), name="High", frl_pct=95.0, title_i=True,
            needs=[("arts", 1, 50), ("stem", 2, 300)],
        ),
        "mid": _school(
            client, at=_at(3.0, 120), name="Mid", frl_pct=75.0, title_i=True, el_pct=20.0,
            needs=[("arts", 1, 400), ("stem", 1, 20)],
        ),
        "low": _school(
            client, at=_at(40.0, 240), name="Low", frl_pct=10.0, title_i=False, el_pct=1.0,
            needs=[("arts", 1, 10)],
        ),
    }  # fmt: skip
    return schools


def test_gaps_come_by_need_index_then_students(client, district):
    report = _gaps(client)
    order = [(r["school_name"], r["category"], r["status"]) for r in report["items"]]
    assert order == [
        ("High", "stem", "thin"),
        ("High", "arts", "unmet"),
        ("Mid", "arts", "unmet"),
        ("Mid", "stem", "thin"),
        ("Low", "arts", "unmet"),
    ]
    assert [r["rank"] for r in report["items"]] == [1, 2, 3, 4, 5]
    index = [r["need_index"] for r in report["items"]]
    assert index == sorted(index, reverse=True)


def test_gap_pages_hold_every_row_once_in_order(client, district):
    everything = _gaps(client)["items"]
    seen, cursor = [], None
    while True:
        page = _gaps(client, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == everything


def test_gaps_summary_and_categories_add_up(client, district):
    report = _gaps(client, status=["unmet", "thin", "met"])
    summary = report["summary"]
    assert summary["needs"] == 5 == summary["met"] + summary["thin"] + summary["unmet"]
    by_category = {c["category"]: c for c in report["by_category"]}
    assert set(by_category) == {"arts", "stem"}
    assert by_category["arts"] | {"desert_cells": 0} == {
        "category": "arts", "name": "Arts", "needs": 3, "met": 0, "thin": 0, "unmet": 3,
        "schools_with_gaps": 3, "students_in_gaps": 460, "desert_cells": 0,
    }  # fmt: skip
    assert summary["students_in_gaps"] == 460 + 320
    schools = {s["school_name"]: s for s in report["schools"]}
    assert schools["High"]["unmet"] == 1 and schools["High"]["thin"] == 1


def test_the_category_filter_picks_needs_and_deserts(client, district):
    report = _gaps(client, category="arts")
    assert {r["category"] for r in report["items"]} == {"arts"}
    assert {d["category"] for d in report["deserts"]} == {"arts"}


def test_high_need_schools_far_from_any_arts_partner_are_an_arts_desert(client, district):
    report = _gaps(client)
    deserts = {(d["category"], tuple(d["school_ids"])) for d in report["deserts"]}
    # High (0.9) and Mid (0.7) are high-need; Low (0.06) is not. STEM is 2-3 km away.
    assert {c for c, _ in deserts} == {"arts"}
    in_deserts = {s for _, ids in deserts for s in ids}
    assert in_deserts == {district["high"], district["mid"]}
    assert all(d["nearest_asset_km"] is None for d in report["deserts"])
    assert report["by_category"][0]["desert_cells"] == len(report["deserts"])


def test_gaps_as_csv_are_the_items_table(client, district):
    report = _gaps(client, limit=3)
    response = client.get(
        "/v1/gaps", params={"district": DISTRICT, "limit": 3}, headers={"accept": "text/csv"}
    )
    rows = _csv(response)
    assert [int(r["rank"]) for r in rows] == [1, 2, 3]
    assert [(r["school_name"], r["category"], r["status"]) for r in rows] == [
        (i["school_name"], i["category"], i["status"]) for i in report["items"]
    ]
    assert 'rel="next"' in response.headers["link"] and "cursor=3" in response.headers["link"]
    assert (
        client.get("/v1/gaps", params={"district": DISTRICT, "limit": 3, "format": "csv"}).text
        == response.text
    )


def test_gaps_as_geojson_are_schools_and_desert_cells(client, district):
    response = client.get(
        "/v1/gaps", params={"district": DISTRICT}, headers={"accept": "application/geo+json"}
    )
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert_rfc7946(body)
    kinds = [f["properties"]["kind"] for f in body["features"]]
    assert kinds.count("school") == 3 and kinds.count("desert") >= 1
    high = next(f for f in body["features"] if f["id"] == district["high"])
    assert high["geometry"]["coordinates"] == pytest.approx(list(reversed(_at(2.0))), abs=1e-7)
    assert {n["category"] for n in high["properties"]["needs_listed"]} == {"arts", "stem"}


# --- the asset map -----------------------------------------------------------------------------


@pytest.fixture
def partners(client):
    """Six partners around the centre, two offerings each; one with a radius, one a polygon."""
    square = [[-122.30, 37.78], [-122.25, 37.78], [-122.25, 37.82], [-122.30, 37.82]]
    areas = [
        {"kind": "radius", "radius_km": 3},
        {"kind": "polygon", "geometry": {"type": "Polygon", "coordinates": [square + square[:1]]}},
    ] + [{"kind": "none"}] * 4
    ids = []
    for i, area in enumerate(areas):
        org = _org(client, at=_at(1.0 + 1.2 * i, 60.0 * i), service_area=area)
        ids.append(_offering(client, org, categories=["stem", "arts.music"]))
        ids.append(_offering(client, org, categories=["literacy"], delivery=["virtual"]))
    return ids


def test_coarse_cells_count_assets_by_category(client, partners):
    body = client.get("/v1/asset-map", params={"bbox": OAKLAND_BBOX, "resolution": 11}).json()
    assert_rfc7946(body)
    assert body["mode"] == "cells" and body["grid"] == {"scheme": "web-mercator-xyz", "level": 11}
    assert body["summary"] == {
        "assets": 12, "offerings": 12, "organizations": 6, "virtual": 6,
        "by_category": {"arts": 6, "literacy": 6, "stem": 6},
    }  # fmt: skip
    cells = [f["properties"] for f in body["features"]]
    assert sum(c["assets"] for c in cells) == 12
    assert all(f["id"] == f["properties"]["cell"] for f in body["features"])
    assert all(c["assets"] == 2 * c["organizations"] for c in cells)


def test_the_category_filter_counts_only_those_assets(client, partners):
    body = client.get(
        "/v1/asset-map", params={"bbox": OAKLAND_BBOX, "category": "arts", "resolution": 11}
    ).json()
    assert body["summary"]["by_category"] == {"arts": 6} and body["summary"]["virtual"] == 0


def test_a_cells_counts_do_not_depend_on_the_box_that_touches_it(client, partners):
    wide = client.get("/v1/asset-map", params={"bbox": OAKLAND_BBOX, "resolution": 12}).json()
    by_cell = {f["id"]: f["properties"] for f in wide["features"]}
    lat, lon = _at(1.0)
    sliver = f"{lon},{lat},{lon + 0.0001},{lat + 0.0001}"
    narrow = client.get("/v1/asset-map", params={"bbox": sliver, "resolution": 12}).json()
    (cell,) = narrow["features"]
    assert cell["properties"] == by_cell[cell["id"]]


@pytest.mark.parametrize("resolution", [12, 16])
def test_asset_map_pages_hold_every_feature_once(client, partners, resolution):
    params = {"bbox": OAKLAND_BBOX, "resolution": resolution}
    everything = client.get("/v1/asset-map", params=params).json()["features"]
    seen, cursor = [], None
    while True:
        page = client.get(
            "/v1/asset-map", params=params | {"limit": 3} | ({"cursor": cursor} if cursor else {})
        ).json()
        seen += page["features"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(f["id"] for f in seen) == sorted(f["id"] for f in everything)
    assert len({f["id"] for f in seen}) == len(seen)


def test_fine_resolution_draws_assets_and_service_areas(client, partners):
    body = client.get("/v1/asset-map", params={"bbox": OAKLAND_BBOX, "resolution": 16}).json()
    assert_rfc7946(body)
    assets = [f for f in body["features"] if f["properties"]["kind"] == "asset"]
    areas = [f for f in body["features"] if f["properties"]["kind"] == "service_area"]
    assert len(assets) == 12
    assert {a["properties"]["area_kind"] for a in areas} == {"radius", "polygon"}
    first = next(a for a in assets if a["properties"]["offering_id"] == partners[0])
    assert first["geometry"]["coordinates"] == pytest.approx(list(reversed(_at(1.0))), abs=1e-7)
    circle = shape(next(a for a in areas if a["properties"]["area_kind"] == "radius")["geometry"])
    lat, lon = _at(2.9, 45.0, origin=_at(1.0))
    assert circle.contains(shapely.Point(lon, lat))
    lat, lon = _at(3.1, 45.0, origin=_at(1.0))
    assert not circle.contains(shapely.Point(lon, lat))


def test_asset_map_as_csv(client, partners):
    cells = _csv(
        client.get(
            "/v1/asset-map", params={"bbox": OAKLAND_BBOX, "resolution": 11, "format": "csv"}
        )
    )
    assert sum(int(c["assets"]) for c in cells) == 12
    points = _csv(
        client.get(
            "/v1/asset-map",
            params={"bbox": OAKLAND_BBOX, "resolution": 16},
            headers={"accept": "text/csv"},
        )
    )
    assert len(points) == 12 and {p["virtual"] for p in points} == {"True", "False"}
    assert float(points[0]["lat"]) == pytest.approx(_at(1.0)[0], abs=1e-6)


def test_a_district_maps_its_schools_box(client, partners):
    _school(client, at=_at(2.0))
    body = client.get("/v1/asset-map", params={"district": DISTRICT, "resolution": 11}).json()
    assert body["summary"]["organizations"] >= 1
    west, south, east, north = body["area"]
    lat, lon = _at(2.0)
    assert west < lon < east and south < lat < north


def test_a_box_across_the_antimeridian_maps_both_sides(client):
    for lon in (179.9, -179.9):
        _offering(client, _org(client, at=(-17.0, lon)), categories=["stem"])
        _school(client, at=(-17.0, lon + (0.05 if lon < 0 else -0.05)), district="Fiji")
    box = "179,-20,-179,-10"
    cells = client.get("/v1/asset-map", params={"bbox": box, "resolution": 10}).json()
    assert_rfc7946(cells)
    assert sorted(f["id"] for f in cells["features"]) == ["10/0/561", "10/1023/561"]
    assert cells["area"][0] > cells["area"][2]  # still crosses: west > east
    points = client.get("/v1/asset-map", params={"bbox": box, "resolution": 16}).json()
    assert len([f for f in points["features"] if f["properties"]["kind"] == "asset"]) == 2
    report = _gaps(client, district=None, bbox=box, status="met")
    assert report["summary"]["schools"] == 2 and report["summary"]["met"] == 2


# --- one school --------------------------------------------------------------------------------


def test_school_coverage_in_three_formats(client, district):
    school_id = district["high"]
    body = client.get(f"/v1/schools/{school_id}/coverage").json()
    assert body["summary"] == {"needs": 2, "met": 0, "thin": 1, "unmet": 1}
    assert body["thresholds"]["met"] == 0.7 and body["school"]["id"] == school_id
    stem = next(n for n in body["needs"] if n["category"] == "stem")
    assert stem["offerings"] == 1 and stem["reaching"][0]["via"] == "service_area"
    rows = _csv(client.get(f"/v1/schools/{school_id}/coverage", params={"format": "csv"}))
    assert [(r["category"], r["offering_id"] != "") for r in rows] == [
        ("arts", False),
        ("stem", True),
    ]
    geojson = client.get(
        f"/v1/schools/{school_id}/coverage", headers={"accept": "application/geo+json"}
    ).json()
    assert_rfc7946(geojson)
    assert [f["properties"]["kind"] for f in geojson["features"]] == ["school", "offering"]


def test_csv_cells_never_start_a_spreadsheet_formula(client):
    org = _org(client, name='=HYPERLINK("http://evil.example","x")')
    _offering(client, org, categories=["stem"])
    school_id = _school(client)
    rows = _csv(client.get(f"/v1/schools/{school_id}/coverage", params={"format": "csv"}))
    assert rows[0]["organization_name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert float(rows[0]["distance_km"]) >= 0  # numbers are left alone


@pytest.mark.parametrize(
    "value",
    [["=1+1", "x"], ("+cmd|' /C calc'!A0",), {"@SUM(A1)": 1}, "-2+3", "\t=1", "\r=1"],
)
def test_a_list_or_mapping_cell_is_defused_like_text(value):
    from app.representations import csv_table

    body = csv_table([{"c": value}], ["c"], None).body.decode()
    cell = next(csv.reader(io.StringIO(body.split("\r\n", 1)[1])))[0]
    assert cell.startswith("'")


# --- the real demo district --------------------------------------------------------------------


@pytest.fixture
def oakland(db):
    data = load_oakland()
    with db.session() as session:
        demo.load(session=session, data=data)
    return data


def test_every_oakland_need_is_reached_by_the_partners_that_served_it(client, oakland):
    report = _gaps(client, status=["met", "thin", "unmet"], limit=5000)
    ousd = {a.school_external_id for a in oakland.needs_assessments}
    assert report["summary"]["assessed_schools"] == len(ousd)
    assert report["summary"]["needs"] == sum(len(a.needs) for a in oakland.needs_assessments)
    assert len(report["items"]) == report["summary"]["needs"]
    # The example needs were composed from the services partners gave those very schools in
    # 2011, and each partner's service radius reaches the schools it served.
    assert all(r["offerings"] >= 1 for r in report["items"])
    totals = {k: sum(c[k] for c in report["by_category"]) for k in ("needs", "met", "unmet")}
    assert totals == {k: report["summary"][k] for k in totals}


def test_oakland_deserts_have_no_in_person_partner_of_the_category_nearby(client, oakland):
    report = _gaps(client)
    assert report["deserts"], "some high-need Oakland schools sit far from some category"
    schools = {s["school_id"]: s for s in report["schools"]}
    for desert in report["deserts"][:8]:
        for school_id in desert["school_ids"]:
            s = schools[school_id]
            assert s["need_index"] >= 0.6
            near = client.get(
                "/v1/offerings",
                params={
                    "near": f"{s['lat']},{s['lon']}",
                    "radius_km": 4.9,  # city scale 5 km, less the sphere/spheroid difference
                    "category": desert["category"],
                    "limit": 500,
                },
            ).json()["items"]
            assert [o for o in near if o["delivery"] != ["virtual"]] == []


def test_oakland_capacity_estimates_come_from_the_schools_partners_served_in_2011(
    db, client, oakland
):
    """No demo offering declares a capacity: each is estimated from the schools it served in
    its busiest school year (the 2011 partnerships), not from the flat default of 2."""
    with_history = _gaps(client)["summary"]
    with db.session() as session:
        session.execute(update(Partnership).values(status="declined"))  # never ran
        record_change(session)
        session.commit()
    flat = _gaps(client)["summary"]
    assert (flat["met"], flat["thin"], flat["unmet"]) == (518, 65, 50)
    assert (with_history["met"], with_history["thin"], with_history["unmet"]) == (580, 50, 3)


def test_oakland_statuses_fall_when_partners_can_take_one_school_each(db, client, oakland):
    before = _gaps(client)["summary"]
    with db.session() as session:
        session.execute(update(Offering).values(capacity_schools=1))
        record_change(session)
        session.commit()
    after = _gaps(client)["summary"]
    assert before["met"] < before["needs"]  # estimated capacity already leaves gaps
    assert after["met"] < before["met"] and after["unmet"] > before["unmet"]


def test_oakland_asset_map_counts_every_offering_at_its_partners_location(client, oakland):
    body = client.get("/v1/asset-map", params={"district": DISTRICT}).json()
    assert_rfc7946(body)
    assert body["summary"]["assets"] == len(oakland.offerings)
    assert sum(f["properties"]["assets"] for f in body["features"]) == len(oakland.offerings)


def test_oakland_deserts_are_the_same_cells_on_every_backend(client, oakland):
    report = _gaps(client)
    assert report["summary"] | {"students_in_gaps": 0} == {
        "schools": 115, "assessed_schools": 84, "needs": 633, "met": 580, "thin": 50,
        "unmet": 3, "students_in_gaps": 0, "desert_cells": 18,
    }  # fmt: skip
    cells = {(d["category"], d["cell"]) for d in report["deserts"]}
    assert cells == {
        ("early_childhood", "13/1313/3165"), ("early_childhood", "13/1315/3167"),
        ("early_childhood", "13/1316/3166"), ("early_childhood", "13/1316/3167"),
        ("educator_development", "13/1313/3165"), ("educator_development", "13/1315/3167"),
        ("educator_development", "13/1316/3166"), ("educator_development", "13/1316/3167"),
        ("literacy", "13/1315/3167"), ("literacy", "13/1316/3166"),
        ("literacy", "13/1316/3167"), ("transportation", "13/1313/3164"),
        ("transportation", "13/1313/3165"), ("transportation", "13/1315/3166"),
        ("transportation", "13/1315/3167"), ("transportation", "13/1316/3165"),
        ("transportation", "13/1316/3166"), ("transportation", "13/1316/3167"),
    }  # fmt: skip
    assert sum(d["high_need_schools"] for d in report["deserts"]) == 61


def test_coverage_reaches_a_school_from_the_organizations_location_nearest_it(client):
    # Issue 12 defect 2, gap analysis: only the first location counted. The first site is
    # 80 km north of the school (beyond a city school's reach), the second one 1 km.
    far, near = (CENTER[0] + 0.72, CENTER[1]), (CENTER[0] + 0.009, CENTER[1])
    body = organization(
        locations=[{"lat": far[0], "lon": far[1]}, {"lat": near[0], "lon": near[1]}]
    )
    response = client.post("/v1/organizations", json=body)
    assert response.status_code == 201, response.text
    offering_id = _offering(client, response.json()["id"], categories=["stem"])
    school_id = _school(client)
    body = client.get(f"/v1/schools/{school_id}/coverage").json()
    reaching = body["needs"][0]["reaching"]
    assert [o["offering_id"] for o in reaching] == [offering_id]
    assert reaching[0]["distance_km"] == pytest.approx(1.0, abs=0.01)
    geojson = client.get(f"/v1/schools/{school_id}/coverage", params={"format": "geojson"}).json()
    shown = next(f for f in geojson["features"] if f["properties"]["kind"] == "offering")
    assert shown["geometry"]["coordinates"] == pytest.approx([near[1], near[0]])
