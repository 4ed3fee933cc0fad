"""The one exception the ranking library raises for input it cannot rank."""

from __future__ import annotations

PathPart = str | int


class RankingInputError(ValueError):
    """A need, school or ranking argument outside its domain (e.g. grade_low > grade_high).

    `reason` is a sentence a person can act on; `path` names the offending field, so the
    service can put it in a problem+json `errors[].loc` without parsing the message.
    """

    def __init__(self, reason: str, path: tuple[PathPart, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path

    def __reduce__(self) -> tuple[type[RankingInputError], tuple[str, tuple[PathPart, ...]]]:
        # Keep both attributes when pickled (process pools, pytest-xdist).
        return (type(self), (self.reason, self.path))
