from tests.api.factories import assessment, problem_fields, school


def test_school_gets_a_need_index_from_its_indicators(client):
    created = client.post("/v1/schools", json=school())
    assert created.status_code == 201, created.text
    body = created.json()
    assert 0 <= body["need_index"] <= 1
    assert (body["grade_low"], body["grade_high"]) == ("K", 5)


def test_higher_poverty_gives_a_higher_need_index(client):
    low = client.post("/v1/schools", json=school(name="A", frl_pct=10.0)).json()
    high = client.post("/v1/schools", json=school(name="B", frl_pct=95.0)).json()
    assert high["need_index"] > low["need_index"]


def test_school_without_indicators_has_no_need_index(client):
    body = school()
    for key in ("frl_pct", "title_i", "el_pct", "locale"):
        body.pop(key)
    created = client.post("/v1/schools", json=body)
    assert created.status_code == 201
    assert created.json()["need_index"] is None


def test_patching_an_indicator_recomputes_the_need_index(client):
    created = client.post("/v1/schools", json=school(frl_pct=20.0)).json()
    patched = client.patch(f"/v1/schools/{created['id']}", json={"frl_pct": 90.0}).json()
    assert patched["need_index"] > created["need_index"]


def test_duplicate_nces_id_is_a_409(client):
    assert client.post("/v1/schools", json=school(nces_id="060177000041")).status_code == 201
    again = client.post("/v1/schools", json=school(name="Other", nces_id="060177000041"))
    assert again.status_code == 409
    assert len(client.get("/v1/schools").json()["items"]) == 1


def test_frl_over_100_percent_is_a_422_naming_the_field(client):
    response = client.post("/v1/schools", json=school(frl_pct=140))
    assert response.status_code == 422
    assert ["body", "frl_pct"] in problem_fields(response)


def test_assessments_keep_history_and_latest_is_the_newest_date(client):
    school_id = client.post("/v1/schools", json=school()).json()["id"]
    older = client.post(
        f"/v1/schools/{school_id}/needs-assessments", json=assessment(assessed_on="2025-09-01")
    )
    newer = client.post(
        f"/v1/schools/{school_id}/needs-assessments", json=assessment(assessed_on="2026-09-15")
    )
    assert older.status_code == newer.status_code == 201, older.text
    latest = client.get(f"/v1/schools/{school_id}/needs-assessments/latest").json()
    assert latest["id"] == newer.json()["id"]
    assert [n["priority"] for n in latest["needs"]] == [1, 3]
    history = client.get(f"/v1/schools/{school_id}/needs-assessments").json()["items"]
    assert {a["assessed_on"] for a in history} == {"2025-09-01", "2026-09-15"}


def test_backdated_assessment_does_not_become_latest(client):
    school_id = client.post("/v1/schools", json=school()).json()["id"]
    current = client.post(
        f"/v1/schools/{school_id}/needs-assessments", json=assessment(assessed_on="2026-09-15")
    ).json()
    client.post(
        f"/v1/schools/{school_id}/needs-assessments", json=assessment(assessed_on="2020-01-01")
    )
    latest = client.get(f"/v1/schools/{school_id}/needs-assessments/latest").json()
    assert latest["id"] == current["id"]


def test_assessment_with_unknown_category_writes_nothing(client):
    school_id = client.post("/v1/schools", json=school()).json()["id"]
    body = assessment()
    body["needs"][1]["category"] = "time_travel"
    response = client.post(f"/v1/schools/{school_id}/needs-assessments", json=body)
    assert response.status_code == 422
    assert problem_fields(response) == [["body", "needs", 1, "category"]]
    assert client.get(f"/v1/schools/{school_id}/needs-assessments").json()["items"] == []


def test_priority_outside_1_to_5_is_a_422(client):
    school_id = client.post("/v1/schools", json=school()).json()["id"]
    body = assessment()
    body["needs"][0]["priority"] = 9
    response = client.post(f"/v1/schools/{school_id}/needs-assessments", json=body)
    assert ["body", "needs", 0, "priority"] in problem_fields(response)


def test_latest_for_a_school_without_assessments_is_a_404(client):
    school_id = client.post("/v1/schools", json=school()).json()["id"]
    response = client.get(f"/v1/schools/{school_id}/needs-assessments/latest")
    assert response.status_code == 404


def test_schools_filter_by_district_grade_and_need(client):
    client.post("/v1/schools", json=school(name="Elem", frl_pct=90.0))
    client.post(
        "/v1/schools",
        json=school(
            name="High",
            grade_low=9,
            grade_high=12,
            frl_pct=5.0,
            title_i=False,
            el_pct=1.0,
            district="Other USD",
        ),
    )

    def names(**params):
        return [s["name"] for s in client.get("/v1/schools", params=params).json()["items"]]

    assert names(grade=10) == ["High"]
    assert names(district="Other USD") == ["High"]
    assert names(min_need_index=0.5) == ["Elem"]
