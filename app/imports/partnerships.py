"""The `partnerships` CSV kind: a district's register of past and running school-organization
partnerships (template app/data/imports/templates/partnerships.csv): its columns and row checks.
Rows are written by app/services/partnership_history.py, which the Oakland demo uses too.

A row names its school (PartnerMap id, 12-digit NCES id or exact name), its organization (id or
exact name) and optionally the organization's offering (`service`, its exact title). Rows are
upserted on (source, source_ref): `external_id` when given, else school|organization|service|
term_start, so a re-import changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from app.imports.rows import Column, validate
from app.schemas.imports import PartnershipHistoryRow
from app.taxonomy import load_taxonomy

Problems = list[tuple[str, str]]

PARTNERSHIP_COLUMNS = (
    Column(
        "external_id",
        help="your id for the row; re-imports update by it (default: school, organization, "
        "service and term_start together)",
    ),
    Column(
        "school", required=True, help="PartnerMap id, 12-digit NCES id or exact name (digits: ids)"
    ),
    Column("organization", required=True, help="PartnerMap id or exact name (digits: an id)"),
    Column("service", help="exact title of one of the organization's offerings"),
    Column("category", "list", required=True, help="taxonomy code(s) addressed, ';'"),
    Column("term_start", "date", required=True, help="YYYY-MM-DD"),
    Column("term_end", "date", required=True, help="YYYY-MM-DD"),
    Column("outcome", required=True, help="completed, ended or active"),
    Column("reason", help="why it ended (for outcome ended)"),
    Column("students_served", "int"),
)


@dataclass
class PartnershipRecord:
    """A checked row, its school, organization and service still named as in the file."""

    line: int
    external_id: str
    school: str
    organization: str
    service: str | None
    values: dict[str, Any]


def partnership_record(line: int, v: dict[str, Any]) -> tuple[PartnershipRecord | None, Problems]:
    """Check a row with its schema and the rules an API write would apply."""
    model, problems = validate(PartnershipHistoryRow, {k: x for k, x in v.items() if x is not None})
    if model is None:
        return None, problems
    assert isinstance(model, PartnershipHistoryRow)
    known = load_taxonomy().by_code
    problems = [
        ("category", f"unknown category code '{code}'; see GET /v1/taxonomy")
        for code in model.category
        if code not in known
    ]
    if model.term_end < model.term_start:
        problems.append(("term_end", "term_end is before term_start"))
    if model.outcome == "ended" and not model.reason:
        problems.append(("reason", "an ended partnership needs the reason it ended"))
    if problems:
        return None, problems
    return PartnershipRecord(
        line=line,
        external_id=model.external_id or natural_key(model),
        school=model.school,
        organization=model.organization,
        service=model.service,
        values={
            "status": model.outcome,
            "term_start": model.term_start,
            "term_end": model.term_end,
            "need_categories": list(dict.fromkeys(model.category)),
            "students_served": model.students_served,
            "status_reason": model.reason,
        },
    ), []


def natural_key(row: PartnershipHistoryRow) -> str:
    """school|organization|service|term_start without case, hashed when over the column's
    200 characters, for rows without an external_id."""
    parts = (row.school, row.organization, row.service or "", row.term_start.isoformat())
    key = "|".join(parts).casefold()
    return key if len(key) <= 200 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()
