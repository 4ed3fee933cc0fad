"""HTTP for /v1/audit."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.deps import PrincipalDep, SessionDep
from app.routers.params import PageDep
from app.schemas.audit import AuditEventOut
from app.schemas.pages import Page
from app.services import audit as service

router = APIRouter(prefix="/v1/audit", tags=["audit"])
ResourceType = Literal[
    "organization",
    "offering",
    "school",
    "needs_assessment",
    "district",
    "api_key",
    "user",
    "token",
    "import_job",
    "partnership",
    "partnership_goal",
    "goal_reading",
    "agreement",
    "check_in",
    "partnership_review",
]


@router.get("", response_model=Page[AuditEventOut], summary="The audit log, newest first")
def list_events(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    resource_type: Annotated[ResourceType | None, Query()] = None,
    actor_user_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    since: Annotated[dt.datetime | None, Query(description="Events at or after (ISO 8601)")] = None,
) -> Page[AuditEventOut]:
    """District admins see their district's events and every organization and offering event
    (the directory is shared); the operator sees all. Events name the fields written, never
    their values."""
    cursor = page.cursor(near=False)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    rows = service.page(
        session=session,
        principal=principal,
        resource_type=resource_type,
        actor_user_id=actor_user_id,
        since=since,
        before_id=cursor.id if cursor else None,
        limit=page.limit + 1,
    )
    next_cursor = str(rows[page.limit - 1].id) if len(rows) > page.limit else None
    items = [AuditEventOut.model_validate(e) for e in rows[: page.limit]]
    return Page[AuditEventOut](items=items, next_cursor=next_cursor, limit=page.limit)
