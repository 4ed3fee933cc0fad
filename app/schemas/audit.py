from __future__ import annotations

import datetime as dt

from app.schemas.common import Out


class AuditEventOut(Out):
    id: int
    at: dt.datetime
    actor_user_id: int | None
    actor_key_id: int | None
    actor_role: str
    district_id: int | None
    action: str
    resource_type: str
    resource_id: str | None
    fields: list[str]
    request_id: str | None
