"""The permission matrix as tests: every endpoint x every role, on a record inside the caller's
reach ("own") and, where the row limits records, one outside it ("other"). The expected
status comes from app/auth/policy.py, so the table, the guard and the services must agree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

import geo
from app.auth.policy import POLICY, PUBLIC_PAGES, Access, render_markdown
from app.auth.principal import (
    ADMIN,
    ANONYMOUS,
    DISTRICT_ADMIN,
    KEY_READ,
    KEY_READ_WRITE,
    ORG_MEMBER,
    ROLES,
    SCHOOL_STAFF,
)
from app.models import AuditEvent
from tests.api import factories
from tests.auth.world import LOGIN_EMAIL, LOGIN_PASSWORD, PDF, World, build

SEES_UNVERIFIED = {ADMIN, DISTRICT_ADMIN, KEY_READ, KEY_READ_WRITE}
BBOX = "-122.4,37.7,-122.1,37.9"
Call = Callable[[World, str, str], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Spec:
    call: Call
    ok: int = 200
    targets: bool = False  # the row limits records: also try one outside the caller's reach
    other: dict[Access, int] = field(default_factory=dict)


def _org_seen(w: World, role: str, target: str) -> int:
    """A visible organization: the member's own unverified one, else a verified one; the
    other target is an unverified organization of nobody."""
    if target == "other":
        return w.orgs["stranger"]
    return w.orgs["unverified" if role == ORG_MEMBER else "other"]


def _offering_seen(w: World, role: str, target: str) -> int:
    if target == "other":
        return w.offerings["stranger"]
    return w.offerings["unverified" if role == ORG_MEMBER else "other"]


def _own_org(w: World, target: str) -> int:
    return w.orgs["verified" if target == "own" else "other"]


def _school(w: World, target: str) -> int:
    return w.school_a if target == "own" else w.school_b


def _district(w: World, target: str) -> int:
    return w.district_a if target == "own" else w.district_b


def _staff(w: World, target: str) -> int:
    """School staff of district A, or of district B."""
    return w.user_ids[SCHOOL_STAFF if target == "own" else "district_b"]


CSV = ("schools.csv", b"external_id,name,grade_low,grade_high\n", "text/csv")
# A partnership, goal or agreement outside the caller's reach is one it cannot see: a 404.
UNSEEN = {Access.OWN_ORGS: 404, Access.OWN_SCHOOLS: 404, Access.DISTRICT: 404}


def _partnership(w: World, target: str) -> int:
    return w.partnerships["active" if target == "own" else "other"]


def _proposal(w: World, role: str, target: str) -> int:
    """A proposal the caller's side may answer: members answer the school's, staff the
    organization's."""
    if target == "other":
        return w.partnerships["other"]
    return w.partnerships["by_org" if role == SCHOOL_STAFF else "by_school"]


def _party(role: str) -> str:
    return "organization" if role == ORG_MEMBER else "school"


def _p(w: World, t: str, tail: str = "") -> str:
    return f"/v1/partnerships/{_partnership(w, t)}{tail}"


def _goal(w: World, t: str, tail: str = "") -> str:
    return f"/v1/goals/{w.goals['active' if t == 'own' else 'other']}{tail}"


def _agreement(w: World, t: str, tail: str = "") -> str:
    return f"/v1/agreements/{w.agreements['active' if t == 'own' else 'other']}{tail}"


GOAL = {
    "category": "stem",
    "indicator": "attendance_rate",
    "baseline_value": 88,
    "baseline_date": "2026-08-15",
    "target_value": 93,
    "target_date": "2027-06-01",
    "owner": "Ms. Rivera",
}
MOU = {
    "kind": "mou",
    "scope": "Robotics club",
    "school_responsibilities": ["room"],
    "organization_responsibilities": ["mentors"],
    "term_start": "2026-08-15",
    "term_end": "2027-06-15",
}


def _partnership_specs() -> dict[tuple[str, str], Spec]:
    path = "/v1/partnerships/{partnership_id}"
    return {
        ("POST", "/v1/partnerships"): Spec(
            lambda w, r, t: (
                "/v1/partnerships",
                {
                    "json": {
                        "school_id": _school(w, t),
                        "organization_id": w.orgs["verified" if t == "own" else "other"],
                        "term_start": "2026-09-01",
                        "need_categories": ["stem"],
                    }
                },
            ),
            ok=201,
            targets=True,
        ),
        ("GET", "/v1/partnerships"): Spec(lambda w, r, t: ("/v1/partnerships", {})),
        ("GET", path): Spec(lambda w, r, t: (_p(w, t), {}), targets=True, other=UNSEEN),
        ("PATCH", path): Spec(
            lambda w, r, t: (_p(w, t), {"json": {"schedule": "Tue 3-5 pm"}}),
            targets=True,
            other=UNSEEN,
        ),
        ("POST", path + "/transitions"): Spec(
            lambda w, r, t: (
                f"/v1/partnerships/{_proposal(w, r, t)}/transitions",
                {"json": {"to": "accepted" if t == "own" else "completed"}},
            ),
            targets=True,
            other=UNSEEN,
        ),
        ("POST", path + "/renewals"): Spec(
            lambda w, r, t: (_p(w, t, "/renewals"), {"json": {"term_start": "2027-08-15"}}),
            ok=201,
            targets=True,
            other=UNSEEN,
        ),
        ("POST", path + "/goals"): Spec(
            lambda w, r, t: (_p(w, t, "/goals"), {"json": GOAL}),
            ok=201,
            targets=True,
            other=UNSEEN,
        ),
        ("GET", path + "/goals"): Spec(
            lambda w, r, t: (_p(w, t, "/goals"), {}), targets=True, other=UNSEEN
        ),
        ("GET", path + "/progress"): Spec(
            lambda w, r, t: (_p(w, t, "/progress"), {}), targets=True, other=UNSEEN
        ),
        ("POST", path + "/agreements"): Spec(
            lambda w, r, t: (_p(w, t, "/agreements"), {"json": MOU}),
            ok=201,
            targets=True,
            other=UNSEEN,
        ),
        ("GET", path + "/agreements"): Spec(
            lambda w, r, t: (_p(w, t, "/agreements"), {}), targets=True, other=UNSEEN
        ),
        ("POST", path + "/check-ins"): Spec(
            lambda w, r, t: (
                _p(w, t, "/check-ins"),
                {"json": {"held_on": "2026-10-01", "channel": "meeting"}},
            ),
            ok=201,
            targets=True,
            other=UNSEEN,
        ),
        ("GET", path + "/check-ins"): Spec(
            lambda w, r, t: (_p(w, t, "/check-ins"), {}), targets=True, other=UNSEEN
        ),
        ("POST", path + "/reviews"): Spec(
            lambda w, r, t: (
                _p(w, t, "/reviews"),
                {"json": {"party": _party(r), "satisfaction": 4, "decision": "renew"}},
            ),
            ok=201,
            targets=True,
            other=UNSEEN,
        ),
        ("GET", path + "/reviews"): Spec(
            lambda w, r, t: (_p(w, t, "/reviews"), {}), targets=True, other=UNSEEN
        ),
        ("GET", "/v1/goals/{goal_id}"): Spec(
            lambda w, r, t: (_goal(w, t), {}), targets=True, other=UNSEEN
        ),
        ("PATCH", "/v1/goals/{goal_id}"): Spec(
            lambda w, r, t: (_goal(w, t), {"json": {"owner": "Mr. Chen"}}),
            targets=True,
            other=UNSEEN,
        ),
        ("DELETE", "/v1/goals/{goal_id}"): Spec(
            lambda w, r, t: (_goal(w, t), {}), ok=204, targets=True, other=UNSEEN
        ),
        ("POST", "/v1/goals/{goal_id}/readings"): Spec(
            lambda w, r, t: (
                _goal(w, t, "/readings"),
                {"json": {"value": 20, "observed_on": "2026-12-01"}},
            ),
            ok=201,
            targets=True,
            other=UNSEEN,
        ),
        ("GET", "/v1/goals/{goal_id}/readings"): Spec(
            lambda w, r, t: (_goal(w, t, "/readings"), {}), targets=True, other=UNSEEN
        ),
        ("GET", "/v1/agreements/{agreement_id}"): Spec(
            lambda w, r, t: (_agreement(w, t), {}), targets=True, other=UNSEEN
        ),
        ("POST", "/v1/agreements/{agreement_id}/signatures"): Spec(
            lambda w, r, t: (
                _agreement(w, t, "/signatures"),
                {
                    "json": {
                        "party": _party(r),
                        "signer_name": "A. Signer",
                        "signed_on": "2026-08-01",
                    }
                },
            ),
            ok=201,
            targets=True,
            other=UNSEEN,
        ),
        ("POST", "/v1/agreements/{agreement_id}/document"): Spec(
            lambda w, r, t: (
                _agreement(w, t, "/document"),
                {"files": {"file": ("mou.pdf", PDF, "application/pdf")}},
            ),
            targets=True,
            other=UNSEEN,
        ),
        ("GET", "/v1/agreements/{agreement_id}/document"): Spec(
            lambda w, r, t: (_agreement(w, t, "/document"), {}), targets=True, other=UNSEEN
        ),
        ("GET", "/v1/organizations/{organization_id}/track-record"): Spec(
            lambda w, r, t: (f"/v1/organizations/{_org_seen(w, r, t)}/track-record", {}),
            targets=True,
        ),
    }


SPECS: dict[tuple[str, str], Spec] = {
    ("GET", "/health"): Spec(lambda w, r, t: ("/health", {})),
    ("GET", "/ready"): Spec(lambda w, r, t: ("/ready", {})),
    ("GET", "/v1/taxonomy"): Spec(lambda w, r, t: ("/v1/taxonomy", {})),
    ("POST", "/v1/auth/token"): Spec(
        lambda w, r, t: (
            "/v1/auth/token",
            {"data": {"username": LOGIN_EMAIL, "password": LOGIN_PASSWORD}},
        )
    ),
    ("POST", "/v1/auth/revoke"): Spec(lambda w, r, t: ("/v1/auth/revoke", {}), ok=204),
    ("GET", "/v1/me"): Spec(lambda w, r, t: ("/v1/me", {})),
    ("POST", "/v1/users"): Spec(
        lambda w, r, t: (
            "/v1/users",
            {"json": {"email": f"new-{r}@example.org", "password": "twelve chars or more"}},
        ),
        ok=202,
    ),
    ("GET", "/v1/users"): Spec(lambda w, r, t: ("/v1/users", {})),
    ("GET", "/v1/users/{user_id}"): Spec(
        lambda w, r, t: (f"/v1/users/{_staff(w, t)}", {}),
        targets=True,
        other={Access.DISTRICT: 404},  # another district's users are not theirs to see
    ),
    ("PATCH", "/v1/users/{user_id}"): Spec(
        lambda w, r, t: (f"/v1/users/{_staff(w, t)}", {"json": {"active": False}}),
        targets=True,
        other={Access.DISTRICT: 404},
    ),
    ("GET", "/v1/districts"): Spec(lambda w, r, t: ("/v1/districts", {})),
    ("GET", "/v1/districts/{district_id}"): Spec(
        lambda w, r, t: (f"/v1/districts/{w.district_b}", {})
    ),
    ("POST", "/v1/districts"): Spec(
        lambda w, r, t: ("/v1/districts", {"json": {"name": f"New district {r}"}}), ok=201
    ),
    ("POST", "/v1/districts/{district_id}/api-keys"): Spec(
        lambda w, r, t: (
            f"/v1/districts/{_district(w, t)}/api-keys",
            {"json": {"name": "portal", "scope": "read"}},
        ),
        ok=201,
        targets=True,
    ),
    ("GET", "/v1/districts/{district_id}/api-keys"): Spec(
        lambda w, r, t: (f"/v1/districts/{_district(w, t)}/api-keys", {}), targets=True
    ),
    ("DELETE", "/v1/districts/{district_id}/api-keys/{key_id}"): Spec(
        lambda w, r, t: (
            f"/v1/districts/{_district(w, t)}/api-keys/{w.key_ids['spare' if t == 'own' else 'b']}",
            {},
        ),
        ok=204,
        targets=True,
    ),
    ("GET", "/v1/audit"): Spec(lambda w, r, t: ("/v1/audit", {})),
    ("POST", "/v1/organizations"): Spec(
        lambda w, r, t: ("/v1/organizations", {"json": factories.organization()}), ok=201
    ),
    ("GET", "/v1/organizations"): Spec(lambda w, r, t: ("/v1/organizations", {})),
    ("GET", "/v1/organizations/{organization_id}"): Spec(
        lambda w, r, t: (f"/v1/organizations/{_org_seen(w, r, t)}", {}), targets=True
    ),
    ("PATCH", "/v1/organizations/{organization_id}"): Spec(
        lambda w, r, t: (f"/v1/organizations/{_own_org(w, t)}", {"json": {"name": "Renamed"}}),
        targets=True,
    ),
    ("DELETE", "/v1/organizations/{organization_id}"): Spec(
        lambda w, r, t: (f"/v1/organizations/{_own_org(w, t)}", {}), ok=204, targets=True
    ),
    ("POST", "/v1/organizations/{organization_id}/offerings"): Spec(
        lambda w, r, t: (
            f"/v1/organizations/{_own_org(w, t)}/offerings",
            {"json": factories.offering()},
        ),
        ok=201,
        targets=True,
    ),
    ("POST", "/v1/organizations/{organization_id}/verification"): Spec(
        lambda w, r, t: (
            f"/v1/organizations/{w.orgs['stranger' if t == 'own' else 'faraway']}/verification",
            {"json": {"state": "rejected", "reason": "checked"}},
        ),
        targets=True,  # other: an organization serving none of the district's schools
    ),
    ("GET", "/v1/organizations/{organization_id}/school-matches"): Spec(
        lambda w, r, t: (f"/v1/organizations/{_own_org(w, t)}/school-matches", {}),
        targets=True,
        other={Access.DISTRICT: 200},  # any organization, ranked against their own schools
    ),
    ("GET", "/v1/offerings"): Spec(lambda w, r, t: ("/v1/offerings", {})),
    ("GET", "/v1/offerings/{offering_id}"): Spec(
        lambda w, r, t: (f"/v1/offerings/{_offering_seen(w, r, t)}", {}), targets=True
    ),
    ("PATCH", "/v1/offerings/{offering_id}"): Spec(
        lambda w, r, t: (
            f"/v1/offerings/{w.offerings['verified' if t == 'own' else 'other']}",
            {"json": {"title": "Renamed"}},
        ),
        targets=True,
    ),
    ("DELETE", "/v1/offerings/{offering_id}"): Spec(
        lambda w, r, t: (
            f"/v1/offerings/{w.offerings['verified' if t == 'own' else 'other']}",
            {},
        ),
        ok=204,
        targets=True,
    ),
    ("POST", "/v1/schools"): Spec(
        lambda w, r, t: (
            "/v1/schools",
            {
                "json": factories.school(district=None)
                if t == "own"
                else factories.school(district=None, district_id=w.district_b)
            },
        ),
        ok=201,
        targets=True,
    ),
    ("GET", "/v1/schools"): Spec(lambda w, r, t: ("/v1/schools", {})),
    ("GET", "/v1/schools/{school_id}"): Spec(lambda w, r, t: (f"/v1/schools/{w.school_b}", {})),
    ("PATCH", "/v1/schools/{school_id}"): Spec(
        lambda w, r, t: (f"/v1/schools/{_school(w, t)}", {"json": {"enrollment": 300}}),
        targets=True,
    ),
    ("POST", "/v1/schools/{school_id}/needs-assessments"): Spec(
        lambda w, r, t: (
            f"/v1/schools/{_school(w, t)}/needs-assessments",
            {"json": factories.assessment()},
        ),
        ok=201,
        targets=True,
    ),
    ("GET", "/v1/schools/{school_id}/needs-assessments"): Spec(
        lambda w, r, t: (f"/v1/schools/{_school(w, t)}/needs-assessments", {}), targets=True
    ),
    ("GET", "/v1/schools/{school_id}/needs-assessments/latest"): Spec(
        lambda w, r, t: (f"/v1/schools/{_school(w, t)}/needs-assessments/latest", {}),
        targets=True,
    ),
    ("GET", "/v1/schools/{school_id}/matches"): Spec(
        lambda w, r, t: (f"/v1/schools/{_school(w, t)}/matches", {}), targets=True
    ),
    ("GET", "/v1/schools/{school_id}/coverage"): Spec(
        lambda w, r, t: (f"/v1/schools/{_school(w, t)}/coverage", {}), targets=True
    ),
    ("POST", "/v1/matches"): Spec(
        lambda w, r, t: (
            "/v1/matches",
            {
                "json": {
                    "location": {"lat": 37.8, "lon": -122.25, "grade_low": 6, "grade_high": 8},
                    "needs": [{"category": "stem", "priority": 1}],
                }
            },
        )
    ),
    ("GET", "/v1/asset-map"): Spec(lambda w, r, t: ("/v1/asset-map", {"params": {"bbox": BBOX}})),
    ("GET", "/v1/gaps"): Spec(
        lambda w, r, t: (
            "/v1/gaps",
            {"params": {"district": w.name_a if t == "own" else w.name_b}},
        ),
        targets=True,
        other={Access.DISTRICT: 404},  # another district's schools are not in their area
    ),
    ("POST", "/v1/imports"): Spec(
        lambda w, r, t: (
            "/v1/imports",
            {
                "files": {"file": CSV},
                "data": {"kind": "schools" if t == "own" else "organizations", "source": "t"},
            },
        ),
        ok=202,
        targets=True,
    ),
    ("GET", "/v1/imports/{job_id}"): Spec(
        lambda w, r, t: (f"/v1/imports/{w.jobs['a' if t == 'own' else 'admin']}", {}),
        targets=True,
        other={Access.DISTRICT: 404},  # another's job looks missing
    ),
    # Past the door the world's jobs are finished (checked), so a retry is a 409.
    ("POST", "/v1/imports/{job_id}/retry"): Spec(
        lambda w, r, t: (f"/v1/imports/{w.jobs['a' if t == 'own' else 'admin']}/retry", {}),
        ok=409,
        targets=True,
        other={Access.DISTRICT: 404},
    ),
    ("GET", "/ogc"): Spec(lambda w, r, t: ("/ogc", {})),
    ("GET", "/ogc/conformance"): Spec(lambda w, r, t: ("/ogc/conformance", {})),
    ("GET", "/ogc/collections"): Spec(lambda w, r, t: ("/ogc/collections", {})),
    ("GET", "/ogc/collections/gaps"): Spec(lambda w, r, t: ("/ogc/collections/gaps", {})),
    ("GET", "/ogc/collections/gaps/items"): Spec(
        lambda w, r, t: ("/ogc/collections/gaps/items", {"params": {"bbox": BBOX}})
    ),
    ("GET", "/ogc/collections/gaps/items/{feature_id}"): Spec(
        lambda w, r, t: (
            f"/ogc/collections/gaps/items/{w.gap_needs['a' if t == 'own' else 'b']}",
            {},
        ),
        targets=True,
        other={Access.DISTRICT: 404},  # another district's needs are not in its analysis
    ),
    ("GET", "/ogc/collections/deserts"): Spec(lambda w, r, t: ("/ogc/collections/deserts", {})),
    ("GET", "/ogc/collections/deserts/items"): Spec(
        lambda w, r, t: ("/ogc/collections/deserts/items", {"params": {"bbox": BBOX}})
    ),
    ("GET", "/ogc/collections/deserts/items/{feature_id}"): Spec(
        lambda w, r, t: (f"/ogc/collections/deserts/items/{_desert(w, t)}", {}),
        targets=True,
        other={Access.DISTRICT: 404},
    ),
    ("GET", "/ogc/collections/{collection_id}"): Spec(
        lambda w, r, t: ("/ogc/collections/offerings", {})
    ),
    ("GET", "/ogc/collections/{collection_id}/items"): Spec(
        lambda w, r, t: ("/ogc/collections/offerings/items", {"params": {"bbox": BBOX}})
    ),
    ("GET", "/ogc/collections/{collection_id}/items/{feature_id}"): Spec(
        lambda w, r, t: (f"/ogc/collections/offerings/items/{_asset_seen(w, r, t)}", {}),
        targets=True,
    ),
    **_partnership_specs(),
    ("GET", "/v1/districts/{district_id}/partnerships/summary"): Spec(
        lambda w, r, t: (f"/v1/districts/{_district(w, t)}/partnerships/summary", {}),
        targets=True,
    ),
    ("GET", "/v1/districts/{district_id}/partnerships.ics"): Spec(
        lambda w, r, t: (f"/v1/districts/{_district(w, t)}/partnerships.ics", {}), targets=True
    ),
    ("GET", "/v1/schools/{school_id}/partnerships.ics"): Spec(
        lambda w, r, t: (f"/v1/schools/{_school(w, t)}/partnerships.ics", {}), targets=True
    ),
    ("GET", "/v1/organizations/{organization_id}/partnerships.ics"): Spec(
        lambda w, r, t: (f"/v1/organizations/{_own_org(w, t)}/partnerships.ics", {}),
        targets=True,
        other={Access.DISTRICT: 200},  # any organization, its partnerships in their district
    ),
}


def _desert(w: World, target: str) -> str:
    """Both schools sit in one grid cell; only its arts desert (school b's gap) is district
    B's, the literacy one (school a's) district A's."""
    x, y = geo.cell_xy([37.80], [-122.25], 13)
    return f"{'literacy' if target == 'own' else 'arts'}:13-{int(x[0])}-{int(y[0])}"


def _asset_seen(w: World, role: str, target: str) -> str:
    """The asset of a visible offering (each organization has one location, added in order)."""
    name = "other" if target == "own" and role != ORG_MEMBER else "unverified"
    if target == "other":
        name = "stranger"
    return f"{w.offerings[name]}:{w.orgs[name]}"


def expected(key: tuple[str, str], role: str, target: str) -> int:
    spec, rule = SPECS[key], POLICY[key]
    if role not in rule.access:
        return 401 if role == ANONYMOUS else 403
    access = rule.access[role]
    if target == "own" or access in (Access.ANY, Access.SELF):
        return spec.ok
    if access in spec.other:
        return spec.other[access]
    if access == Access.VISIBLE:
        return spec.ok if role in SEES_UNVERIFIED else 404
    return 403


CASES = [
    pytest.param(key, role, target, id=f"{key[0]} {key[1]} as {role} on {target}")
    for key, spec in SPECS.items()
    for role in ROLES
    for target in (("own", "other") if spec.targets else ("own",))
]


def _audit_count(db) -> int:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    return build(db)


@pytest.mark.parametrize(("key", "role", "target"), CASES)
def test_each_role_gets_what_the_matrix_says(anon, db, world, key, role, target):
    method, _ = key
    url, kwargs = SPECS[key].call(world, role, target)
    before = _audit_count(db)
    response = anon.request(method, url, headers=world.headers[role], **kwargs)
    want = expected(key, role, target)
    assert response.status_code == want, response.text
    if want >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    if want == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    if POLICY[key].write:
        # Every write leaves an audit event in its own transaction; a refusal leaves none.
        assert (_audit_count(db) > before) == (want < 300)


def test_every_route_is_in_the_matrix_and_has_a_test(app):
    operations = {
        (method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item
    }
    assert operations == set(POLICY)
    assert set(SPECS) == set(POLICY)
    pages = {getattr(r, "path", None) for r in app.routes if type(r).__name__ == "Route"}
    assert pages <= PUBLIC_PAGES


def test_the_published_matrix_is_the_one_enforced():
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
    assert doc.read_text() == render_markdown(), "run: partnermap permissions > docs/permissions.md"
