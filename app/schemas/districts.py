from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from app.schemas.common import DisplayName, Out, Strict


class DistrictCreate(Strict):
    name: DisplayName = Field(
        min_length=1, max_length=300, examples=["Oakland Unified School District"]
    )
    slug: str | None = Field(
        default=None, min_length=1, max_length=100, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$"
    )
    nces_lea_id: str | None = Field(
        default=None, pattern=r"^\d{7}$", description="7-digit NCES district (LEA) id"
    )


class DistrictOut(Out):
    id: int
    name: str
    slug: str
    nces_lea_id: str | None
    created_at: dt.datetime


class ApiKeyCreate(Strict):
    name: str = Field(min_length=1, max_length=200, examples=["District portal"])
    scope: Literal["read", "read_write"] = Field(
        description="`read`: what the district's admins can read; `read_write`: also change "
        "the district's schools and needs assessments."
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Browser origins the key may be used from (`https://portal.example.org`); "
        "requests from other origins are refused. Empty: server-to-server use only.",
        examples=[["https://portal.example.org"]],
    )


class ApiKeyOut(Out):
    id: int
    name: str
    prefix: str = Field(description="The key's public part (`pmk_<prefix>_…`).")
    district_id: int
    scope: str
    allowed_origins: list[str]
    created_at: dt.datetime
    last_used_at: dt.datetime | None = Field(description="Updated at most once a minute.")
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(
        description="The key itself. Shown only in this response: store it now; PartnerMap "
        "keeps only a hash. Send it as `X-API-Key`."
    )
