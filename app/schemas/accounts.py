from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StrictBool

from app.auth.passwords import MAX_LENGTH, MIN_LENGTH
from app.auth.principal import USER_ROLES
from app.schemas.common import Out, Strict

UserRole = Literal[*USER_ROLES]
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
    """An account as the operator and district admins see it (never its password)."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "email": "principal@fruitvale.example",
                    "role": "school_staff",
                    "district_id": 1,
                    "school_ids": [13],
                    "organization_ids": [],
                    "active": False,
                    "created_at": "2026-09-01T16:20:00Z",
                }
            ]
        },
    )

    id: int
    email: str
    role: UserRole
    district_id: int | None
    school_ids: list[int] = Field(description="Schools a school staff member acts for.")
    organization_ids: list[int] = Field(description="Organizations a member acts for.")
    active: bool = Field(
        description="False once disabled: the user cannot log in and the tokens and API keys "
        "they held were revoked."
    )
    created_at: dt.datetime


class UserPatch(Strict):
    """Disable a user (`{"active": false}`) or let them log in again (`{"active": true}`)."""

    active: StrictBool = Field(
        description="false disables the user: every log-in token they hold and every API key "
        "they made are revoked at once, on every worker, and they cannot log in. true lets "
        "them log in again; revoked tokens and keys stay revoked. No one disables themselves."
    )


class MeOut(Out):
    """The caller as the permission checks see it."""

    role: str
    user_id: int | None
    email: str | None
    key_id: int | None
    district_id: int | None
    school_ids: list[int]
    organization_ids: list[int]
