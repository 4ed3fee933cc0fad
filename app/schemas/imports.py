"""Import jobs: uploads through POST /v1/imports and their reports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema

from app.schemas.common import CategoryCode


def _form_bool(value: Any) -> Any:
    # A form field is text: only "true" and "false" spell a JSON boolean ("0", "on", "TRUE"
    # do not), as the published schema says.
    if isinstance(value, str):
        if value in ("true", "false"):
            return value == "true"
        raise ValueError("must be true or false")
    if isinstance(value, bool):
        return value
    raise ValueError("must be true or false")


FormBool = Annotated[bool, BeforeValidator(_form_bool), WithJsonSchema({"type": "boolean"})]
ImportKind = Literal["organizations", "offerings", "schools", "partnerships"]
JobStatus = Literal["queued", "running", "imported", "checked", "failed"]


class ImportIssueOut(BaseModel):
    severity: Literal["error", "warning"]
    problem: str
    row: int | None = Field(
        default=None, description="Row in the file as a spreadsheet numbers it (header = 1)."
    )
    field: str | None = Field(default=None, description="The column at fault.")
    value: str | None = Field(
        default=None, description="The offending cell as read ('' when it is empty)."
    )


class ProblemExample(BaseModel):
    row: int | None = None
    value: str | None = Field(default=None, description="The row's offending cell.")


class ProblemTally(BaseModel):
    """One kind of problem: how many rows have it and the first few of them."""

    severity: Literal["error", "warning"]
    field: str | None
    problem: str = Field(description="The problem, with the cell's own value shown as '…'.")
    count: int
    examples: list[ProblemExample]


class ImportCountsOut(BaseModel):
    added: int
    updated: int
    unchanged: int
    skipped: int = Field(description="Invalid records left out (see issues).")


class ImportJobOut(BaseModel):
    id: int
    kind: ImportKind
    source: str
    filename: str | None
    dry_run: bool
    skip_invalid: bool
    status: JobStatus = Field(
        description="queued, running, then imported (written), checked (a dry run without "
        "errors; nothing written) or failed (nothing written; see detail and issues)."
    )
    detail: str | None = None
    rows: int | None = Field(default=None, description="Records read from the file.")
    counts: dict[str, ImportCountsOut] = Field(
        default_factory=dict,
        description="Per kind of record; for a dry run or a failed import, what would have "
        "been written.",
    )
    errors: int = 0
    warnings: int = 0
    by_problem: list[ProblemTally] = Field(
        default_factory=list,
        description="Each kind of problem once, errors first then the most frequent, with "
        "its count and up to three example rows.",
    )
    issues: list[ImportIssueOut] = Field(
        default_factory=list, description="Each problem with its row and field (first 1,000)."
    )
    issues_truncated: bool = False
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class PartnershipHistoryRow(BaseModel):
    """One row of the partnerships template (app/data/imports/templates/partnerships.csv)."""

    external_id: str | None = Field(default=None, max_length=200)
    school: str = Field(min_length=1, max_length=300)
    organization: str = Field(min_length=1, max_length=300)
    service: str | None = Field(default=None, max_length=300)
    category: list[CategoryCode] = Field(min_length=1, max_length=20)
    term_start: dt.date
    term_end: dt.date
    outcome: Literal["completed", "ended", "active"]
    reason: str | None = Field(default=None, max_length=2000)
    students_served: int | None = Field(default=None, ge=0, le=1_000_000)
