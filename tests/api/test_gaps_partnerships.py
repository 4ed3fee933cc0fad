"""The gap analysis counts a need met by an active partnership of the school, on the demo."""

from __future__ import annotations

from app.demo.oakland import DISTRICT, load_oakland
from app.services import demo
from app.taxonomy import addresses, load_taxonomy


def _uncovered_code(oakland) -> str:  # type: ignore[no-untyped-def]
    """A category no demo offering fits: not its code, its parent or one of its children."""
    offered = {c for o in oakland.offerings for c in o.categories}
    for category in load_taxonomy().categories:
        code = category.code
        if not any(addresses([c], code) for c in offered):
            return code
    raise AssertionError("every category is offered in the demo")


def _history(school: str, organization: str, code: str, outcome: str) -> bytes:
    return (
        "external_id,school,organization,category,term_start,term_end,outcome\n"
        f"gap-test,{school},{organization},{code},2026-08-17,2027-06-11,{outcome}\n"
    ).encode()


def _import(client, text: bytes) -> None:  # type: ignore[no-untyped-def]
    job = client.post(
        "/v1/imports",
        data={"kind": "partnerships", "source": "register"},
        files={"file": ("p.csv", text, "text/csv")},
    )
    assert client.get(job.headers["location"]).json()["status"] == "imported"


def _gaps(client, status: str) -> dict:  # type: ignore[no-untyped-def]
    response = client.get(
        "/v1/gaps", params={"district": DISTRICT, "status": status, "limit": 5000}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_an_active_partnership_turns_an_unmet_demo_need_into_a_met_one(db, client):
    oakland = load_oakland()
    with db.session() as session:
        demo.load(session=session, data=oakland)
    code = _uncovered_code(oakland)
    school = client.get("/v1/schools", params={"q": "Acorn Woodland", "limit": 1}).json()
    school_id = school["items"][0]["id"]
    filed = client.post(
        f"/v1/schools/{school_id}/needs-assessments",
        json={"assessed_on": "2026-09-15", "needs": [{"category": code, "priority": 1}]},
    )
    assert filed.status_code == 201, filed.text
    need_id = filed.json()["needs"][0]["id"]
    before = _gaps(client, "unmet")
    # Other demo needs are unmet too (partners without a declared capacity are estimated).
    (mine,) = [i for i in before["items"] if i["need_id"] == need_id]
    assert mine["met_by_partnership"] is None

    organization = next(o.name for o in oakland.organizations if o.name.isalpha())
    _import(client, _history(str(school_id), organization, code, "completed"))
    assert _gaps(client, "unmet")["summary"] == before["summary"], "a past term meets nothing"

    _import(client, _history(str(school_id), organization, code, "active"))
    after = _gaps(client, "unmet")
    assert need_id not in [i["need_id"] for i in after["items"]]
    assert after["summary"]["unmet"] == before["summary"]["unmet"] - 1
    assert after["summary"]["met"] == before["summary"]["met"] + 1
    met = [i for i in _gaps(client, "met")["items"] if i["need_id"] == need_id]
    assert met[0]["status"] == "met"
    assert met[0]["met_by_partnership"]["organization_name"] == organization
    coverage = client.get(f"/v1/schools/{school_id}/coverage").json()
    assert coverage["needs"][0]["met_by_partnership"]["organization_name"] == organization
    assert coverage["summary"]["met"] == 1
