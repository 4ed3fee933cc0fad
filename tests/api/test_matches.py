"""Rankings over HTTP: both directions, explanations, filters, and freshness after writes."""

import dataclasses

import pytest

from app.services.catalog_index import CatalogIndex
from app.settings import get_settings
from tests.api.factories import offering, organization, problem_fields, school

NEAR = {"lat": 37.790, "lon": -122.206}
FAR = {"lat": 37.700, "lon": -122.100}


def _org(client, name, where, **changes):
    body = organization(name=name, locations=[where], service_area={"kind": "none"}, **changes)
    created = client.post("/v1/organizations", json=body)
    assert created.status_code == 201, created.text
    return created.json()["id"]


def _offering(client, org_id, **changes):
    created = client.post(f"/v1/organizations/{org_id}/offerings", json=offering(**changes))
    assert created.status_code == 201, created.text
    return created.json()["id"]


@pytest.fixture
def school_id(client):
    sid = client.post("/v1/schools", json=school()).json()["id"]
    filed = client.post(
        f"/v1/schools/{sid}/needs-assessments",
        json={
            "assessed_on": "2026-09-01",
            "needs": [
                {"category": "mental_health_sel", "priority": 1},
                {"category": "arts", "priority": 4},
            ],
        },
    )
    assert filed.status_code == 201, filed.text
    return sid


def _ranked(client, school_id, **params):
    response = client.get(f"/v1/schools/{school_id}/matches", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_meeting_the_top_need_outranks_meeting_a_minor_one(client, school_id):
    org = _org(client, "Partner", NEAR)
    arts = _offering(
        client, org, title="Mural club", categories=["arts"], grade_low=0, grade_high=5, cost="free"
    )
    counseling = _offering(
        client,
        org,
        title="School counseling",
        categories=["mental_health_sel"],
        grade_low=0,
        grade_high=5,
        cost="free",
    )
    items = _ranked(client, school_id)["items"]
    assert [i["offering"]["id"] for i in items[:2]] == [counseling, arts]
    top = items[0]
    assert top["needs_met"][0]["category"] == "mental_health_sel"
    assert top["reason"]


def test_contributions_add_up_to_the_score(client, school_id):
    org = _org(client, "Partner", NEAR)
    _offering(client, org, categories=["mental_health_sel"], grade_low=0, grade_high=5)
    _offering(
        client, org, categories=["arts"], grade_low=0, grade_high=5, cost="fee", cost_amount=100.0
    )
    for item in _ranked(client, school_id)["items"]:
        total = sum(c["points"] for c in item["contributions"])
        assert total == pytest.approx(item["score"], abs=1e-9)
        assert {c["component"] for c in item["contributions"]} == {
            "fit",
            "reach",
            "constraints",
            "equity",
        }


def test_nearer_beats_farther_all_else_equal(client, school_id):
    near = _offering(
        client,
        _org(client, "Near", NEAR),
        categories=["mental_health_sel"],
        grade_low=0,
        grade_high=5,
    )
    far = _offering(
        client,
        _org(client, "Far", FAR),
        categories=["mental_health_sel"],
        grade_low=0,
        grade_high=5,
    )
    ids = [i["offering"]["id"] for i in _ranked(client, school_id)["items"]]
    assert ids.index(near) < ids.index(far)


def test_new_changed_and_removed_offerings_show_in_the_next_ranking(client, school_id):
    org = _org(client, "Partner", NEAR)
    first = _offering(client, org, categories=["arts"], grade_low=0, grade_high=5)
    assert [i["offering"]["id"] for i in _ranked(client, school_id)["items"]] == [first]

    second = _offering(client, org, categories=["mental_health_sel"], grade_low=0, grade_high=5)
    assert _ranked(client, school_id)["items"][0]["offering"]["id"] == second

    client.patch(f"/v1/offerings/{second}", json={"categories": ["stem"]})
    assert _ranked(client, school_id)["items"][0]["offering"]["id"] == first

    client.delete(f"/v1/offerings/{first}")
    assert first not in [i["offering"]["id"] for i in _ranked(client, school_id)["items"]]

    client.delete(f"/v1/organizations/{org}")
    assert _ranked(client, school_id)["items"] == []


def test_every_worker_index_sees_a_write_made_through_another(client, db, school_id):
    other_worker = CatalogIndex()
    with db.session() as session:
        assert len(other_worker.current(session)) == 0
    org = _org(client, "Partner", NEAR)
    offering_id = _offering(client, org, categories=["arts"], grade_low=0, grade_high=5)
    with db.session() as session:
        index = other_worker.current(session)
        assert offering_id in index
    client.delete(f"/v1/offerings/{offering_id}")
    with db.session() as session:
        assert offering_id not in other_worker.current(session)


def test_a_catch_up_that_fills_the_append_buffer_rebuilds_the_index(client, db):
    """Only a look at the change log changes an index, so a rebuild is asked for then (not
    on every ranking within the freshness bound): the ranking after it finds none buffered."""
    config = dataclasses.replace(get_settings().ranking, rebuild_buffer_rows=1)
    other_worker = CatalogIndex(config)
    with db.session() as session:
        assert len(other_worker.current(session)) == 0
    org = _org(client, "Partner", NEAR)
    ids = [_offering(client, org, categories=["arts"], grade_low=0, grade_high=5) for _ in range(2)]
    with db.session() as session:
        index = other_worker.current(session)
        assert index.buffered == 0
        assert all(i in index for i in ids)


def test_hard_filters_exclude_what_they_name(client, school_id):
    org = _org(client, "Partner", NEAR)
    free = _offering(
        client, org, categories=["mental_health_sel"], grade_low=0, grade_high=5, cost="free"
    )
    _offering(
        client,
        org,
        categories=["mental_health_sel"],
        grade_low=0,
        grade_high=5,
        cost="fee",
        cost_amount=300.0,
    )
    ids = [i["offering"]["id"] for i in _ranked(client, school_id, free="true")["items"]]
    assert ids == [free]


def test_school_without_assessment_is_a_404_that_says_what_to_do(client):
    sid = client.post("/v1/schools", json=school()).json()["id"]
    response = client.get(f"/v1/schools/{sid}/matches")
    assert response.status_code == 404
    assert "needs-assessments" in response.json()["detail"]


def test_pages_of_a_ranking_do_not_repeat(client, school_id):
    org = _org(client, "Partner", NEAR)
    for n in range(5):
        _offering(
            client,
            org,
            title=f"Counseling {n}",
            categories=["mental_health_sel"],
            grade_low=0,
            grade_high=5,
        )
    first = _ranked(client, school_id, limit=2)
    second = _ranked(client, school_id, limit=2, cursor=first["next_cursor"])
    assert second["items"][0]["rank"] == 3
    seen = {i["offering"]["id"] for i in first["items"]} | {
        i["offering"]["id"] for i in second["items"]
    }
    assert len(seen) == 4
    # The page shown is explained as in the whole ranking (only the page is explained).
    whole = _ranked(client, school_id, limit=5)["items"]
    assert second["items"] == whole[2:4]


def test_ad_hoc_matches_for_a_location(client):
    org = _org(client, "Partner", NEAR)
    wanted = _offering(client, org, categories=["literacy"], grade_low=0, grade_high=5)
    response = client.post(
        "/v1/matches",
        json={
            "location": {"lat": 37.7887, "lon": -122.205, "grade_low": "K", "grade_high": 5},
            "needs": [{"category": "literacy", "priority": 1}],
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["items"][0]["offering"]["id"] == wanted


def test_ad_hoc_matches_need_exactly_one_place(client, school_id):
    both = client.post(
        "/v1/matches",
        json={
            "school_id": school_id,
            "location": {"lat": 1, "lon": 1},
            "needs": [{"category": "literacy", "priority": 1}],
        },
    )
    assert both.status_code == 422
    unknown = client.post(
        "/v1/matches",
        json={"school_id": school_id, "needs": [{"category": "astrology", "priority": 1}]},
    )
    assert unknown.status_code == 422
    assert problem_fields(unknown) == [["body", "needs", 0, "category"]]


def test_ad_hoc_reversed_grade_ranges_are_422_naming_the_field(client, school_id):
    need = {"category": "literacy", "priority": 1, "grade_low": 8, "grade_high": 3}
    in_need = client.post("/v1/matches", json={"school_id": school_id, "needs": [need]})
    assert in_need.status_code == 422, in_need.text
    assert in_need.headers["content-type"] == "application/problem+json"
    assert problem_fields(in_need) == [["body", "needs", 0, "grade_high"]]
    in_filter = client.post(
        "/v1/matches",
        json={
            "school_id": school_id,
            "needs": [{"category": "literacy", "priority": 1}],
            "filters": {"grade_low": 9, "grade_high": 2},
        },
    )
    assert in_filter.status_code == 422, in_filter.text
    assert problem_fields(in_filter) == [["body", "filters", "grade_high"]]


def test_reverse_ranking_puts_the_higher_need_school_first_when_fit_is_equal(client):
    needs = {"assessed_on": "2026-09-01", "needs": [{"category": "literacy", "priority": 1}]}
    rich = client.post(
        "/v1/schools", json=school(name="Rich", frl_pct=5.0, title_i=False, el_pct=2.0)
    ).json()["id"]
    poor = client.post(
        "/v1/schools", json=school(name="Poor", frl_pct=95.0, title_i=True, el_pct=60.0)
    ).json()["id"]
    for sid in (rich, poor):
        client.post(f"/v1/schools/{sid}/needs-assessments", json=needs)
    org = _org(client, "Readers", NEAR)
    _offering(client, org, categories=["literacy"], grade_low=0, grade_high=5)
    ranked = client.get(f"/v1/organizations/{org}/school-matches", params={"equity": 0.5}).json()[
        "items"
    ]
    assert [s["school_name"] for s in ranked] == ["Poor", "Rich"]
    assert ranked[0]["need_index"] > ranked[1]["need_index"]


def test_reverse_ranking_of_an_organization_without_offerings_is_a_422(client):
    org = _org(client, "Empty", NEAR)
    response = client.get(f"/v1/organizations/{org}/school-matches")
    assert response.status_code == 422


def test_ad_hoc_matches_for_an_unknown_school_is_a_documented_404(client):
    response = client.post(
        "/v1/matches",
        json={"school_id": 987654, "needs": [{"category": "literacy", "priority": 1}]},
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    documented = client.get("/openapi.json").json()["paths"]["/v1/matches"]["post"]["responses"]
    assert "application/problem+json" in documented["404"]["content"]


def _district_with_equity(db, name, equity):
    from app.auth.principal import OPERATOR
    from app.services import districts

    with db.session() as session:
        districts.create(session=session, principal=OPERATOR, name=name, ranking_equity=equity)


def test_a_district_equity_default_applies_when_the_request_gives_none(client, db):
    _district_with_equity(db, "Equity Unified", 0.6)
    sid = client.post("/v1/schools", json=school(district="Equity Unified")).json()["id"]
    other = client.post("/v1/schools", json=school(district="Plain Unified")).json()["id"]
    for s in (sid, other):
        client.post(
            f"/v1/schools/{s}/needs-assessments",
            json={"assessed_on": "2026-09-01", "needs": [{"category": "arts", "priority": 1}]},
        )
    org = _org(client, "Partner", NEAR)
    _offering(client, org, categories=["arts"], grade_low=0, grade_high=5)

    assert _ranked(client, sid)["equity"] == 0.6
    assert _ranked(client, sid, equity=0.1)["equity"] == 0.1
    assert _ranked(client, other)["equity"] == 0.3  # the service default, EQUITY_DEFAULT
    needs = [{"category": "arts", "priority": 1}]
    ad_hoc = client.post("/v1/matches", json={"school_id": sid, "needs": needs}).json()
    assert ad_hoc["equity"] == 0.6
    reverse = client.get(
        f"/v1/organizations/{org}/school-matches", params={"district": "Equity Unified"}
    ).json()
    assert reverse["equity"] == 0.6
    assert client.get(f"/v1/organizations/{org}/school-matches").json()["equity"] == 0.3


def test_the_equity_default_setting_is_the_ranking_default(db, settings, school_id):
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.conftest import user_token

    _, token = user_token(db, "equity@partnermap.test", "admin")
    app = create_app(settings.model_copy(update={"equity_default": 0.45}), database=db)
    with TestClient(app) as configured:
        configured.headers["Authorization"] = f"Bearer {token}"
        org = _org(configured, "Partner", NEAR)
        _offering(configured, org, categories=["arts"], grade_low=0, grade_high=5)
        assert _ranked(configured, school_id)["equity"] == 0.45


def test_group_organization_gives_one_item_per_organization_with_the_others_nested(
    client, school_id
):
    # Issue 12 defect 3: one organization's offerings crowded the page.
    crowd = _org(client, "Crowd", NEAR)
    ids = [
        _offering(client, crowd, title=f"Counseling {i}", categories=["mental_health_sel"])
        for i in range(3)
    ]
    other = _org(client, "Other", FAR)
    single = _offering(client, other, categories=["mental_health_sel"])
    flat = _ranked(client, school_id)
    assert flat["group"] == "offering"
    assert [i["offering"]["organization_id"] for i in flat["items"][:3]] == [crowd] * 3
    grouped = _ranked(client, school_id, group="organization")
    assert grouped["group"] == "organization"
    items = grouped["items"]
    assert [(i["rank"], i["offering"]["organization_id"]) for i in items] == [
        (1, crowd),
        (2, other),
    ]
    nested = items[0]["other_offerings"]
    assert sorted([items[0]["offering"]["id"], *(o["id"] for o in nested)]) == ids
    assert [o["rank"] for o in nested] == sorted(o["rank"] for o in nested)
    assert all(o["title"].startswith("Counseling ") for o in nested)
    assert items[1]["offering"]["id"] == single and items[1]["other_offerings"] == []


def test_group_is_validated_naming_the_parameter(client, school_id):
    response = client.get(f"/v1/schools/{school_id}/matches", params={"group": "district"})
    assert response.status_code == 422
    assert ["query", "group"] in problem_fields(response)


def test_an_organization_is_ranked_from_its_location_nearest_the_school(client, school_id):
    # Issue 12 defect 2: only the first location counted.
    body = organization(
        name="Two sites",
        locations=[{"lat": 38.5, "lon": -121.5}, NEAR],
        service_area={"kind": "none"},
    )
    org = client.post("/v1/organizations", json=body).json()["id"]
    offering_id = _offering(client, org, categories=["mental_health_sel"])
    items = _ranked(client, school_id)["items"]
    assert [i["offering"]["id"] for i in items] == [offering_id]
    assert items[0]["distance_km"] < 2.0


def test_a_school_is_ranked_for_an_organization_from_its_location_nearest_it(client, school_id):
    # Issue 12 defect 2, reverse ranking: only the first location counted.
    body = organization(
        name="Two sites",
        locations=[{"lat": 38.5, "lon": -121.5}, NEAR],
        service_area={"kind": "none"},
    )
    org = client.post("/v1/organizations", json=body).json()["id"]
    _offering(client, org, categories=["mental_health_sel"])
    response = client.get(f"/v1/organizations/{org}/school-matches")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["school_id"] for i in items] == [school_id]
    assert items[0]["distance_km"] < 2.0
