"""Two districts, their schools, five organizations and one caller of each role.

District A holds school `a`, district B school `b`; each has a needs assessment whose stem need is
met and whose other need (literacy at `a`, arts at `b`) is an unmet gap in a desert. The member
belongs to `verified` and `unverified`; `other` (verified) and `stranger` (unverified) belong
to nobody; `faraway` (unverified, no offering) serves neither district. School staff work at
`a`; the district admin and both keys are district A's; a second staff member works at `b`.
Partnerships of school `a` with `verified`: one proposed by the school, one offered by the
organization, one active (with a goal and an MOU carrying a PDF); `other` is school `b` with
`other`, active, with its own goal and MOU.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

from app.auth import passwords
from app.auth.principal import (
    ADMIN,
    ANONYMOUS,
    DISTRICT_ADMIN,
    KEY_READ,
    KEY_READ_WRITE,
    OPERATOR,
    ORG_MEMBER,
    SCHOOL_STAFF,
)
from app.db import Database
from app.models import (
    Agreement,
    District,
    ImportJob,
    Location,
    Need,
    NeedsAssessment,
    Offering,
    Organization,
    Partnership,
    PartnershipGoal,
    School,
)
from app.services import api_keys
from tests.conftest import user_token

LOGIN_EMAIL = "login@partnermap.test"
LOGIN_PASSWORD = "a long enough password"


@lru_cache(maxsize=1)
def login_hash() -> str:
    return passwords.hash_password(LOGIN_PASSWORD)


@dataclass
class World:
    district_a: int = 0
    district_b: int = 0
    name_a: str = "District A Unified"
    name_b: str = "District B Unified"
    school_a: int = 0
    school_b: int = 0
    orgs: dict[str, int] = field(default_factory=dict)
    offerings: dict[str, int] = field(default_factory=dict)
    key_ids: dict[str, int] = field(default_factory=dict)
    jobs: dict[str, int] = field(default_factory=dict)
    gap_needs: dict[str, int] = field(default_factory=dict)  # "a"/"b": the unmet need's id
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    partnerships: dict[str, int] = field(default_factory=dict)
    goals: dict[str, int] = field(default_factory=dict)
    agreements: dict[str, int] = field(default_factory=dict)


PDF = b"%PDF-1.4\n% a tiny agreement\n%%EOF\n"
TERM = (dt.date(2026, 8, 15), dt.date(2027, 6, 15))


def _partnerships(s, w: World) -> None:  # type: ignore[no-untyped-def]
    """The four partnerships of the docstring, and a goal and an MOU on each active one."""
    for name, school_id, org, status, proposed_by in (
        ("by_school", w.school_a, "verified", "proposed", "school"),
        ("by_org", w.school_a, "verified", "proposed", "organization"),
        ("active", w.school_a, "verified", "active", "school"),
        ("other", w.school_b, "other", "active", "school"),
    ):
        partnership = Partnership(
            school_id=school_id,
            organization_id=w.orgs[org],
            status=status,
            proposed_by=proposed_by,
            term_start=TERM[0],
            term_end=TERM[1],
            need_categories=["stem"],
        )
        s.add(partnership)
        s.flush()
        w.partnerships[name] = partnership.id
        if status != "active":
            continue
        goal = PartnershipGoal(
            partnership_id=partnership.id,
            category="stem",
            indicator="participation_count",
            unit="students",
            baseline_value=10,
            baseline_date=TERM[0],
            target_value=40,
            target_date=TERM[1],
            owner="Ms. Rivera",
        )
        agreement = Agreement(
            partnership_id=partnership.id,
            kind="mou",
            scope="Robotics club",
            school_responsibilities=["room"],
            organization_responsibilities=["mentors"],
            term_start=TERM[0],
            term_end=TERM[1],
            document=PDF,
            document_name="mou.pdf",
            document_sha256="0" * 64,
            document_size=len(PDF),
        )
        s.add_all([goal, agreement])
        s.flush()
        w.goals[name], w.agreements[name] = goal.id, agreement.id


def _school(name: str, district: District, lat: float) -> School:
    return School(
        name=name,
        district=district.name,
        district_id=district.id,
        lat=lat,
        lon=-122.25,
        location_precision="exact",
        grade_low=6,
        grade_high=8,
        languages=["en"],
        locale="city",
        need_index=0.7,
    )


def _organization(name: str, verification: str) -> Organization:
    return Organization(
        name=name,
        type="nonprofit",
        verification=verification,
        email=f"{name}@example.org",
        phone="510-555-0100",
        contact_name="Ada",
        languages=["en"],
        service_area_kind="radius",
        service_radius_km=20,
        locations=[Location(lat=37.80, lon=-122.27, precision="exact", city="Oakland")],
    )


def build(database: Database) -> World:
    w = World()
    with database.session() as s:
        a, b = District(name=w.name_a, slug="a"), District(name=w.name_b, slug="b")
        s.add_all([a, b])
        s.flush()
        w.district_a, w.district_b = a.id, b.id
        school_a, school_b = _school("Alpha Middle", a, 37.80), _school("Beta Middle", b, 37.81)
        s.add_all([school_a, school_b])
        s.flush()
        w.school_a, w.school_b = school_a.id, school_b.id
        for name, school, unmet in (("a", school_a, "literacy"), ("b", school_b, "arts")):
            gap = Need(
                category=unmet,
                priority=2,
                students_affected=25,
                notes="confidential need: a gap",
                schedule=[],
                delivery=[],
                languages=[],
            )
            s.add(
                NeedsAssessment(
                    school_id=school.id,
                    assessed_on=dt.date(2026, 9, 1),
                    notes="confidential notes",
                    is_example=False,
                    needs=[
                        Need(
                            category="stem",
                            priority=1,
                            students_affected=40,
                            notes="confidential need",
                            schedule=[],
                            delivery=[],
                            languages=[],
                        ),
                        gap,
                    ],
                )
            )
            s.flush()
            w.gap_needs[name] = gap.id
        for name, state in (
            ("verified", "verified"),
            ("unverified", "unverified"),
            ("other", "verified"),
            ("stranger", "unverified"),
        ):
            org = _organization(name, state)
            s.add(org)
            s.flush()
            w.orgs[name] = org.id
            offering = Offering(
                organization=org,
                title=f"{name} robotics",
                categories=["stem"],
                grade_low=6,
                grade_high=8,
                schedule=["after_school"],
                delivery=["at_school"],
                languages=["en"],
                populations=[],
                cost="free",
            )
            s.add(offering)
            s.flush()
            w.offerings[name] = offering.id
        # Registered in Fresno, 250 km away: it serves neither district's schools.
        faraway = _organization("faraway", "unverified")
        faraway.service_radius_km = 5
        faraway.locations = [Location(lat=36.74, lon=-119.78, precision="exact", city="Fresno")]
        s.add(faraway)
        s.flush()
        w.orgs["faraway"] = faraway.id
        for name, district_id in (("a", a.id), ("admin", None)):
            job = ImportJob(
                kind="schools",
                source="t",
                dry_run=True,
                skip_invalid=False,
                status="checked",
                district_id=district_id,
            )
            s.add(job)
            s.flush()
            w.jobs[name] = job.id
        _partnerships(s, w)
        from app.models import User

        s.add(User(email=LOGIN_EMAIL, password_hash=login_hash(), role=ORG_MEMBER, is_active=True))
        s.commit()
        keys = {}
        for name, district_id, scope in (
            ("read", a.id, "read"),
            ("read_write", a.id, "read_write"),
            ("spare", a.id, "read"),
            ("b", b.id, "read"),
        ):
            key, plaintext = api_keys.create(
                session=s,
                principal=OPERATOR,
                district_id=district_id,
                name=name,
                scope=scope,
                allowed_origins=["https://portal-a.example.org"],
            )
            w.key_ids[name], keys[name] = key.id, plaintext

    grants = {
        ADMIN: {},
        DISTRICT_ADMIN: {"district_id": w.district_a},
        SCHOOL_STAFF: {"district_id": w.district_a, "schools": [w.school_a]},
        ORG_MEMBER: {"organizations": [w.orgs["verified"], w.orgs["unverified"]]},
    }
    for role, given in grants.items():
        user_id, token = user_token(database, f"{role}@partnermap.test", role, **given)
        w.user_ids[role] = user_id
        w.headers[role] = {"Authorization": f"Bearer {token}"}
    # A user of district B, outside district A's admin's reach.
    w.user_ids["district_b"], _ = user_token(
        database,
        "staff-b@partnermap.test",
        SCHOOL_STAFF,
        district_id=w.district_b,
        schools=[w.school_b],
    )
    w.headers[KEY_READ] = {"X-API-Key": keys["read"]}
    w.headers[KEY_READ_WRITE] = {"X-API-Key": keys["read_write"]}
    w.headers[ANONYMOUS] = {}
    return w
