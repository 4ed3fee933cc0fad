"""Partnerships through the HTTP API: the lifecycle a principal and a nonprofit walk through,
the state machine's refusals, SMART goal checks, agreements and their documents."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from app.auth.principal import ADMIN, DISTRICT_ADMIN, ORG_MEMBER, SCHOOL_STAFF
from app.models import AuditEvent, Partnership
from app.services.partnerships import TRANSITIONS
from tests.auth.world import PDF, World, build

TERM = {"term_start": "2026-08-15", "term_end": "2027-06-15"}
GOAL = {
    "category": "stem",
    "indicator": "attendance_rate",
    "baseline_value": 88.0,
    "baseline_date": "2026-08-15",
    "target_value": 93.0,
    "target_date": "2027-06-01",
    "owner": "Ms. Rivera, assistant principal",
}
DSA = {
    "kind": "dsa",
    "scope": "Attendance of club members, to measure the club's effect",
    "school_responsibilities": ["share attendance monthly"],
    "organization_responsibilities": ["keep data encrypted", "report aggregates only"],
    "term_start": "2026-08-15",
    "term_end": "2027-06-15",
    "renewal_date": "2027-05-01",
    "data_elements": ["student id", "attendance days"],
    "purpose": "Measure attendance of participants",
    "retention": "Until the end of the term",
    "destruction_date": "2027-07-15",
}


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    return build(db)


@pytest.fixture
def call(anon, world):  # type: ignore[no-untyped-def]
    """`call(role, method, url, **kwargs)`: a request as that role of the world."""

    def send(role: str, method: str, url: str, **kwargs):  # type: ignore[no-untyped-def]
        return anon.request(method, url, headers=world.headers[role], **kwargs)

    return send


def _audit(db) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with db.session() as session:
        rows = session.execute(
            select(AuditEvent.resource_type, AuditEvent.action).order_by(AuditEvent.id)
        )
        return [(t, a) for t, a in rows]


def _row(db, partnership_id: int) -> dict:  # type: ignore[no-untyped-def]
    with db.session() as session:
        p = session.get(Partnership, partnership_id)
        return {c.key: getattr(p, c.key) for c in Partnership.__mapper__.column_attrs}


def _propose(call, world, role=SCHOOL_STAFF, **changes):  # type: ignore[no-untyped-def]
    body = {
        "school_id": world.school_a,
        "organization_id": world.orgs["verified"],
        "need_categories": ["stem"],
        "students_served": 24,
        "grade_low": 6,
        "grade_high": 8,
        "schedule": "Tue/Thu 3-5 pm",
        "offering_ids": [world.offerings["verified"]],
        **TERM,
        **changes,
    }
    response = call(role, "POST", "/v1/partnerships", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_full_lifecycle_from_request_to_renewal(call, world, db):
    before = len(_audit(db))
    p = _propose(call, world, shares_student_data=True)
    pid = p["id"]
    assert (p["status"], p["proposed_by"]) == ("proposed", "school")
    assert p["next_states"] == ["accepted", "declined"]
    assert p["school_name"] == "Alpha Middle" and p["organization_name"] == "verified"

    # The nonprofit sees the request and accepts it.
    listed = call(ORG_MEMBER, "GET", "/v1/partnerships", params={"status": "proposed"}).json()
    assert pid in [item["id"] for item in listed["items"]]
    accepted = call(
        ORG_MEMBER, "POST", f"/v1/partnerships/{pid}/transitions", json={"to": "accepted"}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"

    goal = call(SCHOOL_STAFF, "POST", f"/v1/partnerships/{pid}/goals", json=GOAL)
    assert goal.status_code == 201, goal.text
    assert goal.json()["unit"] == "%"
    goal_id = goal.json()["id"]

    # Student data is shared: no activation until the DSA is signed by both parties.
    dsa = call(SCHOOL_STAFF, "POST", f"/v1/partnerships/{pid}/agreements", json=DSA).json()
    refused = call(
        SCHOOL_STAFF, "POST", f"/v1/partnerships/{pid}/transitions", json={"to": "active"}
    )
    assert refused.status_code == 409 and "data-sharing agreement" in refused.json()["detail"]
    signature = {"signer_name": "Dr. Okafor", "signed_on": "2026-08-01"}
    signed = call(SCHOOL_STAFF, "POST", f"/v1/agreements/{dsa['id']}/signatures", json=signature)
    assert signed.status_code == 201 and signed.json()["fully_signed"] is False
    refused = call(ORG_MEMBER, "POST", f"/v1/partnerships/{pid}/transitions", json={"to": "active"})
    assert refused.status_code == 409
    signed = call(
        ORG_MEMBER,
        "POST",
        f"/v1/agreements/{dsa['id']}/signatures",
        json={"signer_name": "Ada Lovelace", "signed_on": "2026-08-02"},
    )
    assert signed.json()["fully_signed"] is True
    assert {s["party"] for s in signed.json()["signatures"]} == {"school", "organization"}
    active = call(ORG_MEMBER, "POST", f"/v1/partnerships/{pid}/transitions", json={"to": "active"})
    assert active.status_code == 200 and active.json()["status"] == "active"

    check_in = {
        "held_on": "2026-10-01",
        "channel": "meeting",
        "participants": ["Ms. Rivera", "Ada Lovelace"],
        "notes": "Club is full; two mentors short.",
        "next_step": "Recruit two mentors",
        "next_step_due": "2026-10-15",
    }
    assert (
        call(ORG_MEMBER, "POST", f"/v1/partnerships/{pid}/check-ins", json=check_in).status_code
        == 201
    )
    log = call(SCHOOL_STAFF, "GET", f"/v1/partnerships/{pid}/check-ins").json()
    assert [c["next_step_due"] for c in log] == ["2026-10-15"]

    for value, day in ((89.0, "2026-11-01"), (91.5, "2027-02-01")):
        reading = call(
            SCHOOL_STAFF,
            "POST",
            f"/v1/goals/{goal_id}/readings",
            json={"value": value, "observed_on": day},
        )
        assert reading.status_code == 201, reading.text
    (progress,) = call(ORG_MEMBER, "GET", f"/v1/partnerships/{pid}/progress").json()
    assert progress["latest_value"] == 91.5 and progress["fraction"] == 0.7
    assert progress["on_track"] is True  # 70% of the way at punctually 58% of the time

    for role, decision in ((SCHOOL_STAFF, "renew"), (ORG_MEMBER, "change")):
        review = {"satisfaction": 4, "decision": decision, "comments": "Good year."}
        assert call(role, "POST", f"/v1/partnerships/{pid}/reviews", json=review).status_code == 201
    reviews = call(SCHOOL_STAFF, "GET", f"/v1/partnerships/{pid}/reviews").json()
    assert {r["party"]: r["decision"] for r in reviews} == {
        "school": "renew",
        "organization": "change",
    }

    done = call(
        SCHOOL_STAFF, "POST", f"/v1/partnerships/{pid}/transitions", json={"to": "completed"}
    )
    assert done.json()["status"] == "completed" and done.json()["next_states"] == []
    renewal = call(
        SCHOOL_STAFF,
        "POST",
        f"/v1/partnerships/{pid}/renewals",
        json={"term_start": "2027-08-15", "term_end": "2028-06-15"},
    )
    assert renewal.status_code == 201, renewal.text
    new = renewal.json()
    assert (new["status"], new["renewal_of_id"], new["need_categories"]) == (
        "proposed",
        pid,
        ["stem"],
    )
    assert new["shares_student_data"] is True and new["offering_ids"] == [
        world.offerings["verified"]
    ]

    # Every write above left exactly one audit event, in the school's district.
    events = _audit(db)[before:]
    assert events == [
        ("partnership", "create"),
        ("partnership", "accepted"),
        ("partnership_goal", "create"),
        ("agreement", "create"),
        ("agreement", "sign"),
        ("agreement", "sign"),
        ("partnership", "active"),
        ("check_in", "create"),
        ("goal_reading", "create"),
        ("goal_reading", "create"),
        ("partnership_review", "create"),
        ("partnership_review", "create"),
        ("partnership", "completed"),
        ("partnership", "renew"),
    ]
    district_log = call(
        DISTRICT_ADMIN, "GET", "/v1/audit", params={"resource_type": "partnership"}
    ).json()
    assert len(district_log["items"]) == 5


ILLEGAL = [
    (state, target)
    for state in TRANSITIONS
    for target in TRANSITIONS
    if target not in TRANSITIONS[state]
]


@pytest.mark.parametrize(("state", "target"), ILLEGAL, ids=[f"{s}->{t}" for s, t in ILLEGAL])
def test_every_illegal_transition_is_a_409_naming_the_allowed_and_changes_nothing(
    call, world, db, state, target
):
    pid = world.partnerships["active"]
    with db.session() as session:
        session.get(Partnership, pid).status = state
        session.commit()
    before, events = _row(db, pid), len(_audit(db))
    response = call(
        ADMIN,
        "POST",
        f"/v1/partnerships/{pid}/transitions",
        json={"to": target, "reason": "because"},
    )
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["allowed"] == list(TRANSITIONS[state]) and body["current"] == state
    for allowed in TRANSITIONS[state]:
        assert allowed in body["detail"]
    assert _row(db, pid) == before
    assert len(_audit(db)) == events


def test_the_proposing_side_cannot_answer_its_own_proposal(call, world, db):
    pid = world.partnerships["by_school"]
    before = _row(db, pid)
    response = call(
        SCHOOL_STAFF, "POST", f"/v1/partnerships/{pid}/transitions", json={"to": "accepted"}
    )
    assert response.status_code == 403
    assert "organization" in response.json()["detail"]
    assert _row(db, pid) == before


def test_an_organization_offer_is_answered_by_the_school(call, world):
    offer = _propose(call, world, role=ORG_MEMBER)
    assert offer["proposed_by"] == "organization"
    url = f"/v1/partnerships/{offer['id']}/transitions"
    assert call(ORG_MEMBER, "POST", url, json={"to": "accepted"}).status_code == 403
    declined = call(SCHOOL_STAFF, "POST", url, json={"to": "declined", "reason": "No room"})
    assert declined.status_code == 200
    assert (declined.json()["status"], declined.json()["status_reason"]) == ("declined", "No room")


@pytest.mark.parametrize("target", ["declined", "ended"])
def test_declining_or_ending_without_a_reason_is_a_422_naming_reason(call, world, db, target):
    pid = world.partnerships["by_school" if target == "declined" else "active"]
    before = _row(db, pid)
    response = call(ADMIN, "POST", f"/v1/partnerships/{pid}/transitions", json={"to": target})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "reason"]
    assert _row(db, pid) == before


def test_accepting_needs_a_term_end(call, world):
    p = _propose(call, world, term_end=None)
    response = call(
        ORG_MEMBER, "POST", f"/v1/partnerships/{p['id']}/transitions", json={"to": "accepted"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "term_end"]


def test_school_staff_cannot_propose_for_another_school(call, world):
    body = {"school_id": world.school_b, "organization_id": world.orgs["verified"], **TERM}
    assert call(SCHOOL_STAFF, "POST", "/v1/partnerships", json=body).status_code == 403


def test_callers_list_only_the_partnerships_within_their_reach(call, world):
    def ids(role: str) -> set[int]:
        return {p["id"] for p in call(role, "GET", "/v1/partnerships").json()["items"]}

    ours = {world.partnerships[n] for n in ("by_school", "by_org", "active")}
    assert ids(SCHOOL_STAFF) == ours
    assert ids(ORG_MEMBER) == ours
    assert ids(DISTRICT_ADMIN) == ours
    assert ids(ADMIN) == ours | {world.partnerships["other"]}
    filtered = call(
        ADMIN, "GET", "/v1/partnerships", params={"status": "active", "limit": 1}
    ).json()
    assert len(filtered["items"]) == 1 and filtered["next_cursor"] is not None


def test_a_renewal_is_refused_twice_and_from_a_proposal(call, world):
    pid = world.partnerships["active"]
    url = f"/v1/partnerships/{pid}/renewals"
    assert call(SCHOOL_STAFF, "POST", url, json={"term_start": "2027-08-15"}).status_code == 201
    assert call(SCHOOL_STAFF, "POST", url, json={"term_start": "2027-08-16"}).status_code == 409
    proposal = f"/v1/partnerships/{world.partnerships['by_org']}/renewals"
    assert (
        call(SCHOOL_STAFF, "POST", proposal, json={"term_start": "2027-08-15"}).status_code == 409
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "not_a_category"}, "category"),
        ({"category": "arts"}, "category"),  # not a need the partnership addresses
        ({"indicator": "custom"}, "indicator_name"),
        ({"indicator": "custom", "indicator_name": "Books read"}, "unit"),
        ({"unit": "days"}, "unit"),
        ({"target_value": 150.0}, "target_value"),
        ({"target_value": 88.0}, "target_value"),
        ({"target_date": "2027-07-01"}, "target_date"),
        ({"target_date": "2026-08-01"}, "target_date"),
        ({"target_value": "93"}, "target_value"),
    ],
)
def test_an_unmeasurable_goal_is_a_422_naming_the_field(call, world, changes, field):
    pid = world.partnerships["active"]
    response = call(SCHOOL_STAFF, "POST", f"/v1/partnerships/{pid}/goals", json={**GOAL, **changes})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"][:2] == ["body", field]


def test_a_custom_indicator_keeps_its_name_and_unit(call, world):
    pid = world.partnerships["active"]
    body = {
        **GOAL,
        "indicator": "custom",
        "indicator_name": "Books read",
        "unit": "books",
        "target_value": 400.0,
    }
    goal = call(SCHOOL_STAFF, "POST", f"/v1/partnerships/{pid}/goals", json=body).json()
    assert (goal["indicator_name"], goal["unit"]) == ("Books read", "books")


def test_progress_is_off_track_when_behind_the_straight_line(call, world):
    goal_id = world.goals["active"]  # participation 10 -> 40 over the term
    call(
        SCHOOL_STAFF,
        "POST",
        f"/v1/goals/{goal_id}/readings",
        json={"value": 12, "observed_on": "2027-02-01"},
    )
    (progress,) = call(
        SCHOOL_STAFF, "GET", f"/v1/partnerships/{world.partnerships['active']}/progress"
    ).json()
    assert progress["fraction"] == pytest.approx(2 / 30, abs=1e-4)
    assert progress["expected_fraction"] > 0.5 and progress["on_track"] is False


def test_a_goal_without_readings_has_unknown_progress(call, world):
    (progress,) = call(
        ORG_MEMBER, "GET", f"/v1/partnerships/{world.partnerships['active']}/progress"
    ).json()
    assert progress["latest_value"] is None and progress["on_track"] is None


def test_a_dsa_without_its_data_elements_is_a_422(call, world):
    pid = world.partnerships["active"]
    body = {**DSA, "data_elements": []}
    response = call(SCHOOL_STAFF, "POST", f"/v1/partnerships/{pid}/agreements", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "data_elements"]


def test_a_party_signs_once(call, world):
    url = f"/v1/agreements/{world.agreements['active']}/signatures"
    signature = {"signer_name": "Dr. Okafor", "signed_on": "2026-08-01"}
    assert call(SCHOOL_STAFF, "POST", url, json=signature).status_code == 201
    assert call(SCHOOL_STAFF, "POST", url, json=signature).status_code == 409
    # School staff cannot sign for the organization.
    assert (
        call(SCHOOL_STAFF, "POST", url, json={**signature, "party": "organization"}).status_code
        == 403
    )


def test_the_pdf_is_stored_with_its_sha256_and_downloaded_as_uploaded(call, world):
    url = f"/v1/agreements/{world.agreements['active']}/document"
    content = PDF + b"x" * 5000
    response = call(
        ORG_MEMBER, "POST", url, files={"file": ("signed mou.pdf", content, "application/pdf")}
    )
    assert response.status_code == 200, response.text
    assert response.json()["document_sha256"] == hashlib.sha256(content).hexdigest()
    assert response.json()["document_size"] == len(content)
    download = call(SCHOOL_STAFF, "GET", url)
    assert download.status_code == 200 and download.content == content
    assert download.headers["content-type"] == "application/pdf"
    assert "signed_mou.pdf" in download.headers["content-disposition"]


def test_a_file_that_is_not_a_pdf_is_a_422(call, world):
    url = f"/v1/agreements/{world.agreements['active']}/document"
    response = call(
        ORG_MEMBER, "POST", url, files={"file": ("mou.pdf", b"PK\x03\x04zip", "application/pdf")}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "file"]


def test_a_pdf_over_10_mb_is_a_413(call, world):
    url = f"/v1/agreements/{world.agreements['active']}/document"
    content = PDF + b"x" * (10 * 1024 * 1024)
    response = call(
        ORG_MEMBER, "POST", url, files={"file": ("big.pdf", content, "application/pdf")}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_a_signed_agreements_document_is_fixed(call, world):
    agreement = world.agreements["active"]
    call(
        SCHOOL_STAFF,
        "POST",
        f"/v1/agreements/{agreement}/signatures",
        json={"signer_name": "Dr. Okafor", "signed_on": "2026-08-01"},
    )
    response = call(
        ORG_MEMBER,
        "POST",
        f"/v1/agreements/{agreement}/document",
        files={"file": ("v2.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 409


def test_reviews_are_one_per_side(call, world):
    url = f"/v1/partnerships/{world.partnerships['active']}/reviews"
    review = {"satisfaction": 5, "decision": "renew"}
    assert call(ORG_MEMBER, "POST", url, json=review).status_code == 201
    assert call(ORG_MEMBER, "POST", url, json=review).status_code == 409
    # A district admin acts for both sides, so it names the one it reviews for.
    response = call(DISTRICT_ADMIN, "POST", url, json=review)
    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == ["body", "party"]


def test_anonymous_callers_see_counts_of_schools_served_and_no_partnership(call, world, anon):
    record = call("anonymous", "GET", f"/v1/organizations/{world.orgs['verified']}/track-record")
    assert record.status_code == 200
    assert record.json() == {
        "organization_id": world.orgs["verified"],
        "schools_served": 1,
        "active_partnerships": 1,
        "completed_partnerships": 0,
    }
    assert "Alpha" not in record.text
    hidden = call("anonymous", "GET", f"/v1/organizations/{world.orgs['stranger']}/track-record")
    assert hidden.status_code == 404
    assert anon.get(f"/v1/partnerships/{world.partnerships['active']}").status_code == 401


def test_an_activated_partnership_reaches_the_running_rankings_history(call, world, db, app):
    """A partner's track record is part of its ranking: a worker's index that was built before
    the partnership became active sees it on its next ranking, without a restart."""
    index = app.state.ranking_index
    org = world.orgs["verified"]
    with db.session() as session:
        before = index.current(session).history.organization_ids.tolist()
    pid = _propose(call, world)["id"]
    for to in ("accepted", "active"):
        response = call(ORG_MEMBER, "POST", f"/v1/partnerships/{pid}/transitions", json={"to": to})
        assert response.status_code == 200, response.text
    with db.session() as session:
        after = index.current(session).history.organization_ids.tolist()
    assert after.count(org) == before.count(org) + 1


PARTNERSHIP_NULLS = ["term_start", "need_categories", "offering_ids", "shares_student_data"]
GOAL_NULLS = ["category", "baseline_value", "baseline_date", "target_value", "target_date", "owner"]


@pytest.mark.parametrize("field", PARTNERSHIP_NULLS)
def test_a_partnership_field_required_on_create_cannot_be_patched_to_null(call, world, db, field):
    p = _propose(call, world)
    before = _row(db, p["id"])
    response = call(SCHOOL_STAFF, "PATCH", f"/v1/partnerships/{p['id']}", json={field: None})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert ["body", field] in [e["loc"] for e in response.json()["errors"]]
    assert _row(db, p["id"]) == before


@pytest.mark.parametrize("field", GOAL_NULLS)
def test_a_goal_field_required_on_create_cannot_be_patched_to_null(call, world, field):
    p = _propose(call, world)
    goal = call(SCHOOL_STAFF, "POST", f"/v1/partnerships/{p['id']}/goals", json=GOAL).json()
    response = call(SCHOOL_STAFF, "PATCH", f"/v1/goals/{goal['id']}", json={field: None})
    assert response.status_code == 422, response.text
    assert ["body", field] in [e["loc"] for e in response.json()["errors"]]
    assert call(SCHOOL_STAFF, "GET", f"/v1/goals/{goal['id']}").json() == goal
