"""A 422 echoes only input it can encode and never a password."""

from __future__ import annotations

import json

import pytest

from tests.api.factories import organization, school

# JSON that Python's parser accepts but strict JSON cannot carry back.
UNENCODABLE = ["NaN", "Infinity", "-Infinity", "1e400"]


@pytest.mark.parametrize("number", UNENCODABLE)
def test_a_non_finite_number_is_a_422_naming_the_field_not_a_500(client, number):
    text = json.dumps(school(frl_pct="__X__")).replace('"__X__"', number)
    response = client.post(
        "/v1/schools", content=text, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert ["body", "frl_pct"] in [e["loc"] for e in errors]
    assert all("input" not in e for e in errors if e["loc"] == ["body", "frl_pct"])


def test_a_lone_surrogate_is_a_422_naming_the_field_not_a_500(client):
    text = '{"name": "x", "type": "\\ud800"}'
    response = client.post(
        "/v1/organizations", content=text, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert ["body", "type"] in [e["loc"] for e in response.json()["errors"]]


def test_a_rejected_sign_up_does_not_echo_the_password(anon):
    secret = "Zq9x"  # too short, and a string no error message contains
    response = anon.post("/v1/users", json={"email": "a@example.org", "password": secret})
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert ["body", "password"] in [e["loc"] for e in errors]
    assert secret not in response.text


def test_a_small_ordinary_input_is_still_echoed(client):
    response = client.post("/v1/organizations", json=organization(type="charity"))
    assert response.status_code == 422
    [error] = [e for e in response.json()["errors"] if e["loc"] == ["body", "type"]]
    assert error["input"] == "charity"
