"""HTTP for /v1/districts and their portals' API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from app.deps import PrincipalDep, SessionDep
from app.routers.params import PageDep
from app.schemas.districts import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    DistrictCreate,
    DistrictOut,
)
from app.schemas.pages import Page
from app.services import api_keys
from app.services import districts as service

router = APIRouter(prefix="/v1/districts", tags=["districts"])
DistrictId = Annotated[int, Path(ge=1, le=2**31 - 1, description="District id")]
KeyId = Annotated[int, Path(ge=1, le=2**31 - 1, description="API key id")]


@router.get("", response_model=Page[DistrictOut], summary="Districts")
def list_districts(session: SessionDep, page: PageDep) -> Page[DistrictOut]:
    cursor = page.cursor(near=False)
    rows = service.list_page(
        session=session, after_id=cursor.id if cursor else None, limit=page.limit + 1
    )
    next_cursor = str(rows[page.limit - 1].id) if len(rows) > page.limit else None
    items = [DistrictOut.model_validate(d) for d in rows[: page.limit]]
    return Page[DistrictOut](items=items, next_cursor=next_cursor, limit=page.limit)


@router.get("/{district_id}", response_model=DistrictOut, summary="A district")
def get_district(district_id: DistrictId, session: SessionDep) -> DistrictOut:
    return DistrictOut.model_validate(service.get(session=session, district_id=district_id))


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=DistrictOut, summary="Add a district"
)
def create_district(
    data: DistrictCreate, session: SessionDep, principal: PrincipalDep, response: Response
) -> DistrictOut:
    district = service.create(
        session=session,
        principal=principal,
        name=data.name,
        slug=data.slug,
        nces_lea_id=data.nces_lea_id,
    )
    response.headers["Location"] = f"/v1/districts/{district.id}"
    return DistrictOut.model_validate(district)


@router.post(
    "/{district_id}/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    summary="Make an API key for the district's portal (the key is shown once)",
)
def create_key(
    district_id: DistrictId, data: ApiKeyCreate, session: SessionDep, principal: PrincipalDep
) -> ApiKeyCreated:
    key, plaintext = api_keys.create(
        session=session,
        principal=principal,
        district_id=district_id,
        name=data.name,
        scope=data.scope,
        allowed_origins=data.allowed_origins,
    )
    return ApiKeyCreated.model_validate(
        {**ApiKeyOut.model_validate(key).model_dump(), "key": plaintext}
    )


@router.get(
    "/{district_id}/api-keys",
    response_model=list[ApiKeyOut],
    summary="The district's API keys (never the keys themselves)",
)
def list_keys(district_id: DistrictId, session: SessionDep, principal: PrincipalDep):
    keys = api_keys.list_for(session=session, principal=principal, district_id=district_id)
    return [ApiKeyOut.model_validate(k) for k in keys]


@router.delete(
    "/{district_id}/api-keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API key (at once, in every worker)",
)
def revoke_key(
    district_id: DistrictId, key_id: KeyId, session: SessionDep, principal: PrincipalDep
) -> Response:
    api_keys.revoke(session=session, principal=principal, district_id=district_id, key_id=key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
