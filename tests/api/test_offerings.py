import pytest

from tests.api.factories import offering, organization, problem_fields


@pytest.fixture
def org_id(client):
    return client.post("/v1/organizations", json=organization()).json()["id"]


def test_create_get_patch_delete_offering(client, org_id):
    created = client.post(f"/v1/organizations/{org_id}/offerings", json=offering())
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["organization"]["id"] == org_id
    assert body["categories"] == ["stem"]
    assert client.get(f"/v1/offerings/{body['id']}").json() == body

    patched = client.patch(f"/v1/offerings/{body['id']}", json={"grade_high": 12})
    assert patched.status_code == 200
    assert (patched.json()["grade_low"], patched.json()["grade_high"]) == (6, 12)

    assert client.delete(f"/v1/offerings/{body['id']}").status_code == 204
    assert client.get(f"/v1/offerings/{body['id']}").status_code == 404


def test_grade_labels_are_accepted(client, org_id):
    created = client.post(
        f"/v1/organizations/{org_id}/offerings", json=offering(grade_low="PK", grade_high="K")
    )
    assert created.status_code == 201, created.text
    assert (created.json()["grade_low"], created.json()["grade_high"]) == ("PK", "K")


def test_reversed_grade_range_is_a_422_naming_grade_high(client, org_id):
    response = client.post(
        f"/v1/organizations/{org_id}/offerings", json=offering(grade_low=9, grade_high=3)
    )
    assert response.status_code == 422
    assert problem_fields(response) == [["body", "grade_high"]]


def test_patch_cannot_reverse_the_grade_range(client, org_id):
    offering_id = client.post(f"/v1/organizations/{org_id}/offerings", json=offering()).json()["id"]
    response = client.patch(f"/v1/offerings/{offering_id}", json={"grade_low": 11})
    assert response.status_code == 422
    assert client.get(f"/v1/offerings/{offering_id}").json()["grade_low"] == 6


def test_unknown_category_is_a_422_naming_its_position(client, org_id):
    response = client.post(
        f"/v1/organizations/{org_id}/offerings",
        json=offering(categories=["stem", "underwater_basket_weaving"]),
    )
    assert response.status_code == 422
    assert problem_fields(response) == [["body", "categories", 1]]
    assert client.get("/v1/offerings").json()["items"] == []


def test_fee_without_amount_is_a_422(client, org_id):
    response = client.post(f"/v1/organizations/{org_id}/offerings", json=offering(cost="fee"))
    assert response.status_code == 422
    assert problem_fields(response) == [["body", "cost_amount"]]


def test_offering_for_unknown_organization_is_a_404(client):
    response = client.post("/v1/organizations/4242/offerings", json=offering())
    assert response.status_code == 404


def test_filters_select_exactly_the_matching_offerings(client, org_id):
    def add(**changes):
        return client.post(
            f"/v1/organizations/{org_id}/offerings", json=offering(**changes)
        ).json()["id"]

    robotics = add(title="Robotics", categories=["stem"], cost="free")
    paid_art = add(
        title="Mural art",
        categories=["arts"],
        cost="fee",
        cost_amount=500,
        schedule=["weekends"],
        delivery=["at_partner_site"],
        languages=["zh"],
        grade_low=9,
        grade_high=12,
    )

    def ids(**params):
        return [o["id"] for o in client.get("/v1/offerings", params=params).json()["items"]]

    assert ids(category="stem") == [robotics]
    assert ids(category="arts") == [paid_art]
    assert ids(free="true") == [robotics]
    assert ids(grade=10) == [paid_art]
    assert ids(grade="K") == []
    assert ids(schedule="weekends") == [paid_art]
    assert ids(delivery="at_school") == [robotics]
    assert ids(language="zh") == [paid_art]
    assert ids(q="MURAL") == [paid_art]
    assert sorted(ids(category=["stem", "arts"])) == sorted([robotics, paid_art])


def test_category_branch_filter_includes_children(client, org_id):
    taxonomy = client.get("/v1/taxonomy").json()["categories"]
    child = next(c for c in taxonomy if c["parent"] == "stem")
    offering_id = client.post(
        f"/v1/organizations/{org_id}/offerings", json=offering(categories=[child["code"]])
    ).json()["id"]
    found = client.get("/v1/offerings", params={"category": "stem"}).json()["items"]
    assert [o["id"] for o in found] == [offering_id]


def test_unknown_category_filter_is_a_422(client):
    response = client.get("/v1/offerings", params={"category": "nope"})
    assert response.status_code == 422
    assert problem_fields(response) == [["query", "category", 0]]
