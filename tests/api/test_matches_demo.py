"""The ranking model's behaviour pinned on the real Oakland demo data."""

import pytest
from sqlalchemy import select

from app.demo.oakland import load_oakland
from app.models import NeedsAssessment, School
from app.schemas.common import GRADE_LABELS
from app.services import demo


@pytest.fixture
def oakland(db):
    with db.session() as session:
        demo.load(session=session, data=load_oakland())
        assessed = session.scalars(
            select(School)
            .where(School.id.in_(select(NeedsAssessment.school_id)))
            .order_by(School.id)
        ).all()
    return assessed


def test_the_top_match_meets_a_top_priority_need_for_every_assessed_school(client, oakland):
    for school in oakland:
        page = client.get(f"/v1/schools/{school.id}/matches", params={"limit": 1}).json()
        top = page["items"][0]
        assert any(n["priority"] == 1 for n in top["needs_met"]), (school.name, top)


GRADES = ("grade_low", "grade_high")


def test_no_top_match_is_out_of_the_schools_grades(client, oakland):
    for school in oakland:
        for item in client.get(f"/v1/schools/{school.id}/matches", params={"limit": 3}).json()[
            "items"
        ]:
            offering = client.get(f"/v1/offerings/{item['offering']['id']}").json()
            low, high = (GRADE_LABELS.get(offering[g], offering[g]) for g in GRADES)
            assert low <= school.grade_high, (school.name, offering["title"])
            assert high >= school.grade_low, (school.name, offering["title"])


def test_explanations_add_up_on_real_rankings(client, oakland):
    for school in oakland[:20]:
        for item in client.get(f"/v1/schools/{school.id}/matches").json()["items"]:
            assert sum(c["points"] for c in item["contributions"]) == pytest.approx(
                item["score"], abs=1e-9
            )


def test_raising_equity_never_lets_a_lower_need_school_pass_a_higher_need_one(client, oakland):
    """The issue's "raising equity never lowers a high-need school", stated so it can hold when
    several schools are high-need: a school is only ever overtaken by schools of higher need."""
    need = {s.id: s.need_index for s in oakland if s.need_index is not None}
    for org_id in (18, 44, 105):
        ranks = {}
        for equity in (0.0, 0.5, 1.0):
            items = client.get(
                f"/v1/organizations/{org_id}/school-matches",
                params={"equity": equity, "limit": 100},
            ).json()["items"]
            ranks[equity] = {i["school_id"]: i["rank"] for i in items}
        for low, high in ((0.0, 0.5), (0.5, 1.0)):
            before, after = ranks[low], ranks[high]
            for a in before:
                for b in before:
                    if a in need and b in need and need[a] > need[b] and before[a] < before[b]:
                        assert after[a] < after[b], (org_id, a, b, low, high)


README_AD_HOC = {
    "location": {
        "lat": 37.7887,
        "lon": -122.205,
        "locale": "city",
        "grade_low": "K",
        "grade_high": 5,
    },
    "needs": [
        {"category": "mental_health_sel", "priority": 1},
        {"category": "literacy", "priority": 2},
    ],
}


def test_the_readme_ad_hoc_example_puts_its_top_priority_first(client, oakland):
    """Defect 6 of issue 12: mental health (priority 1) must lead, not literacy (priority 2)."""
    items = client.post("/v1/matches", json=README_AD_HOC, params={"limit": 10}).json()["items"]
    first = [i for i in items[:3] if any(n["priority"] == 1 for n in i["needs_met"])]
    assert items[0] in first, [(i["offering"]["title"], i["needs_met"]) for i in items[:5]]
