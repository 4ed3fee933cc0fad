"""Load the Oakland Unified demo data (real public records) into the configured database: its
schools, partners and their services, example needs, and the 2011 school-partner records as
completed partnerships (written by the partnerships import's own write path).

Idempotent: records are matched on (source, external_id) and updated in place, so running it
twice leaves one copy. Everything is written in one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from tqdm import tqdm

from app.demo.oakland import DISTRICT, DemoData, load_oakland
from app.models import District, Location, Need, NeedsAssessment, Offering, Organization, School
from app.repositories.catalog_changes import record_change
from app.services.districts import slug_for
from app.services.partnership_history import ResolvedPartnership, upsert_partnerships
from app.services.schools import compute_need_index
from app.taxonomy import load_taxonomy

SOURCE = "ousd-2011-demo"
OUSD_SLUG = "oakland-unified"
VERIFIED_BECAUSE = (
    "Listed in Oakland Unified School District's own November 2011 community partner "
    "records (app/data/oakland/community_partners_2011.csv)."
)


def load(*, session: Session, progress: bool = False, data: DemoData | None = None) -> dict:
    """Upsert the demo schools, organizations, offerings, example needs assessments and
    completed partnerships."""
    data = data or load_oakland()
    _check_categories(data)
    report: dict[str, Any] = {}
    steps = tqdm(total=5, desc="demo", unit="step", disable=not progress)

    district = _district(session)
    schools = _existing(session, School)
    report["schools"] = _upsert_schools(session, data, schools, district)
    steps.update()
    orgs = _existing(session, Organization)
    report["organizations"] = _upsert_organizations(session, data, orgs, district)
    steps.update()
    report["offerings"] = _upsert_offerings(session, data, orgs)
    steps.update()
    report["needs_assessments"] = _add_assessments(session, data, schools)
    steps.update()
    report["partnerships"] = _upsert_partnerships(session, data, schools, orgs)
    steps.update()
    record_change(session)  # no ids: every worker rebuilds its ranking index
    session.commit()
    steps.close()
    report["unmatched_school_names"] = len(data.unmatched_school_names)
    return report


def _existing(session: Session, model: type) -> dict[str, Any]:
    rows = session.scalars(select(model).where(model.source == SOURCE)).all()
    return {row.external_id: row for row in rows}


def _check_categories(data: DemoData) -> None:
    taxonomy = load_taxonomy()
    unknown = {c for o in data.offerings for c in o.categories if c not in taxonomy}
    unknown |= {
        n.category for a in data.needs_assessments for n in a.needs if n.category not in taxonomy
    }
    if unknown:
        raise ValueError(f"demo data uses categories missing from the taxonomy: {sorted(unknown)}")


def _district(session: Session) -> District:
    """Oakland Unified, found by name (a migrated database has it by name already)."""
    district = session.scalar(select(District).where(District.name == DISTRICT))
    if district is None:
        taken = set(session.scalars(select(District.slug)))
        slug = OUSD_SLUG if OUSD_SLUG not in taken else slug_for(DISTRICT, taken)
        district = District(name=DISTRICT, slug=slug)
        session.add(district)
    session.flush()
    return district


def _upsert_schools(
    session: Session, data: DemoData, existing: dict[str, School], district: District
) -> str:
    added = 0
    for s in data.schools:
        school = existing.get(s.external_id)
        if school is None:
            school = School(source=SOURCE, external_id=s.external_id)
            session.add(school)
            existing[s.external_id] = school
            added += 1
        school.name, school.nces_id, school.state_id = s.name, s.nces_id, s.state_id
        school.address, school.city = s.address, s.city
        # Every demo school is an Oakland Unified site (app/demo/oakland.py checks it).
        school.district, school.district_id = district.name, district.id
        school.state, school.postal_code = s.state, s.postal_code
        school.lat, school.lon, school.location_precision = s.lat, s.lon, "exact"
        school.grade_low, school.grade_high = s.grade_low, s.grade_high
        school.enrollment, school.frl_pct, school.locale = s.enrollment, s.frl_pct, s.locale
        school.languages = school.languages or []
        school.need_index = compute_need_index(school)
    session.flush()
    return f"{added} added, {len(data.schools) - added} updated"


def _upsert_organizations(  # type: ignore[no-untyped-def]
    session: Session, data: DemoData, existing: dict[str, Organization], district: District
):
    added = 0
    for o in data.organizations:
        org = existing.get(o.external_id)
        if org is None:
            org = Organization(source=SOURCE, external_id=o.external_id, languages=[])
            session.add(org)
            existing[o.external_id] = org
            added += 1
        org.name, org.type, org.type_inferred = o.name, o.type, o.type_inferred
        org.description = (
            f"Partner of Oakland Unified schools in OUSD's November 2011 records. "
            f"Location approximate: {o.location_note}."
        )
        org.service_area_kind, org.service_radius_km = "radius", round(o.service_radius_km, 3)
        org.service_area, org.service_region = None, None
        if org.verification in (None, "unverified"):
            # The district's own partner list vouches for them; a later decision stands.
            org.verification, org.verification_reason = "verified", VERIFIED_BECAUSE
            org.verified_by_district_id = district.id
            org.verified_at = dt.datetime.now(dt.UTC)
        location = org.locations[0] if org.locations else Location()
        location.lat, location.lon = o.lat, o.lon
        location.precision, location.note = o.location_precision, o.location_note
        location.city, location.state = "Oakland", "CA"
        if not org.locations:
            org.locations = [location]
    session.flush()
    return f"{added} added, {len(data.organizations) - added} updated"


def _upsert_offerings(session: Session, data: DemoData, orgs: dict[str, Organization]) -> str:
    existing = _existing(session, Offering)
    added = 0
    for o in data.offerings:
        org = orgs.get(o.organization_external_id)
        if org is None:
            continue
        offering = existing.get(o.external_id)
        if offering is None:
            offering = Offering(source=SOURCE, external_id=o.external_id, organization=org)
            session.add(offering)
            added += 1
        offering.title, offering.description = o.title, o.description
        offering.categories = list(o.categories)
        offering.grade_low, offering.grade_high = o.grade_low, o.grade_high
        offering.delivery, offering.schedule = list(o.delivery), list(o.schedule)
        offering.languages = offering.languages or []
        offering.populations = offering.populations or []
    session.flush()
    return f"{added} added, {len(data.offerings) - added} updated"


def _add_assessments(session: Session, data: DemoData, schools: dict[str, School]) -> str:
    added = 0
    for a in data.needs_assessments:
        school = schools.get(a.school_external_id)
        if school is None:
            continue
        already = session.scalar(
            select(NeedsAssessment.id).where(
                NeedsAssessment.school_id == school.id,
                NeedsAssessment.assessed_on == a.assessed_on,
                NeedsAssessment.is_example.is_(True),
            )
        )
        if already is not None:
            continue
        session.add(
            NeedsAssessment(
                school_id=school.id,
                assessed_on=a.assessed_on,
                notes=a.source_note,
                is_example=True,
                needs=[
                    Need(
                        category=n.category,
                        priority=n.priority,
                        grade_low=n.grade_low,
                        grade_high=n.grade_high,
                        students_affected=n.students_affected,
                        notes=n.notes,
                        schedule=[],
                        delivery=[],
                        languages=[],
                    )
                    for n in a.needs
                ],
            )
        )
        added += 1
    return f"{added} added, {len(data.needs_assessments) - added} already present"


def _upsert_partnerships(
    session: Session, data: DemoData, schools: dict[str, School], orgs: dict[str, Organization]
) -> str:
    """The 2011 records as completed partnerships, through the import's write path."""
    offerings = _existing(session, Offering)
    rows = [
        ResolvedPartnership(
            source_ref=p.source_ref,
            school_id=schools[p.school_external_id].id,
            organization_id=orgs[p.organization_external_id].id,
            offering_ids=(offerings[p.offering_external_id].id,),
            status="completed",
            term_start=p.term_start,
            term_end=p.term_end,
            need_categories=list(p.categories),
        )
        for p in data.partnerships
    ]
    counts = upsert_partnerships(session, SOURCE, rows)
    return f"{counts.added} added, {counts.updated} updated, {counts.unchanged} unchanged"
