"""HTTP for rankings: partners for a school (filed or ad-hoc needs), schools for a partner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.orm import Session

from app.deps import PrincipalDep, RankingIndexDep, SessionDep, SettingsDep
from app.domain_errors import InvalidInput
from app.models import School
from app.routers.params import NO_NUL, RankingOfferingsDep
from app.schemas.matches import (
    Contribution,
    MatchOffering,
    MatchRequest,
    NeedMet,
    OfferingMatch,
    OfferingMatches,
    SchoolMatch,
    SchoolMatches,
)
from app.services import matches as service
from app.services import schools as school_service
from app.services.validation import check_categories, check_grades
from matching import Filters, RankedOffering, RankedSchool, RankingConfig
from matching.need_index import populations_from_indicators
from matching.tables import SchoolQuery

router = APIRouter(tags=["matches"])
MAX_DEPTH = 500  # rankings are computed top-k; pages reach this deep at most
RANK_CURSOR = r"^[0-9]{1,3}$"
MODEL_VERSION = RankingConfig().version

Limit = Annotated[int, Query(ge=1, le=100, description="Results per page")]
RankCursor = Annotated[
    str | None,
    Query(pattern=RANK_CURSOR, description="`next_cursor` of the previous page (a rank offset)"),
]
EquityParam = Annotated[
    float | None,
    Query(ge=0, le=1, description="Equity strength, 0 = pure fit; default: the district's"),
]


def _window(cursor: str | None, limit: int) -> tuple[int, int]:
    offset = int(cursor) if cursor else 0
    return offset, min(offset + limit + 1, MAX_DEPTH + 1)


def _next(offset: int, limit: int, count: int) -> str | None:
    end = offset + limit
    return str(end) if count > end and end < MAX_DEPTH else None


def _contributions(result: RankedOffering | RankedSchool) -> list[Contribution]:
    return [
        Contribution(component=c.component, points=c.points, detail=c.detail)
        for c in result.contributions
    ]


def _needs_met(result: RankedOffering | RankedSchool) -> list[NeedMet]:
    return [
        NeedMet(
            category=n.category,
            name=n.name,
            priority=n.priority,
            credit=n.credit,
            via=n.via,
            primary=n.primary,
        )
        for n in result.needs_met
    ]


def _offering_matches(session: Session, ranked: list[RankedOffering]) -> list[OfferingMatch]:
    ids = [r.offering_id for r in ranked]
    offerings = service.offerings_by_id(session, ids)
    items = []
    for r in ranked:
        o = offerings.get(r.offering_id)
        if o is None:  # removed between ranking and this read
            continue
        items.append(
            OfferingMatch(
                rank=r.rank,
                score=r.score,
                distance_km=r.distance_km,
                reason=r.reason,
                contributions=_contributions(r),
                needs_met=_needs_met(r),
                warnings=list(r.warnings),
                offering=MatchOffering(
                    id=o.id,
                    title=o.title,
                    organization_id=o.organization_id,
                    organization_name=o.organization.name,
                    verified=o.organization.verification == "verified",
                    categories=o.categories,
                    cost=o.cost,
                    delivery=o.delivery,
                ),
            )
        )
    return items


@dataclass(frozen=True)
class Reach:
    """How far a ranked offering may be, and whether full ones are dropped."""

    max_distance_km: float | None
    exclude_full: bool


# Its own dependency so these two stay after the offering filters in the published order
# (FastAPI lists a route's own parameters before its dependencies').
def reach_params(
    max_distance_km: Annotated[float | None, Query(gt=0, le=1000)] = None,
    exclude_full: bool = False,
) -> Reach:
    return Reach(max_distance_km=max_distance_km, exclude_full=exclude_full)


def ranking_filters(
    offerings: RankingOfferingsDep, reach: Annotated[Reach, Depends(reach_params)]
) -> Filters:
    """A school ranking's hard filters: the offering filters, then how far and whether full."""
    g = offerings.grade
    return Filters(
        grades=(g, g) if g is not None else None,
        schedule=frozenset(offerings.schedule) or None,
        delivery=frozenset(offerings.delivery) or None,
        languages=frozenset(offerings.languages) or None,
        categories=frozenset(offerings.categories) or None,
        free_only=offerings.free,
        verified_only=offerings.verified_only,
        max_distance_km=reach.max_distance_km,
        exclude_full=reach.exclude_full,
    )


@router.get(
    "/v1/schools/{school_id}/matches",
    response_model=OfferingMatches,
    summary="Partners ranked for a school's latest needs",
)
def school_matches(
    school_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
    ranking_index: RankingIndexDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    filters: Annotated[Filters, Depends(ranking_filters)],
    limit: Limit = 20,
    cursor: RankCursor = None,
    equity: EquityParam = None,
) -> OfferingMatches:
    """Ranks every offering against the school's latest needs assessment. Each result
    explains itself: the points each component adds (they sum to `score`), the needs it meets
    and a one-line reason. Filters given here are hard; everything else is scored softly."""
    offset, k = _window(cursor, limit)
    ranked, assessment, strength = service.for_school(
        session=session,
        ranking_index=ranking_index,
        principal=principal,
        settings=settings,
        school_id=school_id,
        k=k,
        equity=equity,
        filters=filters,
    )
    page = ranked[offset : offset + limit]
    return OfferingMatches(
        items=_offering_matches(session, page),
        next_cursor=_next(offset, limit, len(ranked)),
        limit=limit,
        equity=strength,
        model_version=MODEL_VERSION,
        needs_assessment_id=assessment.id,
    )


@router.post(
    "/v1/matches",
    response_model=OfferingMatches,
    summary="Partners ranked for needs sent in the request",
    responses={404: {"description": "`school_id` names no school"}},
)
def ad_hoc_matches(
    body: MatchRequest,
    session: SessionDep,
    ranking_index: RankingIndexDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> OfferingMatches:
    """For portals and principals without a filed assessment: needs plus a school id or a
    location. The filters in the body are hard; everything else is scored softly. Only the
    needs sent are ranked (a school id lends its place and indicators, never its filed
    needs), and callers who do not see unverified organizations get verified ones only."""
    f = body.filters
    check_categories(f.categories, ["body", "filters", "categories"])
    check_grades(f.grade_low, f.grade_high, ["body", "filters"])
    filters = Filters(
        grades=(f.grade_low, f.grade_high)
        if f.grade_low is not None and f.grade_high is not None
        else None,
        schedule=frozenset(f.schedule) or None,
        delivery=frozenset(f.delivery) or None,
        languages=frozenset(f.languages) or None,
        categories=frozenset(f.categories) or None,
        free_only=f.free_only,
        verified_only=f.verified_only,
        max_distance_km=f.max_distance_km,
        exclude_full=f.exclude_full,
    )
    district = None
    if body.school_id is not None:
        school: School = school_service.get(session=session, school_id=body.school_id)
        query = service.school_query(school, None)
        district = school.district
    else:
        loc = body.location
        assert loc is not None
        if loc.grade_low > loc.grade_high:
            raise InvalidInput(["body", "location", "grade_high"], "grade_high is below grade_low.")
        query = SchoolQuery(
            lat=loc.lat,
            lon=loc.lon,
            locale=loc.locale,
            grade_low=loc.grade_low,
            grade_high=loc.grade_high,
            need_index=loc.need_index,
            languages=frozenset(loc.languages),
            populations=populations_from_indicators(locale=loc.locale),
        )
    strength = service.equity_for(settings, district, body.equity)
    ranked = service.ad_hoc(
        session=session,
        ranking_index=ranking_index,
        principal=principal,
        query=query,
        needs=body.needs,
        k=body.limit,
        equity=strength,
        filters=filters,
    )
    return OfferingMatches(
        items=_offering_matches(session, ranked),
        next_cursor=None,
        limit=body.limit,
        equity=strength,
        model_version=MODEL_VERSION,
    )


@router.get(
    "/v1/organizations/{organization_id}/school-matches",
    response_model=SchoolMatches,
    tags=["organizations"],
    summary="Schools that need this organization most",
)
def organization_school_matches(
    organization_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
    ranking_index: RankingIndexDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    limit: Limit = 20,
    cursor: RankCursor = None,
    equity: EquityParam = None,
    district: Annotated[str | None, Query(max_length=300, pattern=NO_NUL)] = None,
    max_distance_km: Annotated[float | None, Query(gt=0, le=1000)] = None,
) -> SchoolMatches:
    """Schools whose latest needs this organization's offerings meet best; with similar fit,
    higher-need schools rank first (`equity` sets how strongly)."""
    strength = service.equity_for(settings, district, equity)
    offset, k = _window(cursor, limit)
    ranked = service.schools_for_organization(
        session=session,
        ranking_index=ranking_index,
        principal=principal,
        organization_id=organization_id,
        k=k,
        equity=strength,
        district=district,
        max_distance_km=max_distance_km,
    )
    page = ranked[offset : offset + limit]
    names = service.school_names(session, [r.school_id for r in page])
    items = [
        SchoolMatch(
            rank=r.rank,
            score=r.score,
            school_id=r.school_id,
            school_name=names.get(r.school_id, ""),
            offering_id=r.offering_id,
            need_index=r.need_index,
            distance_km=r.distance_km,
            reason=r.reason,
            contributions=_contributions(r),
            needs_met=_needs_met(r),
            warnings=list(r.warnings),
        )
        for r in page
    ]
    return SchoolMatches(
        items=items,
        next_cursor=_next(offset, limit, len(ranked)),
        limit=limit,
        equity=strength,
        model_version=MODEL_VERSION,
    )
