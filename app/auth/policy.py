"""The permission matrix: one table, read by the guard on every route (`door`), by the OpenAPI
document (security and "who may call"), by docs/permissions.md and by the tests.

Each route maps each role that may call it to the records it may touch. The guard turns away
roles not in the row (401 anonymous, 403 others); the services check the record-level part
(`Access`) when they load the record, so the row and the code say the same thing and the
parametrized tests in tests/auth/test_permission_matrix.py hold both to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from app.auth.principal import (
    ADMIN,
    ANONYMOUS,
    DISTRICT_ADMIN,
    KEY_READ,
    KEY_READ_WRITE,
    ORG_MEMBER,
    ROLES,
    SCHOOL_STAFF,
    Principal,
)
from app.domain_errors import Forbidden, Unauthorized


class Access(StrEnum):
    ANY = "any"  # every record
    VISIBLE = "visible"  # verified organizations, plus one's own (district admins: all)
    DISTRICT = "district"  # records of the caller's district
    OWN_SCHOOLS = "own schools"
    OWN_ORGS = "own organizations"
    SERVED = "served organizations"  # organizations reaching one of the district's schools
    SELF = "self"  # the caller's own account or token


@dataclass(frozen=True)
class Rule:
    access: dict[str, Access]
    write: bool = False
    note: str = ""


A = Access
EVERYONE = {role: A.ANY for role in ROLES}
VISIBLE = {role: A.VISIBLE for role in ROLES if role != ADMIN} | {ADMIN: A.ANY}
USERS = {ORG_MEMBER: A.SELF, SCHOOL_STAFF: A.SELF, DISTRICT_ADMIN: A.SELF, ADMIN: A.SELF}
SCHOOL_PRIVATE = {
    SCHOOL_STAFF: A.OWN_SCHOOLS,
    DISTRICT_ADMIN: A.DISTRICT,
    KEY_READ: A.DISTRICT,
    KEY_READ_WRITE: A.DISTRICT,
    ADMIN: A.ANY,
}
SCHOOL_WRITE = {
    SCHOOL_STAFF: A.OWN_SCHOOLS,
    DISTRICT_ADMIN: A.DISTRICT,
    KEY_READ_WRITE: A.DISTRICT,
    ADMIN: A.ANY,
}
DISTRICT_READ = {
    DISTRICT_ADMIN: A.DISTRICT,
    KEY_READ: A.DISTRICT,
    KEY_READ_WRITE: A.DISTRICT,
    ADMIN: A.ANY,
}
DISTRICT_WRITE = {DISTRICT_ADMIN: A.DISTRICT, KEY_READ_WRITE: A.DISTRICT, ADMIN: A.ANY}
DISTRICT_ADMINS = {DISTRICT_ADMIN: A.DISTRICT, ADMIN: A.ANY}
ORG_WRITE = {ORG_MEMBER: A.OWN_ORGS, ADMIN: A.ANY}
# Accounts are people's: managed by the operator and, for their own district, its admins.
USER_ADMINS = {DISTRICT_ADMIN: A.DISTRICT, ADMIN: A.ANY}
MANAGED_USERS = (
    "District admins: their district's users, never an operator; another's users are a 404."
)
# A partnership's two sides and its district; the record decides (see services.partnerships).
PARTNERSHIP_READ = {
    ORG_MEMBER: A.OWN_ORGS,
    SCHOOL_STAFF: A.OWN_SCHOOLS,
    DISTRICT_ADMIN: A.DISTRICT,
    KEY_READ: A.DISTRICT,
    KEY_READ_WRITE: A.DISTRICT,
    ADMIN: A.ANY,
}
PARTNERSHIP_WRITE = {role: a for role, a in PARTNERSHIP_READ.items() if role != KEY_READ}
SIDES = "School staff act for their schools, members for their organizations, districts for both."

SCHOOL_NEEDS = "Reveals the school's needs: its staff, its district, the operator."

POLICY: dict[tuple[str, str], Rule] = {
    ("GET", "/health"): Rule(EVERYONE),
    ("GET", "/ready"): Rule(EVERYONE),
    ("GET", "/v1/taxonomy"): Rule(EVERYONE),
    # accounts
    ("POST", "/v1/auth/token"): Rule(
        EVERYONE, write=True, note="Log-in; failures are throttled per (email, IP)."
    ),
    ("POST", "/v1/auth/revoke"): Rule(USERS, write=True, note="Revokes the token it is sent with."),
    ("GET", "/v1/me"): Rule({role: A.SELF for role in ROLES if role != ANONYMOUS}),
    ("POST", "/v1/users"): Rule(
        EVERYONE, write=True, note="Self sign-up: always an organization member with no grants."
    ),
    ("GET", "/v1/users"): Rule(USER_ADMINS, note=MANAGED_USERS),
    ("GET", "/v1/users/{user_id}"): Rule(USER_ADMINS, note=MANAGED_USERS),
    ("PATCH", "/v1/users/{user_id}"): Rule(
        USER_ADMINS,
        write=True,
        note="Disable (their tokens and keys stop at once) or enable; never oneself. "
        + MANAGED_USERS,
    ),
    # districts and their keys
    ("GET", "/v1/districts"): Rule(EVERYONE),
    ("GET", "/v1/districts/{district_id}"): Rule(EVERYONE),
    ("POST", "/v1/districts"): Rule({ADMIN: A.ANY}, write=True),
    ("POST", "/v1/districts/{district_id}/api-keys"): Rule(
        DISTRICT_ADMINS, write=True, note="Keys never manage keys."
    ),
    ("GET", "/v1/districts/{district_id}/api-keys"): Rule(DISTRICT_ADMINS),
    ("DELETE", "/v1/districts/{district_id}/api-keys/{key_id}"): Rule(DISTRICT_ADMINS, write=True),
    ("GET", "/v1/audit"): Rule(
        DISTRICT_READ, note="A district sees its own events and every organization event."
    ),
    # organizations and offerings (a directory shared by every district)
    ("POST", "/v1/organizations"): Rule(
        {ORG_MEMBER: A.ANY, ADMIN: A.ANY},
        write=True,
        note="A member who registers an organization becomes its member; it starts unverified.",
    ),
    ("GET", "/v1/organizations"): Rule(
        VISIBLE, note="Contact fields only for district people and the organization's members."
    ),
    ("GET", "/v1/organizations/{organization_id}"): Rule(
        VISIBLE, note="Hidden (unverified, rejected) organizations are a 404."
    ),
    ("PATCH", "/v1/organizations/{organization_id}"): Rule(ORG_WRITE, write=True),
    ("DELETE", "/v1/organizations/{organization_id}"): Rule(ORG_WRITE, write=True),
    ("POST", "/v1/organizations/{organization_id}/offerings"): Rule(ORG_WRITE, write=True),
    ("POST", "/v1/organizations/{organization_id}/verification"): Rule(
        {DISTRICT_ADMIN: A.SERVED, ADMIN: A.ANY},
        write=True,
        note="Verify or reject (with a reason); recorded with the deciding district. A "
        "district decides on the organizations serving its schools only.",
    ),
    ("GET", "/v1/organizations/{organization_id}/school-matches"): Rule(
        {
            ORG_MEMBER: A.OWN_ORGS,
            DISTRICT_ADMIN: A.DISTRICT,
            KEY_READ: A.DISTRICT,
            KEY_READ_WRITE: A.DISTRICT,
            ADMIN: A.ANY,
        },
        note="Members: of a verified organization. Districts: their own schools only.",
    ),
    ("GET", "/v1/offerings"): Rule(VISIBLE),
    ("GET", "/v1/offerings/{offering_id}"): Rule(VISIBLE),
    ("PATCH", "/v1/offerings/{offering_id}"): Rule(ORG_WRITE, write=True),
    ("DELETE", "/v1/offerings/{offering_id}"): Rule(ORG_WRITE, write=True),
    # schools (public directory) and their needs (private to the school and its district)
    ("POST", "/v1/schools"): Rule(DISTRICT_WRITE, write=True, note="Into the caller's district."),
    ("GET", "/v1/schools"): Rule(EVERYONE),
    ("GET", "/v1/schools/{school_id}"): Rule(EVERYONE),
    ("PATCH", "/v1/schools/{school_id}"): Rule(
        SCHOOL_WRITE, write=True, note="Only the operator moves a school to another district."
    ),
    ("POST", "/v1/schools/{school_id}/needs-assessments"): Rule(SCHOOL_WRITE, write=True),
    ("GET", "/v1/schools/{school_id}/needs-assessments"): Rule(SCHOOL_PRIVATE, note=SCHOOL_NEEDS),
    ("GET", "/v1/schools/{school_id}/needs-assessments/latest"): Rule(
        SCHOOL_PRIVATE, note=SCHOOL_NEEDS
    ),
    ("GET", "/v1/schools/{school_id}/matches"): Rule(SCHOOL_PRIVATE, note=SCHOOL_NEEDS),
    ("GET", "/v1/schools/{school_id}/coverage"): Rule(SCHOOL_PRIVATE, note=SCHOOL_NEEDS),
    ("POST", "/v1/matches"): Rule(
        EVERYONE,
        note="Ranks the needs sent; only verified partners unless the caller sees unverified.",
    ),
    ("GET", "/v1/asset-map"): Rule(VISIBLE),
    ("GET", "/v1/gaps"): Rule(
        DISTRICT_READ, note="Per-school needs: districts see their own schools only."
    ),
    ("POST", "/v1/imports"): Rule(
        DISTRICT_WRITE,
        write=True,
        note="Districts: `kind=schools` or `partnerships`, their own district's.",
    ),
    ("GET", "/v1/imports/{job_id}"): Rule(DISTRICT_READ),
    ("POST", "/v1/imports/{job_id}/retry"): Rule(
        DISTRICT_WRITE, write=True, note="A failed job of the caller's district (any: admin)."
    ),
    # OGC API - Features for GIS clients. The gap analysis collections have rows of their own,
    # before the generic `{collection_id}` rows: the first row whose path matches applies.
    ("GET", "/ogc"): Rule(EVERYONE),
    ("GET", "/ogc/conformance"): Rule(EVERYONE),
    ("GET", "/ogc/collections"): Rule(
        EVERYONE, note="Lists `gaps` and `deserts` only to callers who may read them."
    ),
    **{
        ("GET", f"/ogc/collections/{name}{tail}"): Rule(
            DISTRICT_READ, note="As GET /v1/gaps: districts see their own schools only."
        )
        for name in ("gaps", "deserts")
        for tail in ("", "/items", "/items/{feature_id}")
    },
    ("GET", "/ogc/collections/{collection_id}"): Rule(VISIBLE),
    ("GET", "/ogc/collections/{collection_id}/items"): Rule(
        VISIBLE, note="`offerings` and `organization-locations` of visible organizations."
    ),
    ("GET", "/ogc/collections/{collection_id}/items/{feature_id}"): Rule(VISIBLE),
    # partnerships: the school side, the organization side and the school's district
    ("POST", "/v1/partnerships"): Rule(
        PARTNERSHIP_WRITE,
        write=True,
        note="Staff request for their school, members offer for their organization.",
    ),
    ("GET", "/v1/partnerships"): Rule(PARTNERSHIP_READ, note="Only those within reach."),
    ("GET", "/v1/partnerships/{partnership_id}"): Rule(PARTNERSHIP_READ),
    ("PATCH", "/v1/partnerships/{partnership_id}"): Rule(PARTNERSHIP_WRITE, write=True),
    ("POST", "/v1/partnerships/{partnership_id}/transitions"): Rule(
        PARTNERSHIP_WRITE,
        write=True,
        note="A proposal is answered by the side that did not make it (or the district).",
    ),
    ("POST", "/v1/partnerships/{partnership_id}/renewals"): Rule(PARTNERSHIP_WRITE, write=True),
    ("POST", "/v1/partnerships/{partnership_id}/goals"): Rule(PARTNERSHIP_WRITE, write=True),
    ("GET", "/v1/partnerships/{partnership_id}/goals"): Rule(PARTNERSHIP_READ),
    ("GET", "/v1/partnerships/{partnership_id}/progress"): Rule(PARTNERSHIP_READ),
    ("POST", "/v1/partnerships/{partnership_id}/agreements"): Rule(PARTNERSHIP_WRITE, write=True),
    ("GET", "/v1/partnerships/{partnership_id}/agreements"): Rule(PARTNERSHIP_READ),
    ("POST", "/v1/partnerships/{partnership_id}/check-ins"): Rule(PARTNERSHIP_WRITE, write=True),
    ("GET", "/v1/partnerships/{partnership_id}/check-ins"): Rule(PARTNERSHIP_READ),
    ("POST", "/v1/partnerships/{partnership_id}/reviews"): Rule(
        PARTNERSHIP_WRITE, write=True, note="One per side; " + SIDES
    ),
    ("GET", "/v1/partnerships/{partnership_id}/reviews"): Rule(PARTNERSHIP_READ),
    ("GET", "/v1/goals/{goal_id}"): Rule(PARTNERSHIP_READ),
    ("PATCH", "/v1/goals/{goal_id}"): Rule(PARTNERSHIP_WRITE, write=True),
    ("DELETE", "/v1/goals/{goal_id}"): Rule(PARTNERSHIP_WRITE, write=True),
    ("POST", "/v1/goals/{goal_id}/readings"): Rule(PARTNERSHIP_WRITE, write=True),
    ("GET", "/v1/goals/{goal_id}/readings"): Rule(PARTNERSHIP_READ),
    ("GET", "/v1/agreements/{agreement_id}"): Rule(PARTNERSHIP_READ),
    ("POST", "/v1/agreements/{agreement_id}/signatures"): Rule(
        PARTNERSHIP_WRITE, write=True, note="One per party; " + SIDES
    ),
    ("POST", "/v1/agreements/{agreement_id}/document"): Rule(
        PARTNERSHIP_WRITE, write=True, note="A PDF up to 10 MB, kept in the database."
    ),
    ("GET", "/v1/agreements/{agreement_id}/document"): Rule(PARTNERSHIP_READ),
    ("GET", "/v1/organizations/{organization_id}/track-record"): Rule(
        VISIBLE, note="Counts only (schools served), never a school's name."
    ),
    # the district's partnership view and calendars
    ("GET", "/v1/districts/{district_id}/partnerships/summary"): Rule(DISTRICT_READ),
    ("GET", "/v1/districts/{district_id}/partnerships.ics"): Rule(DISTRICT_READ),
    ("GET", "/v1/schools/{school_id}/partnerships.ics"): Rule(SCHOOL_PRIVATE),
    ("GET", "/v1/organizations/{organization_id}/partnerships.ics"): Rule(
        {
            ORG_MEMBER: A.OWN_ORGS,
            DISTRICT_ADMIN: A.DISTRICT,
            KEY_READ: A.DISTRICT,
            KEY_READ_WRITE: A.DISTRICT,
            ADMIN: A.ANY,
        },
        note="Districts: the organization's partnerships with their own schools.",
    ),
}

# Pages FastAPI serves itself: the documentation is public.
PUBLIC_PAGES = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


_TEMPLATES = [
    (method, re.compile("^" + re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(path)) + "$"), path)
    for method, path in POLICY
]


def template_of(method: str, path: str) -> str | None:
    """The matrix's path template for a request path (`/v1/schools/7` -> `/v1/schools/{…}`)."""
    for rule_method, pattern, template in _TEMPLATES:
        if rule_method == method and pattern.match(path):
            return template
    return None


def permits(principal: Principal, method: str, template: str) -> bool:
    """Whether the matrix lets this caller's role call the route (e.g. to list it)."""
    return principal.role in POLICY[(method, template)].access


def door(principal: Principal, method: str, path: str) -> None:
    """Turn away a role the route's row does not list: 401 for nobody, 403 for the rest.
    `path` is the request's path; a route missing from the table is closed (and a test
    keeps the table complete)."""
    template = template_of(method, path)
    if template is None:
        raise Forbidden("This operation is not in the permission matrix.")
    path = template
    rule = POLICY[(method, path)]
    if principal.role in rule.access:
        return
    if principal.is_anonymous:
        raise Unauthorized(
            "Log in (POST /v1/auth/token) and send `Authorization: Bearer <token>`, or send a "
            "district API key in `X-API-Key`."
        )
    raise Forbidden(f"A caller with role '{principal.role}' may not {method} {path}.")


LABELS = {
    ANONYMOUS: "anonymous",
    ORG_MEMBER: "org member",
    SCHOOL_STAFF: "school staff",
    DISTRICT_ADMIN: "district admin",
    KEY_READ: "key (read)",
    KEY_READ_WRITE: "key (read_write)",
    ADMIN: "admin",
}


def render_markdown() -> str:
    """docs/permissions.md, generated from POLICY (`partnermap permissions`)."""
    lines = [
        "# Permission matrix",
        "",
        "Generated from `app/auth/policy.py` by `partnermap permissions > docs/permissions.md`;",
        "a test fails when this file and the table differ.",
        "",
        "A cell names the records the role may touch: **any**; **visible** (verified",
        "organizations and their offerings, plus the caller's own; district admins and keys see",
        "unverified ones too); **district** (records of the caller's district); **own schools**,",
        "**own organizations**; **served organizations** (those whose service area or radius",
        "reaches one of the caller's district's schools); **self** (the caller's own account or",
        "token). A dash is a",
        "refusal: 401 for anonymous callers, 403 for the others. A record the caller may not see",
        "at all is a 404; one it may see but not touch is a 403.",
        "",
        "| endpoint | " + " | ".join(LABELS[r] for r in ROLES) + " | note |",
        "|---|" + "---|" * (len(ROLES) + 1),
    ]
    for (method, path), rule in POLICY.items():
        cells = [str(rule.access[r]) if r in rule.access else "—" for r in ROLES]
        lines.append(f"| `{method} {path}` | " + " | ".join(cells) + f" | {rule.note} |")
    lines += [
        "",
        "Documentation pages (" + ", ".join(f"`{p}`" for p in sorted(PUBLIC_PAGES)) + ") are",
        "public. Every write is recorded in the audit log (`GET /v1/audit`).",
        "",
    ]
    return "\n".join(lines)
