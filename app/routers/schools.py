"""HTTP for /v1/schools and their needs assessments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from app import representations as shown
from app.deps import PrincipalDep, SessionDep
from app.filters import SchoolFilters
from app.pagination import Cursor
from app.routers.params import (
    GEOJSON_RESPONSE,
    NO_NUL,
    AreaDep,
    GeoJSONDep,
    PageDep,
    page_cursor,
)
from app.schemas.common import GRADE_QUERY_PATTERN, Locale, grade_from_query
from app.schemas.pages import Page
from app.schemas.schools import (
    NeedsAssessmentCreate,
    NeedsAssessmentOut,
    SchoolCreate,
    SchoolOut,
    SchoolUpdate,
)
from app.services import schools as service

router = APIRouter(prefix="/v1/schools", tags=["schools"])
SchoolId = Annotated[int, Path(ge=1, le=2**31 - 1, description="School id")]


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=SchoolOut, summary="Add a school"
)
def create_school(
    data: SchoolCreate, session: SessionDep, principal: PrincipalDep, response: Response
):
    school = service.create(session=session, principal=principal, data=data)
    response.headers["Location"] = f"/v1/schools/{school.id}"
    return school


@router.get(
    "", response_model=Page[SchoolOut], responses=GEOJSON_RESPONSE, summary="Search schools"
)
def list_schools(
    session: SessionDep,
    area: AreaDep,
    page: PageDep,
    geojson: GeoJSONDep,
    q: Annotated[
        str | None, Query(max_length=200, pattern=NO_NUL, description="Text in name or city")
    ] = None,
    district: Annotated[str | None, Query(max_length=300, pattern=NO_NUL)] = None,
    locale: Annotated[list[Locale], Query()] = [],
    grade: Annotated[
        str | None,
        Query(
            max_length=10,
            json_schema_extra={"pattern": GRADE_QUERY_PATTERN},
            description="Serves this grade (PK, K, 1..12; KG means K)",
        ),
    ] = None,
    title_i: Annotated[bool | None, Query()] = None,
    min_need_index: Annotated[float | None, Query(ge=0, le=1)] = None,
):
    filters = SchoolFilters(
        q=q,
        district=district,
        locales=tuple(locale),
        grade=grade_from_query(grade, ["query", "grade"]),
        title_i=title_i,
        min_need_index=min_need_index,
    )
    near = area.near is not None
    rows = service.list_page(
        session=session,
        filters=filters,
        area=area,
        cursor=page.cursor(near=near),
        limit=page.limit + 1,
    )
    next_cursor = page_cursor(rows, page.limit, near=near)
    items = [
        SchoolOut.model_validate(s).model_copy(update={"distance_m": d})
        for s, d in rows[: page.limit]
    ]
    if geojson:
        return shown.geojson([shown.school_feature(s) for s in items], next_cursor=next_cursor)
    return Page[SchoolOut](items=items, next_cursor=next_cursor, limit=page.limit)


@router.get("/{school_id}", response_model=SchoolOut, summary="Get a school")
def get_school(school_id: SchoolId, session: SessionDep):
    return service.get(session=session, school_id=school_id)


@router.patch("/{school_id}", response_model=SchoolOut, summary="Change a school")
def update_school(
    school_id: SchoolId, data: SchoolUpdate, session: SessionDep, principal: PrincipalDep
):
    return service.update(session=session, principal=principal, school_id=school_id, data=data)


@router.post(
    "/{school_id}/needs-assessments",
    status_code=status.HTTP_201_CREATED,
    response_model=NeedsAssessmentOut,
    tags=["needs assessments"],
    summary="File a needs assessment",
)
def create_assessment(
    school_id: SchoolId,
    data: NeedsAssessmentCreate,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
):
    assessment = service.add_assessment(
        session=session, principal=principal, school_id=school_id, data=data
    )
    response.headers["Location"] = f"/v1/schools/{school_id}/needs-assessments/latest"
    return assessment


@router.get(
    "/{school_id}/needs-assessments",
    response_model=Page[NeedsAssessmentOut],
    tags=["needs assessments"],
    summary="A school's needs assessments, newest first",
)
def list_assessments(
    school_id: SchoolId, session: SessionDep, principal: PrincipalDep, page: PageDep
):
    rows = service.assessments_page(
        session=session,
        principal=principal,
        school_id=school_id,
        cursor=page.cursor(near=False),
        limit=page.limit + 1,
    )
    next_cursor = Cursor(id=rows[page.limit - 1].id).encode() if len(rows) > page.limit else None
    items = [NeedsAssessmentOut.model_validate(a) for a in rows[: page.limit]]
    return Page[NeedsAssessmentOut](items=items, next_cursor=next_cursor, limit=page.limit)


@router.get(
    "/{school_id}/needs-assessments/latest",
    response_model=NeedsAssessmentOut,
    tags=["needs assessments"],
    summary="A school's latest needs assessment",
)
def latest_assessment(school_id: SchoolId, session: SessionDep, principal: PrincipalDep):
    return service.latest_assessment(session=session, principal=principal, school_id=school_id)
