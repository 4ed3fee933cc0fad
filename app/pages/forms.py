"""Form posts to pages: HTML form fields read into the JSON API's request schemas, and their
errors named the way the page's fields are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from app.domain_errors import DomainError
from app.errors import kind_of

Model = TypeVar("Model", bound=BaseModel)
Result = TypeVar("Result")


class FormInvalid(Exception):
    """A form's fields broke a schema or a domain rule; `errors` maps field -> message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def text(form: FormData, name: str) -> str | None:
    """A text field, None when blank."""
    value = form.get(name)
    return value.strip() or None if isinstance(value, str) else None


def words(form: FormData, name: str) -> list[str]:
    """A comma-separated field as a list (languages: "en, es")."""
    return [w.strip().lower() for w in (text(form, name) or "").split(",") if w.strip()]


def checked(form: FormData, name: str) -> list[str]:
    """The values of a group of checkboxes (or a multiple select)."""
    return [v for v in form.getlist(name) if isinstance(v, str) and v]


def number(form: FormData, name: str) -> Any:
    """A number field: int or float when it reads as one, else the text (for the schema's
    message), None when blank."""
    value = text(form, name)
    if value is None:
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def validated(schema: type[Model], data: dict[str, Any]) -> Model:
    """The schema's model, or FormInvalid naming each field at fault."""
    try:
        return schema.model_validate(data)
    except ValidationError as error:
        raise FormInvalid({field_name(e["loc"]): e["msg"] for e in error.errors()}) from None


def posted(
    action: Callable[[], Result],
    *,
    done: Callable[[Result], Response],
    again: Callable[[dict[str, str], int], Response],
    refused: Callable[[DomainError], dict[str, str]] | None = None,
) -> Response:
    """A form post's answer: done(what the action returned) (a redirect), or the form's page
    again with the messages, 422 when fields break the schema, else the service refusal's own
    status from the one table the JSON API answers with (403, 404, 409, 415, ...). `refused`
    words a refusal as the page's messages when `domain_errors` does not name its fields."""
    try:
        result = action()
    except FormInvalid as invalid:
        return again(invalid.errors, 422)
    except DomainError as error:
        return again((refused or domain_errors)(error), kind_of(error).status)
    return done(result)


def domain_errors(error: DomainError) -> dict[str, str]:
    """A service's refusal as the form's messages."""
    return {field_name(e["loc"]): e["msg"] for e in error.errors} or {"form": error.detail}


def field_name(loc: Any) -> str:
    """`("body", "locations", 0, "lat")` -> `locations.0.lat`."""
    return ".".join(str(p) for p in loc if p != "body") or "form"
