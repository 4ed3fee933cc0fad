"""Errors a client can act on, raised by services with no HTTP in them.

`app.errors.STATUS_CODES` maps each class to its status, title and headers, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DomainError(Exception):
    """Base for errors a client can act on; `errors` name the fields (`loc`) at fault."""

    def __init__(self, detail: str, *, errors: Sequence[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors or [])
        # RFC 9457 extension members, added to the problem body as they are.
        self.extensions: dict[str, Any] = {}


class NotFound(DomainError):
    """The record named does not exist or is not visible to the caller."""


class Unauthorized(DomainError):
    """No credentials where they are needed, or credentials that are unknown, expired or
    revoked."""


class Forbidden(DomainError):
    """Known caller, not allowed to do this."""


class TooManyRequests(DomainError):
    """A rate limit is reached; `retry_after` says in how many seconds to try again."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)


class Conflict(DomainError):
    """The request clashes with a record that exists (a duplicate, a reference in use)."""


class InvalidTransition(Conflict):
    """A state change the state machine does not allow; `allowed` lists the ones it does."""

    def __init__(self, kind: str, current: str, to: str, allowed: list[str]) -> None:
        listed = ", ".join(allowed) if allowed else "none (it is closed)"
        super().__init__(
            f"A {current} {kind} cannot become {to}; allowed from {current}: {listed}."
        )
        self.extensions = {"current": current, "allowed": allowed}


class InvalidInput(DomainError):
    """A value that passed the schema but breaks a domain rule; `loc` names the field."""

    def __init__(self, loc: Sequence[str | int], message: str, *, kind: str = "value_error"):
        super().__init__(message, errors=[{"loc": list(loc), "msg": message, "type": kind}])


class InvalidParameter(InvalidInput):
    """A query parameter that a standard answers with 400, not 422 (OGC API - Features)."""


class PayloadTooLarge(DomainError):
    """A request body over the configured limit."""


class UnsupportedMediaType(DomainError):
    """An upload in a format the endpoint does not read."""


class ServiceUnavailable(DomainError):
    """A dependency the request needs (the database) does not answer."""
