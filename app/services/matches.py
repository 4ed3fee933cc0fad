"""Use cases for ranking: partners for a school (filed or ad-hoc needs), schools for an
organization. Each returns a whole answer: one page of results with what they show, the
equity strength used and the model version."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Row
from sqlalchemy.orm import Session

from app.auth.principal import ADMIN, ORG_MEMBER, Principal
from app.domain_errors import Forbidden, InvalidInput, NotFound
from app.models import Need as NeedRow
from app.models import School
from app.repositories import districts as district_repo
from app.repositories import offerings as offering_repo
from app.repositories import schools as school_repo
from app.repositories.offerings import OfferingBrief
from app.schemas.matches import AdHocLocation, Grouping, MatchFilters, MatchRequest
from app.schemas.schools import NeedIn
from app.services import organizations
from app.services import schools as school_service
from app.services.catalog_index import CatalogIndex
from app.services.result_cache import ResultCache
from app.services.serving_cache import ServingCache
from app.services.validation import check_categories, check_category, check_grades
from app.settings import Settings
from matching import (
    Filters,
    Need,
    RankedOffering,
    RankedSchool,
    SchoolQuery,
    SchoolTable,
    rank_offerings,
    rank_organizations,
    rank_schools,
)
from matching.need_index import populations_from_indicators

MAX_DEPTH = 500  # rankings are computed top-k; pages reach this deep at most
T = TypeVar("T")


@dataclass(frozen=True)
class OfferingRanking:
    """A page of offerings ranked for a school, each with the offering as results show it."""

    results: list[tuple[RankedOffering, OfferingBrief]]
    next_offset: int | None
    equity: float
    model_version: str
    needs_assessment_id: int | None = None
    group: Grouping = "offering"  # or "organization": results are organizations' best offerings
    titles: dict[int, str] = field(default_factory=dict)  # of the nested other offerings


@dataclass(frozen=True)
class SchoolRanking:
    """A page of schools ranked for an organization, each with the school's name."""

    results: list[tuple[RankedSchool, str]]
    next_offset: int | None
    equity: float
    model_version: str


def equity_for(
    session: Session,
    settings: Settings,
    requested: float | None,
    *,
    district_id: int | None = None,
    district_name: str | None = None,
) -> float:
    """The one resolution of equity: the request's, else the district's own default (by id,
    else by name), else the service default (Settings.ranking)."""
    if requested is not None:
        return requested
    own = district_repo.ranking_equity(session, district_id=district_id, name=district_name)
    return settings.ranking.equity if own is None else own


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
        location_estimated=school.location_precision != "exact",
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


def ranking_filters(principal: Principal, f: MatchFilters) -> Filters:
    """The request's hard filters for the ranker; callers who do not see unverified
    organizations get rankings of verified ones only."""
    grades = None
    if f.grade_low is not None and f.grade_high is not None:
        grades = (f.grade_low, f.grade_high)
    filters = Filters(
        grades=grades,
        schedule=frozenset(f.schedule) or None,
        delivery=frozenset(f.delivery) or None,
        languages=frozenset(f.languages) or None,
        categories=frozenset(f.categories) or None,
        free_only=f.free_only,
        verified_only=f.verified_only,
        max_distance_km=f.max_distance_km,
        exclude_full=f.exclude_full,
    )
    if principal.sees_unverified or filters.verified_only:
        return filters
    return dataclasses.replace(filters, verified_only=True)


@dataclass(frozen=True)
class RankedSchoolNeeds:
    """What ranking for a filed school reads of the database, kept by a worker between writes:
    the school as a query, its district's equity default and its latest assessment."""

    query: SchoolQuery
    district_id: int | None
    district_equity: float | None
    assessment_id: int | None
    needs: tuple[Need, ...]


def school_needs(session: Session, school_id: int) -> RankedSchoolNeeds:
    """The school (404 if none), its district's equity default and its latest needs."""
    school = school_service.get(session=session, school_id=school_id)
    assessment = school_repo.latest_assessment(session, school_id)
    return RankedSchoolNeeds(
        query=school_query(school, None),
        district_id=school.district_id,
        district_equity=district_repo.ranking_equity(session, district_id=school.district_id),
        assessment_id=None if assessment is None else assessment.id,
        needs=() if assessment is None else tuple(as_need(n) for n in assessment.needs),
    )


def _same(ranking: OfferingRanking) -> OfferingRanking:
    return ranking


def for_school(
    *,
    session: Session,
    ranking_index: CatalogIndex,
    principal: Principal,
    settings: Settings,
    school_id: int,
    offset: int,
    limit: int,
    equity: float | None,
    filters: MatchFilters,
    group: Grouping = "offering",
    cache: ServingCache | None = None,
    results: ResultCache | None = None,
    render: Callable[[OfferingRanking], T] = _same,  # type: ignore[assignment]
) -> T:
    """A page of offerings (or organizations, group="organization") ranked against the
    school's latest needs assessment, with the equity strength used (the request's, else the
    school's district default), as render() makes it. With a cache, the school and its needs
    are read again only after a write to schools, assessments or districts (on any worker) or
    a few seconds; with `results`, the rendered page is kept for the same question while the
    index, the school's needs and the day are unchanged."""
    if cache is None:
        filed = school_needs(session, school_id)
    else:
        filed = cache.get(session, "schools", school_id, lambda: school_needs(session, school_id))
    if not principal.reads_school(school_id, filed.district_id):
        raise Forbidden(f"The needs of school {school_id} are private to it and its district.")
    if equity is not None:
        strength = equity
    elif filed.district_equity is not None:
        strength = filed.district_equity
    else:
        strength = settings.ranking.equity
    if filed.assessment_id is None:
        raise NotFound(
            f"School {school_id} has no needs assessment to rank against; file one with "
            f"POST /v1/schools/{school_id}/needs-assessments or send needs to POST /v1/matches."
        )
    index = ranking_index.current(session)
    hard = ranking_filters(principal, filters)

    def compute() -> T:
        query = filed.query
        ranked = _ranker(group, shown=range(offset, offset + limit))(
            index,
            dataclasses.replace(query, covered_by=ranking_index.covering(query.lat, query.lon)),
            list(filed.needs),
            k=_depth(offset, limit),
            equity=strength,
            filters=hard,
        )
        page = ranked[offset : offset + limit]
        return render(
            OfferingRanking(
                results=_shown(ranking_index, page),
                next_offset=_next_offset(offset, limit, len(ranked)),
                equity=strength,
                model_version=settings.ranking.version,
                needs_assessment_id=filed.assessment_id,
                group=group,
                titles=_other_titles(ranking_index, page),
            )
        )

    if results is None:
        return compute()
    # Read before ranking: a catch-up by another thread meanwhile can only make the kept
    # answer newer than its version says (missed next time), never older.
    valid_for = (ranking_index.version, filed, dt.date.today())
    key = (school_id, offset, limit, strength, hard, group, settings.ranking.version)
    return results.get(key, valid_for, compute)


def _ranker(group: Grouping, shown: range | None = None) -> Callable[..., list[RankedOffering]]:
    """rank_offerings, explaining only the positions shown (None = all), or
    rank_organizations (every result explained) for group="organization"."""
    if group == "organization":
        return rank_organizations
    return rank_offerings if shown is None else functools.partial(rank_offerings, explained=shown)


def _other_titles(ranking_index: CatalogIndex, ranked: Sequence[RankedOffering]) -> dict[int, str]:
    """Titles of the offerings nested under each organization's best (group=organization),
    from beside the index that ranked them, as the results' own offerings are."""
    ids = [other.offering_id for r in ranked for other in r.others]
    if not ids:
        return {}
    return {i: brief.title for i, brief in ranking_index.shown(ids).items()}


def ad_hoc(
    *,
    session: Session,
    ranking_index: CatalogIndex,
    principal: Principal,
    settings: Settings,
    request: MatchRequest,
) -> OfferingRanking:
    """Offerings ranked for the needs sent, at a filed school's place or an ad-hoc location
    (a school id lends its place and indicators, never its filed needs)."""
    f = request.filters
    check_categories(f.categories, ["body", "filters", "categories"])
    check_grades(f.grade_low, f.grade_high, ["body", "filters"])
    if request.school_id is not None:
        school = school_service.get(session=session, school_id=request.school_id)
        query = school_query(school, None)
        strength = equity_for(session, settings, request.equity, district_id=school.district_id)
    else:
        assert request.location is not None
        query = _location_query(request.location)
        strength = equity_for(session, settings, request.equity)
    # Checked before any Need is built: Need refuses a reversed range by raising, which a
    # client's typo must never turn into a 500.
    for n, need in enumerate(request.needs):
        check_category(need.category, ["body", "needs", n, "category"])
        check_grades(need.grade_low, need.grade_high, ["body", "needs", n])
    index = ranking_index.current(session)
    ranked = _ranker(request.group)(
        index,
        dataclasses.replace(query, covered_by=ranking_index.covering(query.lat, query.lon)),
        [as_need(n) for n in request.needs],
        k=request.limit,
        equity=strength,
        filters=ranking_filters(principal, f),
    )
    return OfferingRanking(
        results=_shown(ranking_index, ranked),
        next_offset=None,
        equity=strength,
        model_version=settings.ranking.version,
        group=request.group,
        titles=_other_titles(ranking_index, ranked),
    )


def _location_query(loc: AdHocLocation) -> SchoolQuery:
    if loc.grade_low > loc.grade_high:
        raise InvalidInput(["body", "location", "grade_high"], "grade_high is below grade_low.")
    return SchoolQuery(
        lat=loc.lat,
        lon=loc.lon,
        locale=loc.locale,
        grade_low=loc.grade_low,
        grade_high=loc.grade_high,
        need_index=loc.need_index,
        languages=frozenset(loc.languages),
        populations=populations_from_indicators(locale=loc.locale),
    )


def schools_for_organization(
    *,
    session: Session,
    ranking_index: CatalogIndex,
    principal: Principal,
    settings: Settings,
    organization_id: int,
    offset: int,
    limit: int,
    equity: float | None,
    district: str | None,
    max_distance_km: float | None,
) -> SchoolRanking:
    """Schools where the organization's offerings are most needed, equity-weighted. The
    results reveal schools' needs: members get them for their own verified organization,
    districts for their own schools."""
    strength = equity_for(session, settings, equity, district_name=district)
    org = organizations.visible(
        session=session, principal=principal, organization_id=organization_id
    )
    if principal.role == ORG_MEMBER:
        if not principal.member_of(org.id):
            raise Forbidden(f"Only members of organization {org.id} may see its school matches.")
        if org.verification != "verified":
            raise Forbidden("School matches open to an organization once a district verifies it.")
    district_id = None if principal.role in (ADMIN, ORG_MEMBER) else principal.district_id
    if not offering_repo.any_of_organization(session, organization_id):
        raise InvalidInput(
            ["path", "organization_id"],
            f"Organization {organization_id} has no offerings to match schools with.",
            kind="no_offerings",
        )
    schools = school_repo.in_district(session, district, district_id)
    ranked: list[RankedSchool] = []
    if schools:
        latest = school_repo.latest_assessments(session, [s.id for s in schools])
        needs = [
            tuple(as_need(n) for n in latest[s.id].needs) if s.id in latest else () for s in schools
        ]
        ranked = rank_schools(
            ranking_index.current(session),
            SchoolTable.from_queries([school_query(s, None) for s in schools], needs),
            organization_id=organization_id,
            k=_depth(offset, limit),
            equity=strength,
            max_distance_km=max_distance_km,
        )
    page = ranked[offset : offset + limit]
    names = school_repo.names(session, [r.school_id for r in page])
    return SchoolRanking(
        results=[(r, names.get(r.school_id, "")) for r in page],
        next_offset=_next_offset(offset, limit, len(ranked)),
        equity=strength,
        model_version=settings.ranking.version,
    )


def _depth(offset: int, limit: int) -> int:
    """How many to rank for this page, one more to know whether another follows."""
    return min(offset + limit + 1, MAX_DEPTH + 1)


def _next_offset(offset: int, limit: int, count: int) -> int | None:
    end = offset + limit
    return end if count > end and end < MAX_DEPTH else None


def _shown(
    ranking_index: CatalogIndex, ranked: Sequence[RankedOffering]
) -> list[tuple[RankedOffering, OfferingBrief]]:
    """The ranked offerings with what results show, from beside the index that ranked them."""
    briefs = ranking_index.shown([r.offering_id for r in ranked])
    return [(r, briefs[r.offering_id]) for r in ranked if r.offering_id in briefs]
