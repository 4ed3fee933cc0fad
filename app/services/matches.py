"""Use cases for ranking: partners for a school, schools for an organization."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from app.auth.principal import ADMIN, ORG_MEMBER, Principal
from app.domain_errors import Forbidden, InvalidInput, NotFound
from app.models import Need as NeedRow
from app.models import NeedsAssessment, Offering, School
from app.repositories import catalog
from app.repositories import offerings as offering_repo
from app.repositories import schools as school_repo
from app.schemas.schools import NeedIn
from app.services import organizations
from app.services import schools as school_service
from app.services.catalog_index import CatalogIndex
from app.services.validation import check_category, check_grades
from app.settings import Settings
from matching import (
    Filters,
    Need,
    RankedOffering,
    RankedSchool,
    SchoolQuery,
    SchoolTable,
    rank_offerings,
    rank_schools,
)
from matching.need_index import populations_from_indicators


def equity_for(settings: Settings, district: str | None, requested: float | None) -> float:
    """The request's equity, else its district's default, else the service default."""
    if requested is not None:
        return requested
    if district and district in settings.district_equity:
        return settings.district_equity[district]
    return settings.equity_default


def school_query(school: School, covered_by: frozenset[int] | None) -> SchoolQuery:
    return SchoolQuery(
        lat=school.lat,
        lon=school.lon,
        school_id=school.id,
        locale=school.locale,
        grade_low=school.grade_low,
        grade_high=school.grade_high,
        need_index=school.need_index,
        languages=frozenset(school.languages),
        populations=populations_from_indicators(
            frl_pct=school.frl_pct,
            title_i=school.title_i,
            el_pct=school.el_pct,
            swd_pct=school.swd_pct,
            locale=school.locale,
        ),
        covered_by=covered_by,
    )


def as_need(row: NeedRow | NeedIn | Row[Any]) -> Need:
    """A need for the ranker from anything with a need's fields: a filed need, a request body
    or a row of the needs table."""
    return Need(
        category=row.category,
        priority=row.priority,
        grade_low=row.grade_low,
        grade_high=row.grade_high,
        students_affected=row.students_affected,
        schedule=frozenset(row.schedule),
        delivery=frozenset(row.delivery),
        languages=frozenset(row.languages),
        notes=row.notes or "",
    )


def ranking_filters(principal: Principal, filters: Filters) -> Filters:
    """Callers who do not see unverified organizations get rankings of verified ones only."""
    if principal.sees_unverified or filters.verified_only:
        return filters
    return dataclasses.replace(filters, verified_only=True)


def for_school(
    *,
    session: Session,
    ranking_index: CatalogIndex,
    principal: Principal,
    settings: Settings,
    school_id: int,
    k: int,
    equity: float | None,
    filters: Filters,
) -> tuple[list[RankedOffering], NeedsAssessment, float]:
    """Offerings ranked against the school's latest needs assessment, with the equity strength
    used (the request's, else the school's district default)."""
    school = school_service.readable(session=session, principal=principal, school_id=school_id)
    strength = equity_for(settings, school.district, equity)
    filters = ranking_filters(principal, filters)
    assessment = school_repo.latest_assessment(session, school_id)
    if assessment is None:
        raise NotFound(
            f"School {school_id} has no needs assessment to rank against; file one with "
            f"POST /v1/schools/{school_id}/needs-assessments or send needs to POST /v1/matches."
        )
    covered = catalog.covering_offerings(session, school.lat, school.lon)
    index = ranking_index.current(session)
    ranked = rank_offerings(
        index,
        school_query(school, covered),
        [as_need(n) for n in assessment.needs],
        k=k,
        equity=strength,
        filters=filters,
    )
    return ranked, assessment, strength


def ad_hoc(
    *,
    session: Session,
    ranking_index: CatalogIndex,
    principal: Principal,
    query: SchoolQuery,
    needs: Sequence[NeedIn],
    k: int,
    equity: float,
    filters: Filters,
) -> list[RankedOffering]:
    # Checked before any Need is built: Need refuses a reversed range by raising, which a
    # client's typo must never turn into a 500.
    for n, need in enumerate(needs):
        check_category(need.category, ["body", "needs", n, "category"])
        check_grades(need.grade_low, need.grade_high, ["body", "needs", n])
    ranked_needs = [as_need(n) for n in needs]
    filters = ranking_filters(principal, filters)
    covered = catalog.covering_offerings(session, query.lat, query.lon)
    query = SchoolQuery(**{**query.__dict__, "covered_by": covered})
    return rank_offerings(
        ranking_index.current(session), query, ranked_needs, k=k, equity=equity, filters=filters
    )


def schools_for_organization(
    *,
    session: Session,
    ranking_index: CatalogIndex,
    principal: Principal,
    organization_id: int,
    k: int,
    equity: float,
    district: str | None,
    max_distance_km: float | None,
) -> list[RankedSchool]:
    """Schools where the organization's offerings are most needed, equity-weighted. The
    results reveal schools' needs: members get them for their own verified organization,
    districts for their own schools."""
    org = organizations.visible(
        session=session, principal=principal, organization_id=organization_id
    )
    if principal.role == ORG_MEMBER:
        if not principal.member_of(org.id):
            raise Forbidden(f"Only members of organization {org.id} may see its school matches.")
        if org.verification != "verified":
            raise Forbidden("School matches open to an organization once a district verifies it.")
    district_id = None if principal.role in (ADMIN, ORG_MEMBER) else principal.district_id
    has_offerings = session.scalar(
        select(Offering.id).where(Offering.organization_id == organization_id).limit(1)
    )
    if has_offerings is None:
        raise InvalidInput(
            ["path", "organization_id"],
            f"Organization {organization_id} has no offerings to match schools with.",
            kind="no_offerings",
        )
    schools, needs = _schools_with_needs(session, district, district_id)
    if not schools:
        return []
    index = ranking_index.current(session)
    table = SchoolTable.from_queries(schools, needs)
    return rank_schools(
        index,
        table,
        organization_id=organization_id,
        k=k,
        equity=equity,
        max_distance_km=max_distance_km,
    )


def _schools_with_needs(
    session: Session, district: str | None, district_id: int | None
) -> tuple[list[SchoolQuery], list[tuple[Need, ...]]]:
    query = select(School)
    if district:
        query = query.where(School.district == district)
    if district_id is not None:
        query = query.where(School.district_id == district_id)
    schools = list(session.scalars(query.order_by(School.id)))
    latest = school_repo.latest_assessments(session, [s.id for s in schools])
    queries = [school_query(s, None) for s in schools]
    needs = [
        tuple(as_need(n) for n in latest[s.id].needs) if s.id in latest else () for s in schools
    ]
    return queries, needs


def offerings_by_id(session: Session, offering_ids: list[int]) -> dict[int, Offering]:
    """The ranked offerings to show; one removed since the ranking is simply absent."""
    return offering_repo.by_ids(session, offering_ids)


def school_names(session: Session, school_ids: list[int]) -> dict[int, str]:
    return school_repo.names(session, school_ids)
