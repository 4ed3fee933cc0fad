"""The audit log: one row per write, added in the writer's own transaction so a rolled-back
write leaves no event and a committed one always has its event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.models import AuditEvent
from app.repositories import audit as repo

# Organization events are shared by every district, as the directory is.
SHARED_TYPES = ("organization", "offering")


def record(
    session: Session,
    principal: Principal,
    *,
    action: str,
    resource_type: str,
    resource_id: object = None,
    district_id: int | None = None,
    fields: Iterable[str] = (),
) -> None:
    """Add an event for a write about to be committed; `fields` are names, never values."""
    session.add(
        AuditEvent(
            at=dt.datetime.now(dt.UTC),
            actor_user_id=principal.user_id,
            actor_key_id=principal.key_id,
            actor_role=principal.role,
            district_id=district_id,
            action=action,
            resource_type=resource_type,
            resource_id=None if resource_id is None else str(resource_id),
            fields=sorted(set(fields)),
            request_id=principal.request_id,
        )
    )


def page(
    *,
    session: Session,
    principal: Principal,
    resource_type: str | None,
    actor_user_id: int | None,
    since: dt.datetime | None,
    before_id: int | None,
    limit: int,
) -> list[AuditEvent]:
    """Newest first; district callers get their district's events and the shared ones."""
    return repo.events_page(
        session,
        restrict=not principal.is_admin,
        district_id=principal.district_id,
        shared_types=SHARED_TYPES,
        resource_type=resource_type,
        actor_user_id=actor_user_id,
        since=since,
        before_id=before_id,
        limit=limit,
    )
