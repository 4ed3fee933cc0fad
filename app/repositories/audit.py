"""SQL for the audit log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.models import AuditEvent


def events_page(
    session: Session,
    *,
    restrict: bool,
    district_id: int | None,
    shared_types: Sequence[str],
    resource_type: str | None,
    actor_user_id: int | None,
    since: dt.datetime | None,
    before_id: int | None,
    limit: int,
) -> list[AuditEvent]:
    """Events newest first; restricted: the district's own and the shared types' only."""
    query = select(AuditEvent)
    if restrict:
        query = query.where(
            or_(
                AuditEvent.district_id == district_id,
                AuditEvent.resource_type.in_(shared_types),
            )
        )
    if resource_type:
        query = query.where(AuditEvent.resource_type == resource_type)
    if actor_user_id is not None:
        query = query.where(AuditEvent.actor_user_id == actor_user_id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))
