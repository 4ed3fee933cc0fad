"""The district's partnership view (JSON and CSV) and the iCalendar feeds, on a small world:
district A with schools `a1` (top need stem) and `a2` (top need arts), district B with `b1`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from dataclasses import dataclass, field

import pytest
from icalendar import Calendar

from app.auth.principal import DISTRICT_ADMIN, ORG_MEMBER, SCHOOL_STAFF
from app.models import (
    Agreement,
    AgreementSignature,
    CheckIn,
    District,
    GoalReading,
    Need,
    NeedsAssessment,
    Organization,
    Partnership,
    PartnershipGoal,
    School,
)
from tests.conftest import user_token

TODAY = dt.date.today()
USERS = itertools.count()


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@dataclass
class Ids:
    district_a: int = 0
    district_b: int = 0
    schools: dict[str, int] = field(default_factory=dict)
    orgs: dict[str, int] = field(default_factory=dict)
    partnerships: dict[str, int] = field(default_factory=dict)
    goals: dict[str, int] = field(default_factory=dict)
    agreements: dict[str, int] = field(default_factory=dict)
    check_in: int = 0


def _school(name: str, district: District, needs: list[str]) -> School:
    school = School(
        name=name,
        district=district.name,
        district_id=district.id,
        lat=37.8,
        lon=-122.25,
        grade_low=6,
        grade_high=8,
        languages=[],
    )
    school.assessments = [
        NeedsAssessment(
            assessed_on=dt.date(2026, 9, 1),
            is_example=False,
            needs=[
                Need(category=c, priority=i + 1, schedule=[], delivery=[], languages=[])
                for i, c in enumerate(needs)
            ],
        )
    ]
    return school


def _partnership(school: School, org: Organization, status: str, cats: list[str]) -> Partnership:
    return Partnership(
        school_id=school.id,
        organization_id=org.id,
        status=status,
        proposed_by="school",
        term_start=days(-120),
        term_end=days(240),
        need_categories=cats,
    )


def _goal(indicator: str, baseline: float, target: float, target_date: dt.date, **kw):  # type: ignore[no-untyped-def]
    return PartnershipGoal(
        category="stem",
        indicator=indicator,
        unit=kw.pop("unit", "%"),
        baseline_value=baseline,
        baseline_date=kw.pop("baseline_date", days(-100)),
        target_value=target,
        target_date=target_date,
        owner="Ms. Rivera",
        **kw,
    )


@pytest.fixture
def ids(db) -> Ids:  # type: ignore[no-untyped-def]
    w = Ids()
    with db.session() as s:
        a, b = District(name="District A", slug="a"), District(name="District B", slug="b")
        s.add_all([a, b])
        s.flush()
        w.district_a, w.district_b = a.id, b.id
        a1 = _school("Alpha Middle", a, ["stem", "literacy"])
        a2 = _school("Arts Middle", a, ["arts"])
        b1 = _school("Beta Middle", b, ["stem"])
        mentors = Organization(name="Science Mentors", type="nonprofit", languages=[])
        readers = Organization(name="Readers Club", type="community_group", languages=[])
        s.add_all([a1, a2, b1, mentors, readers])
        s.flush()
        w.schools = {"a1": a1.id, "a2": a2.id, "b1": b1.id}
        w.orgs = {"mentors": mentors.id, "readers": readers.id}
        ps = {
            "active": _partnership(a1, mentors, "active", ["stem.engineering"]),
            "completed": _partnership(a2, readers, "completed", ["arts"]),
            "other_district": _partnership(b1, mentors, "active", ["stem"]),
            "proposed": _partnership(a1, readers, "proposed", ["literacy"]),
        }
        s.add_all(ps.values())
        s.flush()
        w.partnerships = {k: p.id for k, p in ps.items()}
        goals = {
            # 90 days of 200 gone, 10% of the way: off track
            "lagging": _goal("attendance_rate", 90, 95, days(100)),
            # 80% of the way: on track
            "ahead": _goal("participation_count", 0, 100, days(100), unit="students"),
            # no reading and the target date has passed: off track
            "silent": _goal("custom", 2, 4, days(-1), indicator_name="Robotics badges"),
        }
        for goal in goals.values():
            goal.partnership_id = ps["active"].id
        proposed_goal = _goal("course_pass_rate", 70, 80, days(50))
        proposed_goal.partnership_id = ps["proposed"].id
        completed_goal = _goal("survey_score", 3, 4, days(20))
        completed_goal.partnership_id = ps["completed"].id
        other_goal = _goal("attendance_rate", 90, 95, days(100))
        other_goal.partnership_id = ps["other_district"].id
        s.add_all([*goals.values(), proposed_goal, completed_goal, other_goal])
        s.flush()
        w.goals = {k: g.id for k, g in goals.items()} | {
            "proposed": proposed_goal.id,
            "completed": completed_goal.id,
            "other_district": other_goal.id,
        }
        s.add_all(
            [
                GoalReading(goal_id=goals["lagging"].id, value=90.2, observed_on=days(-40)),
                GoalReading(goal_id=goals["lagging"].id, value=90.5, observed_on=days(-10)),
                GoalReading(goal_id=goals["ahead"].id, value=80, observed_on=days(-10)),
            ]
        )
        dsa = Agreement(
            partnership_id=ps["active"].id,
            kind="dsa",
            scope="Attendance data for the robotics cohort",
            term_start=days(-120),
            term_end=days(30),
            renewal_date=days(100),
            data_elements=["attendance"],
            purpose="Measure attendance",
            retention="One year",
            destruction_date=days(400),
            signatures=[
                AgreementSignature(party="school", signer_name="P. Rivera", signed_on=days(-90)),
                AgreementSignature(party="organization", signer_name="A. Lee", signed_on=days(-89)),
            ],
        )
        mou = Agreement(
            partnership_id=ps["active"].id,
            kind="mou",
            scope="Robotics after school",
            term_start=days(-120),
            term_end=days(200),
        )
        other = Agreement(
            partnership_id=ps["other_district"].id,
            kind="mou",
            scope="Robotics",
            term_start=days(-120),
            term_end=days(10),
        )
        s.add_all([dsa, mou, other])
        check_in = CheckIn(
            partnership_id=ps["active"].id,
            held_on=days(-5),
            channel="meeting",
            participants=["P. Rivera", "A. Lee"],
            notes="Going well",
            next_step="Share the attendance export",
            next_step_due=days(9),
        )
        s.add(check_in)
        s.commit()
        w.agreements = {"dsa": dsa.id, "mou": mou.id, "other": other.id}
        w.check_in = check_in.id
    return w


def _headers(db, role: str, **grants) -> dict[str, str]:  # type: ignore[no-untyped-def]
    _, token = user_token(db, f"{role}-{next(USERS)}@test.org", role, **grants)
    return {"Authorization": f"Bearer {token}"}


def test_the_summary_shows_the_district_its_own_partnerships_only(client, ids):
    response = client.get(f"/v1/districts/{ids.district_a}/partnerships/summary")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["as_of"] == TODAY.isoformat() and body["within_days"] == 60
    assert [p["partnership_id"] for p in body["active"]] == [ids.partnerships["active"]]
    assert [(c["category"], c["partnerships"], c["schools"]) for c in body["by_category"]] == [
        ("stem", 1, 1)
    ]
    assert [(n["category"], n["needs"], n["met_by_partnership"]) for n in body["by_need"]] == [
        ("arts", 1, 0),
        ("literacy", 1, 0),
        ("stem", 1, 1),
    ]
    assert [
        (s["school_id"], s["category"]) for s in body["schools_without_top_need_partnership"]
    ] == [(ids.schools["a2"], "arts")]


def test_agreements_expiring_within_the_window_are_listed_with_days_left(client, ids):
    url = f"/v1/districts/{ids.district_a}/partnerships/summary"
    soon = client.get(url).json()["expiring_agreements"]
    assert [(a["agreement_id"], a["what"], a["days_left"], a["signed_by_both"]) for a in soon] == [
        (ids.agreements["dsa"], "term_end", 30, True)
    ]
    later = client.get(url, params={"within_days": 120}).json()["expiring_agreements"]
    assert [(a["kind"], a["what"]) for a in later] == [("dsa", "term_end"), ("dsa", "renewal_date")]


def test_goals_lagging_their_straight_line_or_silent_past_target_are_off_track(client, ids):
    body = client.get(f"/v1/districts/{ids.district_a}/partnerships/summary").json()
    off = {g["goal_id"]: g for g in body["goals_off_track"]}
    assert set(off) == {ids.goals["lagging"], ids.goals["silent"]}
    lagging = off[ids.goals["lagging"]]
    assert (lagging["latest_value"], lagging["progress"], lagging["expected"]) == (90.5, 0.1, 0.45)
    silent = off[ids.goals["silent"]]
    assert (silent["indicator"], silent["latest_value"], silent["progress"]) == (
        "Robotics badges",
        None,
        None,
    )


def test_each_summary_list_comes_as_csv(client, ids):
    url = f"/v1/districts/{ids.district_a}/partnerships/summary"
    response = client.get(url, params={"format": "csv", "table": "goals_off_track"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted(int(r["goal_id"]) for r in rows) == sorted(
        [ids.goals["lagging"], ids.goals["silent"]]
    )
    default = client.get(url, headers={"Accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(default.text)))
    assert [(r["partnership_id"], r["categories"]) for r in rows] == [
        (str(ids.partnerships["active"]), "stem.engineering")
    ]
    bad = client.get(url, params={"format": "csv", "table": "everything"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["query", "table"]


def test_another_districts_summary_is_refused(anon, db, ids):
    headers = _headers(db, DISTRICT_ADMIN, district_id=ids.district_a)
    response = anon.get(f"/v1/districts/{ids.district_b}/partnerships/summary", headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def _events(response) -> dict[str, object]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def test_a_school_calendar_parses_and_holds_its_open_partnerships_dates(client, ids):
    url = f"/v1/schools/{ids.schools['a1']}/partnerships.ics"
    first = client.get(url)
    events = _events(first)
    g, a = ids.goals, ids.agreements
    assert set(events) == {
        f"goal-{g['lagging']}-target@partnermap.dev",
        f"goal-{g['ahead']}-target@partnermap.dev",
        f"goal-{g['silent']}-target@partnermap.dev",
        f"goal-{g['proposed']}-target@partnermap.dev",
        f"agreement-{a['dsa']}-expiry@partnermap.dev",
        f"agreement-{a['dsa']}-renewal@partnermap.dev",
        f"agreement-{a['mou']}-expiry@partnermap.dev",
        f"check-in-{ids.check_in}-next-step@partnermap.dev",
    }
    dsa = events[f"agreement-{a['dsa']}-expiry@partnermap.dev"]
    assert dsa.decoded("dtstart") == days(30)
    assert str(dsa["summary"]) == "Data-sharing agreement expires (Alpha Middle / Science Mentors)"
    step = events[f"check-in-{ids.check_in}-next-step@partnermap.dev"]
    assert step.decoded("dtstart") == days(9)
    assert "Share the attendance export" in str(step["summary"])
    goal = events[f"goal-{g['lagging']}-target@partnermap.dev"]
    assert str(goal["summary"]).startswith("Goal target: attendance rate 95 %")
    assert client.get(url).content == first.content, "the same data gives the same feed"


def test_a_district_calendar_leaves_out_other_districts_and_closed_partnerships(client, ids):
    events = _events(client.get(f"/v1/districts/{ids.district_a}/partnerships.ics"))
    assert f"goal-{ids.goals['completed']}-target@partnermap.dev" not in events
    assert f"goal-{ids.goals['other_district']}-target@partnermap.dev" not in events
    assert f"agreement-{ids.agreements['other']}-expiry@partnermap.dev" not in events
    assert len(events) == 8


def test_an_organization_calendar_is_whole_for_members_and_district_bound_for_districts(
    anon, db, ids
):
    url = f"/v1/organizations/{ids.orgs['mentors']}/partnerships.ics"
    member = _headers(db, ORG_MEMBER, organizations=[ids.orgs["mentors"]])
    everything = _events(anon.get(url, headers=member))
    assert f"agreement-{ids.agreements['other']}-expiry@partnermap.dev" in everything
    district = _headers(db, DISTRICT_ADMIN, district_id=ids.district_a)
    own = _events(anon.get(url, headers=district))
    assert f"agreement-{ids.agreements['other']}-expiry@partnermap.dev" not in own
    assert set(own) < set(everything)
    stranger = _headers(db, ORG_MEMBER, organizations=[ids.orgs["readers"]])
    refused = anon.get(url, headers=stranger)
    assert refused.status_code == 403


def test_calendars_are_read_with_an_api_key_and_refused_to_other_schools_staff(anon, db, ids):
    staff = _headers(db, SCHOOL_STAFF, district_id=ids.district_a, schools=[ids.schools["a2"]])
    refused = anon.get(f"/v1/schools/{ids.schools['a1']}/partnerships.ics", headers=staff)
    assert refused.status_code == 403
    from app.auth.principal import OPERATOR
    from app.services import api_keys

    with db.session() as session:
        _, key = api_keys.create(
            session=session,
            principal=OPERATOR,
            district_id=ids.district_a,
            name="calendar",
            scope="read",
            allowed_origins=[],
        )
    events = _events(
        anon.get(f"/v1/districts/{ids.district_a}/partnerships.ics", headers={"X-API-Key": key})
    )
    assert len(events) == 8
