from tests.api.factories import organization, problem_fields


def test_create_then_get_returns_the_same_organization(client):
    created = client.post("/v1/organizations", json=organization())
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/v1/organizations/{body['id']}"
    assert body["verification"] == "unverified"
    assert body["locations"][0]["lat"] == 37.8053
    assert body["service_area"] == {
        "kind": "radius",
        "geometry": None,
        "radius_km": 15.0,
        "region": None,
    }
    fetched = client.get(f"/v1/organizations/{body['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == body


def test_patch_changes_only_the_given_fields(client):
    org_id = client.post("/v1/organizations", json=organization()).json()["id"]
    patched = client.patch(f"/v1/organizations/{org_id}", json={"name": "Science Mentors"})
    assert patched.status_code == 200
    assert patched.json()["name"] == "Science Mentors"
    assert patched.json()["languages"] == ["en", "es"]
    assert len(patched.json()["locations"]) == 1


def test_patch_with_locations_replaces_them(client):
    org_id = client.post("/v1/organizations", json=organization()).json()["id"]
    new = [{"lat": 37.80, "lon": -122.27}, {"lat": 37.81, "lon": -122.26}]
    patched = client.patch(f"/v1/organizations/{org_id}", json={"locations": new})
    assert [(loc["lat"], loc["lon"]) for loc in patched.json()["locations"]] == [
        (37.80, -122.27),
        (37.81, -122.26),
    ]


def test_delete_removes_the_organization_and_its_offerings(client):
    org_id = client.post("/v1/organizations", json=organization()).json()["id"]
    offering = client.post(
        f"/v1/organizations/{org_id}/offerings",
        json={
            "title": "Tutoring",
            "categories": ["academic_support"],
            "grade_low": 1,
            "grade_high": 5,
        },
    )
    assert offering.status_code == 201, offering.text
    assert client.delete(f"/v1/organizations/{org_id}").status_code == 204
    assert client.get(f"/v1/organizations/{org_id}").status_code == 404
    assert client.get(f"/v1/offerings/{offering.json()['id']}").status_code == 404


def test_polygon_service_area_is_stored_as_rfc7946_geojson(client):
    ring = [[-122.3, 37.75], [-122.15, 37.75], [-122.15, 37.85], [-122.3, 37.85], [-122.3, 37.75]]
    body = organization(
        service_area={"kind": "polygon", "geometry": {"type": "Polygon", "coordinates": [ring]}}
    )
    created = client.post("/v1/organizations", json=body)
    assert created.status_code == 201, created.text
    geometry = created.json()["service_area"]["geometry"]
    assert geometry["type"] == "MultiPolygon"
    ring = geometry["coordinates"][0][0]
    assert ring[0] == ring[-1]
    assert {tuple(p) for p in ring} >= {(-122.3, 37.75), (-122.15, 37.85)}


def test_self_intersecting_polygon_is_a_422_saying_why(client):
    bowtie = [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]
    body = organization(
        service_area={"kind": "polygon", "geometry": {"type": "Polygon", "coordinates": [bowtie]}}
    )
    response = client.post("/v1/organizations", json=body)
    assert response.status_code == 422
    locs = problem_fields(response)
    assert locs[0][:4] == ["body", "service_area", "geometry", "coordinates"] or locs[0][:3] == [
        "body",
        "service_area",
        "geometry",
    ]
    assert "self-intersection" in response.json()["detail"].lower()
    assert client.get("/v1/organizations").json()["items"] == []


def test_latitude_out_of_range_names_the_field(client):
    body = organization(locations=[{"lat": 95, "lon": -122.27}])
    response = client.post("/v1/organizations", json=body)
    assert response.status_code == 422
    assert ["body", "locations", 0, "lat"] in problem_fields(response)


def test_unknown_organization_type_is_a_422_naming_the_field(client):
    response = client.post("/v1/organizations", json=organization(type="club"))
    assert response.status_code == 422
    assert ["body", "type"] in problem_fields(response)


def test_duplicate_external_id_is_a_409(client):
    body = organization(source="211-eastbay", external_id="org-1")
    assert client.post("/v1/organizations", json=body).status_code == 201
    second = client.post("/v1/organizations", json=body)
    assert second.status_code == 409
    assert second.headers["content-type"].startswith("application/problem+json")
    assert len(client.get("/v1/organizations").json()["items"]) == 1


def test_unknown_id_is_a_404_problem(client):
    response = client.get("/v1/organizations/999")
    assert response.status_code == 404
    assert response.json()["status"] == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_list_filters_by_type_and_text(client):
    client.post("/v1/organizations", json=organization(name="Alpha Church", type="faith_based"))
    client.post("/v1/organizations", json=organization(name="Beta Corp", type="business"))
    by_type = client.get("/v1/organizations", params={"type": "business"}).json()["items"]
    assert [o["name"] for o in by_type] == ["Beta Corp"]
    by_text = client.get("/v1/organizations", params={"q": "church"}).json()["items"]
    assert [o["name"] for o in by_text] == ["Alpha Church"]


def test_list_filters_by_offering_category(client):
    stem = client.post("/v1/organizations", json=organization(name="Stem Org")).json()["id"]
    client.post("/v1/organizations", json=organization(name="No Offerings"))
    client.post(
        f"/v1/organizations/{stem}/offerings",
        json={"title": "Robotics", "categories": ["stem"], "grade_low": 6, "grade_high": 8},
    )
    names = [
        o["name"]
        for o in client.get("/v1/organizations", params={"category": "stem"}).json()["items"]
    ]
    assert names == ["Stem Org"]


def test_cursor_pages_through_every_record_once(client):
    for n in range(7):
        client.post("/v1/organizations", json=organization(name=f"Org {n}"))
    seen, cursor = [], None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/organizations", params=params).json()
        seen += [o["name"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Org {n}" for n in range(7)]


def test_garbage_cursor_is_a_422_naming_the_cursor(client):
    response = client.get("/v1/organizations", params={"cursor": "not-a-cursor"})
    assert response.status_code == 422
    assert ["query", "cursor"] in problem_fields(response)


def test_a_polygon_that_would_densify_to_megabytes_is_a_422_naming_the_coordinates(client):
    from tests.geo.test_geo_area_size import comb

    body = organization(service_area={"kind": "polygon", "geometry": comb(100)})
    response = client.post("/v1/organizations", json=body)
    assert response.status_code == 422, response.text[:300]
    assert problem_fields(response)[0] == ["body", "service_area", "geometry", "coordinates"]
    assert "vertices" in response.text


def test_a_polygon_is_served_without_the_vertices_densifying_added(client, db):
    from sqlalchemy import select

    from app.models import Organization

    ring = [[-124.0, 40.0], [-114.0, 40.0], [-114.0, 42.0], [-124.0, 42.0], [-124.0, 40.0]]
    body = organization(
        service_area={"kind": "polygon", "geometry": {"type": "Polygon", "coordinates": [ring]}}
    )
    created = client.post("/v1/organizations", json=body)
    assert created.status_code == 201, created.text
    served = client.get(f"/v1/organizations/{created.json()['id']}").json()["service_area"]
    assert len(served["geometry"]["coordinates"][0][0]) <= 6
    with db.session() as session:
        stored = session.scalar(select(Organization.service_area))
    assert len(stored["coordinates"][0][0]) > 200  # kept dense for coverage on both backends
