"""Issue 13 and 11: validation messages in words (bbox, near, grade), grades read and written as
PK, K, 1..12, /v1/gaps naming its district by slug or id, and names that cannot impersonate."""

from __future__ import annotations

import pytest

from tests.api.factories import offering, organization, school


def _messages(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    return [e["msg"] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("path", "params", "words"),
    [
        ("/v1/schools", {"bbox": "1,2,3"}, "minLon,minLat,maxLon,maxLat"),
        ("/v1/offerings", {"near": "north"}, "lat,lon"),
        ("/v1/schools", {"grade": "13"}, "PK, K"),
        ("/v1/offerings", {"grade": "first"}, "1 to 12"),
    ],
)
def test_bad_bbox_near_and_grade_are_explained_in_words_not_a_regex(anon, path, params, words):
    messages = _messages(anon.get(path, params=params))
    assert any(words in m for m in messages), messages
    assert not any("pattern" in m or "^" in m for m in messages), messages


def test_grades_are_written_pk_k_and_numbers_and_kg_is_read_as_k(client):
    created = client.post("/v1/schools", json=school(grade_low="PK", grade_high=5))
    assert created.status_code == 201, created.text
    assert (created.json()["grade_low"], created.json()["grade_high"]) == ("PK", 5)
    org = client.post("/v1/organizations", json=organization()).json()["id"]
    made = client.post(
        f"/v1/organizations/{org}/offerings", json=offering(grade_low="KG", grade_high=3)
    )
    assert made.status_code == 201, made.text
    assert (made.json()["grade_low"], made.json()["grade_high"]) == ("K", 3)
    assert [
        o["id"] for o in client.get("/v1/offerings", params={"grade": "KG"}).json()["items"]
    ] == [made.json()["id"]]


def test_the_published_grade_of_a_response_is_pk_k_or_1_to_12(anon):
    schema = anon.get("/openapi.json").json()["components"]["schemas"]
    out = schema.get("SchoolOut") or schema["SchoolOut-Output"]
    grade = out["properties"]["grade_low"]
    assert {"type": "string", "enum": ["K", "PK"]} in grade["anyOf"]
    assert {"type": "integer", "minimum": 1, "maximum": 12} in grade["anyOf"]


def test_gaps_take_the_district_slug_or_id_as_the_cli_does(client):
    made = client.post(
        "/v1/schools", json=school(district="Oakland Unified School District")
    ).json()
    district_id = made["district_id"]
    slug = client.get(f"/v1/districts/{district_id}").json()["slug"]
    for ref in (slug, str(district_id)):
        response = client.get("/v1/gaps", params={"district": ref})
        assert response.status_code == 200, (ref, response.text)
        assert [s["school_id"] for s in response.json()["schools"]] == [made["id"]]
    assert client.get("/v1/gaps", params={"district": "no-such-district"}).status_code == 404


@pytest.mark.parametrize(
    "disguised",
    [
        "Oakland\u200b Leaf Foundation",  # zero-width space
        "\u202eOakland Leaf Foundation",  # right-to-left override
        "Oakland\u2028Leaf\u00a0 Foundation",  # line separator, no-break space
        "Oakland Leaf Foundation\u200f",  # right-to-left mark
    ],
)
def test_names_with_invisible_or_direction_characters_are_normalised(client, disguised):
    made = client.post("/v1/organizations", json=organization(name=disguised))
    assert made.status_code == 201, made.text
    assert made.json()["name"] == "Oakland Leaf Foundation"


def test_a_name_of_only_invisible_characters_is_refused_naming_the_field(client):
    refused = client.post("/v1/organizations", json=organization(name="\u200b\u202e"))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["body", "name"]
