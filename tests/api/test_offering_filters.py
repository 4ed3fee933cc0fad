"""One offering-filter dependency behind offerings, organizations and school rankings."""

from __future__ import annotations

import pytest

from app.routers.params import OFFERING_FILTER_PARAMS
from tests.api.factories import offering, organization, problem_fields

ROUTES = ["/v1/offerings", "/v1/organizations", "/v1/schools/{school_id}/matches"]


def test_routes_publish_each_offering_filter_with_one_schema_but_their_own_wording(client):
    paths = client.get("/openapi.json").json()["paths"]
    seen: dict[str, list[dict]] = {}
    for route in ROUTES:
        for param in paths[route]["get"]["parameters"]:
            if param["name"] in OFFERING_FILTER_PARAMS and param["name"] not in ("q", "type"):
                schema = {k: v for k, v in param["schema"].items() if k != "description"}
                seen.setdefault(param["name"], []).append(schema)
    assert set(seen) >= {"category", "grade", "schedule", "delivery", "language", "free"}
    for name, schemas in seen.items():
        assert all(s == schemas[0] for s in schemas), name


@pytest.mark.parametrize("route", ["/v1/offerings", "/v1/organizations"])
def test_unknown_category_filter_is_a_422_naming_its_position(client, route):
    response = client.get(route, params=[("category", "stem"), ("category", "nope")])
    assert response.status_code == 422
    assert problem_fields(response) == [["query", "category", 1]]


def test_organization_language_filter_reads_the_organizations_languages(client):
    org_id = client.post("/v1/organizations", json=organization(languages=["vi"])).json()["id"]
    made = client.post(f"/v1/organizations/{org_id}/offerings", json=offering(languages=["en"]))
    assert made.status_code == 201, made.text
    by_org = client.get("/v1/organizations", params={"language": "vi"}).json()["items"]
    by_offering = client.get("/v1/organizations", params={"language": "en"}).json()["items"]
    assert [o["id"] for o in by_org] == [org_id]
    assert by_offering == []


def test_organization_offering_filters_apply_to_its_offerings(client):
    org_id = client.post("/v1/organizations", json=organization()).json()["id"]
    client.post(f"/v1/organizations/{org_id}/offerings", json=offering(schedule=["summer"]))
    summer = client.get("/v1/organizations", params={"schedule": "summer"}).json()["items"]
    weekends = client.get("/v1/organizations", params={"schedule": "weekends"}).json()["items"]
    assert [o["id"] for o in summer] == [org_id]
    assert weekends == []
