"""The one exception-to-status table: complete, and the only source of statuses and headers."""

from __future__ import annotations

import inspect

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import app.domain_errors as domain_errors
from app.domain_errors import DomainError, TooManyRequests, Unauthorized
from app.errors import STATUS_CODES, add_exception_handlers
from geo import GeometryError, parse_bbox
from matching import Need, RankingInputError


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_domain_error_has_its_own_row_in_the_status_table():
    raised = {DomainError, GeometryError, RankingInputError} | _subclasses(DomainError)
    missing = sorted(cls.__name__ for cls in raised if cls not in STATUS_CODES)
    assert missing == []


def test_domain_errors_carry_no_http_status():
    for cls in [DomainError, *_subclasses(DomainError)]:
        assert not {"status", "title", "slug", "headers"} & set(vars(cls)), cls
    imports = [line for line in inspect.getsource(domain_errors).splitlines() if "import" in line]
    assert not [line for line in imports if "fastapi" in line or "starlette" in line]


def _app_raising(exc: Exception) -> TestClient:
    app = FastAPI()
    add_exception_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise exc

    return TestClient(app)


def test_a_401_challenges_with_the_bearer_scheme_from_the_table():
    response = _app_raising(Unauthorized("Log in first.")).get("/boom")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="partnermap"'
    assert response.json()["type"].endswith("/unauthorized")


def test_a_429_says_when_to_retry():
    response = _app_raising(TooManyRequests("Slow down.", retry_after=7)).get("/boom")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"


def test_a_geometry_error_is_a_422_naming_where_in_the_input():
    with pytest.raises(GeometryError) as caught:
        parse_bbox("-122,38,-121,37")
    response = _app_raising(caught.value.under("body", "area")).get("/boom")
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["loc"] == ["body", "area", *caught.value.path]
    assert body["errors"][0]["type"] == "invalid_geometry"
    assert body["detail"] == caught.value.reason


def test_a_ranking_input_error_is_a_422_naming_the_field_not_a_500():
    with pytest.raises(RankingInputError) as caught:
        Need("literacy", priority=9)
    response = _app_raising(caught.value).get("/boom")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["loc"] == ["priority"]


def test_an_inverted_bbox_is_a_422_naming_bbox(client):
    response = client.get("/v1/offerings", params={"bbox": "-122,38,-121,37"})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == [["query", "bbox"]]
