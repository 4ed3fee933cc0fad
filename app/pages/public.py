"""Public pages: search partners, an organization, an offering, the taxonomy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from app.deps import RankingIndexDep, SessionDep, SettingsDep
from app.filters import Area, Near, OfferingFilters
from app.pages.search import Point, parse, place_of
from app.pages.session import PagePrincipalDep
from app.pages.templating import render
from app.schemas.matches import AdHocLocation, MatchFilters, MatchRequest
from app.schemas.schools import NeedIn
from app.services import matches, offerings, organizations
from app.taxonomy import load_taxonomy

router = APIRouter(include_in_schema=False)
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SEARCH_RADIUS_M = 50_000
RESULTS = 20


@router.get("/", response_class=HTMLResponse)
def search_page(
    request: Request,
    session: SessionDep,
    ranking_index: RankingIndexDep,
    settings: SettingsDep,
    principal: PagePrincipalDep,
) -> HTMLResponse:
    """Partners by need, grade, place and text: ranked with reasons when a need and a place
    are given, else the offerings that match."""
    form, errors = parse(dict(request.query_params))
    context: dict[str, Any] = {"form": form, "errors": errors, "results": None, "point": None}
    if form is not None:
        point, place_error = place_of(form)
        if place_error:
            errors["place"] = place_error
        else:
            context["point"] = point
            searched = any(v is not None for v in form.model_dump().values())
            if searched and form.need and point:
                context["results"] = ranked(
                    session, ranking_index, settings, principal, form, point
                )
            elif searched:
                context["results"] = listed(session, principal, form, point)
    context["taxonomy"] = load_taxonomy()
    return render(request, "search.html", context, status_code=422 if errors else 200)


def ranked(session, ranking_index, settings, principal, form, point: Point) -> list[dict]:  # type: ignore[no-untyped-def]
    grade = {} if form.grade is None else {"grade_low": form.grade, "grade_high": form.grade}
    request = MatchRequest.model_construct(
        school_id=None,
        location=AdHocLocation.model_construct(
            lat=point.lat,
            lon=point.lon,
            locale=None,
            need_index=None,
            languages=[],
            **({"grade_low": -1, "grade_high": 12} | grade),
        ),
        needs=[NeedIn.model_construct(category=form.need, priority=1, **grade)],
        filters=MatchFilters.model_construct(categories=[], **grade),
        limit=RESULTS if not form.q else 100,
        equity=None,
    )
    ranking = matches.ad_hoc(
        session=session,
        ranking_index=ranking_index,
        principal=principal,
        settings=settings,
        request=request,
    )
    places = organizations.first_places(
        session=session, organization_ids=[brief.organization_id for _, brief in ranking.results]
    )
    text = (form.q or "").casefold()
    return [
        {
            "offering_id": brief.id,
            "title": brief.title,
            "organization_id": brief.organization_id,
            "organization_name": brief.organization_name,
            "verified": brief.verified,
            "categories": brief.categories,
            "reason": ranked.reason,
            "distance_km": ranked.distance_km,
            "place": places.get(brief.organization_id),
        }
        for ranked, brief in ranking.results
        if text in brief.title.casefold() or text in brief.organization_name.casefold()
    ][:RESULTS]


def listed(session, principal, form, point: Point | None) -> list[dict]:  # type: ignore[no-untyped-def]
    area = Area(near=Near(point.lat, point.lon, SEARCH_RADIUS_M)) if point else Area()
    rows = offerings.list_page(
        session=session,
        principal=principal,
        filters=OfferingFilters(
            q=form.q, categories=(form.need,) if form.need else (), grade=form.grade
        ),
        area=area,
        cursor=None,
        limit=RESULTS,
    )
    return [
        {
            "offering_id": offering.id,
            "title": offering.title,
            "organization_id": offering.organization_id,
            "organization_name": offering.organization.name,
            "verified": offering.organization.verification == "verified",
            "categories": offering.categories,
            "reason": None,
            "distance_km": None if distance is None else distance / 1000,
            "place": _first_place(offering.organization),
        }
        for offering, distance in rows
    ]


def _first_place(organization) -> dict | None:  # type: ignore[no-untyped-def]
    location = organization.locations[0] if organization.locations else None
    return None if location is None else {"lat": location.lat, "lon": location.lon}


@router.get("/organizations/{organization_id}", response_class=HTMLResponse)
def organization_page(
    request: Request, organization_id: RecordId, session: SessionDep, principal: PagePrincipalDep
) -> HTMLResponse:
    """An organization as the public sees it: what it offers and where."""
    organization = organizations.visible(
        session=session, principal=principal, organization_id=organization_id
    )
    return render(
        request,
        "organization.html",
        {"organization": organization, "taxonomy": load_taxonomy()},
    )


@router.get("/offerings/{offering_id}", response_class=HTMLResponse)
def offering_page(
    request: Request, offering_id: RecordId, session: SessionDep, principal: PagePrincipalDep
) -> HTMLResponse:
    """One offering: grades, schedule, languages, cost, capacity, its organization."""
    offering = offerings.visible(session=session, principal=principal, offering_id=offering_id)
    return render(request, "offering.html", {"offering": offering, "taxonomy": load_taxonomy()})


@router.get("/taxonomy", response_class=HTMLResponse)
def taxonomy_page(request: Request, principal: PagePrincipalDep) -> HTMLResponse:
    """The categories by branch, each linking to a search for it."""
    taxonomy = load_taxonomy()
    branches = [c for c in taxonomy.categories if c.parent is None]
    children = {b.code: [c for c in taxonomy.categories if c.parent == b.code] for b in branches}
    return render(request, "taxonomy.html", {"branches": branches, "children": children})
