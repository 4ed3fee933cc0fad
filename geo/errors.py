"""The one exception the geometry library raises for bad input."""

from __future__ import annotations

PathPart = str | int


class GeometryError(ValueError):
    """Input that is not a usable location, box or area.

    `reason` is a sentence a person can act on; `path` says where in the input the problem is,
    e.g. ("coordinates", 0, 3) for the fourth position of the first ring, so the service can put
    it in a problem+json `errors[].loc` without parsing the message.
    """

    def __init__(self, reason: str, path: tuple[PathPart, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path

    def __str__(self) -> str:
        if not self.path:
            return self.reason
        return f"{'.'.join(str(part) for part in self.path)}: {self.reason}"

    def __reduce__(self) -> tuple[type[GeometryError], tuple[str, tuple[PathPart, ...]]]:
        # Keep both attributes when pickled (process pools, pytest-xdist).
        return (type(self), (self.reason, self.path))

    def under(self, *prefix: PathPart) -> GeometryError:
        """The same error located inside a bigger document, e.g. under ("geometry",)."""
        return GeometryError(self.reason, (*prefix, *self.path))
