"""Field types shared by the resource schemas."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
)

from app.domain_errors import InvalidInput
from app.taxonomy import load_taxonomy
from matching.vocab import COST_KINDS, DELIVERIES, LOCALES, POPULATIONS, SCHEDULES

# Grades are written PK, K, 1..12 everywhere; KG and TK are read as K, and the stored
# integers (-1 pre-K, 0 kindergarten) are still read for clients written before the labels.
GRADE_LABELS = {"PK": -1, "TK": 0, "K": 0, "KG": 0}
GRADE_WORDS = "a grade: PK, K (KG and TK mean K) or a whole number from 1 to 12"


def _number_only(value: Any) -> Any:
    # JSON numbers only: "12" or true are type errors, as the published schema says.
    if isinstance(value, (str, bool)):
        raise ValueError("must be a JSON number")
    return value


def _grade(value: Any) -> Any:
    if isinstance(value, str) and value.strip().upper() in GRADE_LABELS:
        return GRADE_LABELS[value.strip().upper()]
    if isinstance(value, (str, bool)):
        raise ValueError(f"must be {GRADE_WORDS}")
    return value


def grade_label(grade: int) -> int | str:
    """How a grade is written in every response: PK, K, else its number."""
    return {-1: "PK", 0: "K"}.get(grade, grade)


Grade = Annotated[
    int,
    BeforeValidator(_grade),
    Field(ge=-1, le=12),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": -1, "maximum": 12},
                {"type": "string", "enum": sorted(GRADE_LABELS)},
            ],
            "description": "Grade level: PK, K or 1..12 (KG and TK are read as K; -1 and 0 as "
            "PK and K).",
            "examples": ["K", 6],
        },
        mode="validation",
    ),
]
GradeOut = Annotated[
    int,
    PlainSerializer(grade_label),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": 12},
                {"type": "string", "enum": ["K", "PK"]},
            ],
            "description": "Grade level: PK, K or 1..12.",
            "examples": ["K", 6],
        },
        mode="serialization",
    ),
]
GRADE_QUERY_PATTERN = r"^(PK|TK|KG|K|-1|[0-9]|1[0-2])$"


def grade_from_query(text: str | None, loc: Sequence[str]) -> int | None:
    """A grade query parameter as an int, or InvalidInput saying in words what is expected."""
    if text is None:
        return None
    label = text.strip().upper()
    if label in GRADE_LABELS:
        return GRADE_LABELS[label]
    if re.fullmatch(r"-1|[0-9]|1[0-2]", label):
        return int(label)
    raise InvalidInput(loc, f"grade must be {GRADE_WORDS}.")


def number(kind: type, **constraints: Any) -> Any:
    """A JSON-number field: constraints first, so they stay in the published schema."""
    return Annotated[kind, Field(allow_inf_nan=False, **constraints), BeforeValidator(_number_only)]


def _iso_date_only(value: Any) -> Any:
    if not isinstance(value, (str, dt.date)):
        raise ValueError("must be an ISO 8601 date string, e.g. 2026-09-15")
    return value


Latitude = number(float, ge=-90, le=90, examples=[37.8044])
Longitude = number(float, ge=-180, le=180, examples=[-122.2712])
Count = number(int, ge=0)
Date = Annotated[dt.date, BeforeValidator(_iso_date_only)]
Language = Annotated[
    str,
    Field(pattern=r"^[a-z]{2,3}$", description="ISO 639-1 (or 639-3) code", examples=["es"]),
]
CategoryCode = Annotated[
    str,
    Field(min_length=1, max_length=120),
    WithJsonSchema(
        {
            "type": "string",
            "enum": [c.code for c in load_taxonomy().categories],
            "description": "A category code from GET /v1/taxonomy",
            "examples": ["mental_health_sel"],
        }
    ),
]
Percent = Annotated[float, BeforeValidator(_number_only), Field(ge=0, le=100, allow_inf_nan=False)]

OrganizationType = Literal[
    "nonprofit", "business", "higher_education", "faith_based", "government", "community_group"
]
Schedule = Literal[*SCHEDULES]
Delivery = Literal[*DELIVERIES]
CostKind = Literal[*COST_KINDS]
Population = Literal[*POPULATIONS]
Locale = Literal[*LOCALES]
Verification = Literal["unverified", "verified", "rejected"]
Precision = Literal["exact", "approximate"]


class Strict(BaseModel):
    """Unknown fields are refused, so a typo is an error instead of silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL; refuse it on every backend alike.
        if _has_nul(value):
            raise ValueError("must not contain NUL (\\u0000) characters")
        return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v) for v in value)
    return False


def _display_name(value: str) -> str:
    # NFKC folds look-alike compatibility forms; format characters (zero-width spaces and
    # joiners, right-to-left marks and overrides) are dropped so one name cannot pass for
    # another; whitespace runs and control characters become one space.
    folded = unicodedata.normalize("NFKC", value)
    kept = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in folded
        if unicodedata.category(ch) != "Cf"
    )
    name = " ".join(kept.split())
    if not name:
        raise ValueError("must contain visible characters")
    return name


# A name people read (organizations, offerings, schools, districts, contacts): normalised.
DisplayName = Annotated[str, AfterValidator(_display_name)]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def unique_list(values: list[Any] | None) -> list[Any] | None:
    """Drop duplicates, keep order (unhashable items are left for type validation to refuse)."""
    if values is None or not all(isinstance(v, (str, int, float)) for v in values):
        return values
    return list(dict.fromkeys(values))


UniqueList = BeforeValidator(lambda v: unique_list(v) if isinstance(v, list) else v)
