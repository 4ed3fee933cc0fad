"""The Oakland demo data: loads into either backend, twice without duplicates, and answers."""

import pytest
from sqlalchemy import func, select

from app.demo.oakland import load_oakland
from app.models import NeedsAssessment, Offering, Organization, Partnership, School
from app.services import demo


@pytest.fixture(scope="module")
def oakland():
    return load_oakland()


def _counts(database):
    with database.session() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (School, Organization, Offering, NeedsAssessment, Partnership)
        }


def test_demo_loads_every_record_once_even_when_run_twice(db, oakland):
    with db.session() as session:
        demo.load(session=session, data=oakland)
    first = _counts(db)
    with db.session() as session:
        demo.load(session=session, data=oakland)
    assert _counts(db) == first
    assert first == {
        "School": len(oakland.schools),
        "Organization": len(oakland.organizations),
        "Offering": len(oakland.offerings),
        "NeedsAssessment": len(oakland.needs_assessments),
        "Partnership": len(oakland.partnerships),
    }


def test_the_2011_records_load_as_completed_partnerships_of_their_school_year(db, oakland):
    with db.session() as session:
        demo.load(session=session, data=oakland)
        rows = session.execute(
            select(Partnership.status, Partnership.proposed_by, Partnership.term_start)
        ).all()
    assert len(rows) == len(oakland.partnerships) > 1000
    assert {(status, by) for status, by, _ in rows} == {("completed", "import")}
    assert {start.isoformat() for _, _, start in rows} == {"2011-08-15", "2012-08-15"}


def test_demo_answers_real_queries(db, client, oakland):
    with db.session() as session:
        demo.load(session=session, data=oakland)
    schools = client.get("/v1/schools", params={"near": "37.8053,-122.2725", "radius_km": 2})
    assert schools.status_code == 200
    items = schools.json()["items"]
    assert items, "some OUSD schools lie within 2 km of City Hall"
    assert all(s["district"] == "Oakland Unified School District" for s in items)
    distances = [s["distance_m"] for s in items]
    assert distances == sorted(distances) and distances[-1] <= 2000

    with_frl = [s for s in oakland.schools if s.frl_pct is not None]
    needy = client.get("/v1/schools", params={"min_need_index": 0.0, "limit": 500}).json()
    assert len(needy["items"]) == len(with_frl)

    school_id = items[0]["id"]
    latest = client.get(f"/v1/schools/{school_id}/needs-assessments/latest")
    if latest.status_code == 200:
        assert latest.json()["is_example"] is True
        assert latest.json()["needs"][0]["priority"] == 1
    else:
        assert latest.status_code == 404

    offerings = client.get(
        "/v1/offerings", params={"near": "37.8053,-122.2725", "radius_km": 5, "limit": 5}
    ).json()
    assert len(offerings["items"]) == 5
    assert all(o["distance_m"] <= 5000 for o in offerings["items"])
