from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from app.auth.passwords import MAX_LENGTH, MIN_LENGTH
from app.schemas.common import Out, Strict

SIGN_UP_DETAIL = (
    "Log in with this email and password at POST /v1/auth/token. If the email had an account "
    "already, nothing changed and its own password still logs in."
)


class TokenOut(Out):
    """An OAuth2 bearer token (RFC 6749 §5.1), shown once."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token stops working.")
    expires_at: dt.datetime


class UserCreate(Strict):
    """Sign-up for people from community organizations; other roles are made by the operator
    (`partnermap users create`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    email: EmailStr = Field(examples=["director@eastbayscience.org"])
    password: str = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)


class SignUpOut(BaseModel):
    """The one answer to a sign-up, whether or not the email had an account already."""

    email: str = Field(examples=["director@eastbayscience.org"])
    detail: str = Field(examples=[SIGN_UP_DETAIL])


class UserOut(Out):
    id: int
    email: str
    role: str
    district_id: int | None
    created_at: dt.datetime


class MeOut(Out):
    """The caller as the permission checks see it."""

    role: str
    user_id: int | None
    email: str | None
    key_id: int | None
    district_id: int | None
    school_ids: list[int]
    organization_ids: list[int]
