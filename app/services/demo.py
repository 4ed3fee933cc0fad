"""Load the Oakland Unified demo data (real public records) into the configured database: its
schools, partners and their services, example needs, and the 2011 school-partner records as
completed partnerships (written by the partnerships import's own write path).

Idempotent: records are matched on (source, external_id) and updated in place, so running it
twice leaves one copy. Everything is written in one transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from tqdm import tqdm

from app.demo.oakland import DISTRICT, DemoData, load_oakland
from app.imports.records import Record
from app.imports.report import ImportReport
from app.models import District, Need, NeedsAssessment, Offering, Organization, School
from app.repositories import districts as district_repo
from app.repositories import imports as import_repo
from app.repositories import organizations as organization_repo
from app.repositories import schools as school_repo
from app.repositories.catalog_changes import record_change
from app.schemas.organizations import OrganizationCreate
from app.services import import_writes
from app.services.catalog_rows import location_rows, offering_row, organization_row
from app.services.districts import slug_for
from app.services.partnership_history import ResolvedPartnership, upsert_partnerships
from app.services.schools import compute_need_index
from app.taxonomy import load_taxonomy

SOURCE = "ousd-2011-demo"
OUSD_SLUG = "oakland-unified"
# Columns a re-run rewrites; the rest (contact details, languages) are written on insert only.
ORGANIZATION_KEYS = (
    "name",
    "type",
    "type_inferred",
    "description",
    "service_area_kind",
    "service_area",
    "service_radius_km",
    "service_region",
)
OFFERING_KEYS = (
    "title",
    "description",
    "categories",
    "grade_low",
    "grade_high",
    "delivery",
    "schedule",
)
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
    report["organizations"] = _upsert_organizations(session, data, district)
    orgs = _existing(session, Organization)
    steps.update()
    report["offerings"] = _upsert_offerings(session, data)
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
    return {row.external_id: row for row in import_repo.of_source(session, model, SOURCE)}


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
    district = district_repo.by_name(session, DISTRICT)
    if district is None:
        taken = district_repo.slugs(session)
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


def _upsert_organizations(session: Session, data: DemoData, district: District) -> str:
    """The partners through the importers' write path, then verified by the district's own
    list unless a decision is already stored."""
    records = []
    for o in data.organizations:
        model = OrganizationCreate.model_validate(
            {
                "name": o.name,
                "type": o.type,
                "description": (
                    f"Partner of Oakland Unified schools in OUSD's November 2011 records. "
                    f"Location approximate: {o.location_note}."
                ),
                "locations": [
                    {
                        "lat": o.lat,
                        "lon": o.lon,
                        "precision": o.location_precision,
                        "note": o.location_note,
                        "city": "Oakland",
                        "state": "CA",
                    }
                ],
                "service_area": {"kind": "radius", "radius_km": round(o.service_radius_km, 3)},
            }
        )
        row = organization_row(model) | {"type_inferred": o.type_inferred}
        values = {key: row.pop(key) for key in ORGANIZATION_KEYS}
        records.append(
            Record(0, o.external_id, values, location_rows(model.locations), defaults=row)
        )
    counts = import_writes.write_organizations(session, SOURCE, records, ORGANIZATION_KEYS)
    organization_repo.verify_unverified(
        session, source=SOURCE, reason=VERIFIED_BECAUSE, district_id=district.id
    )
    return f"{counts.added} added, {len(data.organizations) - counts.added} updated"


def _upsert_offerings(session: Session, data: DemoData) -> str:
    """The partners' services through the importers' write path (languages and populations are
    written on insert only)."""
    records = [
        Record(
            0,
            o.external_id,
            offering_row(
                {
                    "title": o.title,
                    "description": o.description,
                    "categories": list(o.categories),
                    "grade_low": o.grade_low,
                    "grade_high": o.grade_high,
                    "delivery": list(o.delivery),
                    "schedule": list(o.schedule),
                    "languages": [],
                    "populations": [],
                }
            ),
            organization_ref=o.organization_external_id,
        )
        for o in data.offerings
    ]
    report = ImportReport(kind="demo", source=SOURCE)
    counts = import_writes.write_offerings(session, SOURCE, records, OFFERING_KEYS, report)
    return f"{counts.added} added, {len(data.offerings) - counts.added} updated"


def _add_assessments(session: Session, data: DemoData, schools: dict[str, School]) -> str:
    added = 0
    for a in data.needs_assessments:
        school = schools.get(a.school_external_id)
        if school is None:
            continue
        if school_repo.has_example_assessment(session, school.id, a.assessed_on):
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
