"""Request and response models for MOUs, data-sharing agreements and their signatures."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from app.schemas.common import Date, Out, Strict
from app.schemas.partnerships import Party

Kind = Literal["mou", "dsa"]
Item = Annotated[str, Field(min_length=1, max_length=500)]


class AgreementCreate(Strict):
    kind: Kind
    scope: str = Field(min_length=1, max_length=10_000)
    school_responsibilities: list[Item] = Field(default_factory=list, max_length=50)
    organization_responsibilities: list[Item] = Field(default_factory=list, max_length=50)
    term_start: Date
    term_end: Date
    renewal_date: Date | None = None
    data_elements: list[Item] | None = Field(
        default=None, max_length=100, description="DSA only (required): the data shared."
    )
    purpose: str | None = Field(default=None, max_length=5000, description="DSA: required.")
    retention: str | None = Field(default=None, max_length=5000, description="DSA: required.")
    destruction_date: Date | None = Field(default=None, description="DSA: required.")


class SignatureCreate(Strict):
    party: Party | None = Field(
        default=None,
        description="The side signing; district callers must name it, others sign for "
        "their own side.",
    )
    signer_name: str = Field(min_length=1, max_length=200)
    signed_on: Date


class SignatureOut(Out):
    party: Party
    signer_name: str
    signed_on: dt.date


class AgreementOut(Out):
    id: int
    partnership_id: int
    kind: Kind
    scope: str
    school_responsibilities: list[str]
    organization_responsibilities: list[str]
    term_start: dt.date
    term_end: dt.date
    renewal_date: dt.date | None
    data_elements: list[str] | None
    purpose: str | None
    retention: str | None
    destruction_date: dt.date | None
    document_name: str | None
    document_sha256: str | None
    document_size: int | None
    signatures: list[SignatureOut]
    fully_signed: bool
