"""The public search form: what the visitor typed, checked, and the place it names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import Field, ValidationError, field_validator

from app.imports.geocode import zip5, zip_table
from app.schemas.common import Grade, Latitude, Longitude, Strict
from app.taxonomy import load_taxonomy

POINT = re.compile(r"^\s*(-?\d{1,3}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")


class SearchForm(Strict):
    """The search page's query string; every field optional, none trusted."""

    need: str | None = Field(default=None, max_length=120)
    grade: Grade | None = None
    place: str | None = Field(default=None, max_length=200)
    lat: Latitude | None = None
    lon: Longitude | None = None
    q: str | None = Field(default=None, max_length=200)

    @field_validator("need", "place", "q", "grade", "lat", "lon", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("grade", "lat", "lon", mode="before")
    @classmethod
    def _query_number(cls, value: object) -> object:
        """A query string carries text: numbers are read from it (labels such as K stay)."""
        if isinstance(value, str):
            try:
                return float(value) if "." in value else int(value)
            except ValueError:
                return value
        return value

    @field_validator("need")
    @classmethod
    def _known_need(cls, value: str | None) -> str | None:
        if value is not None and value not in load_taxonomy():
            raise ValueError("choose a need from the list")
        return value

    @field_validator("q", "place")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError("must not contain NUL")
        return value


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float


def parse(query: dict[str, str]) -> tuple[SearchForm | None, dict[str, str]]:
    """The form, or the message for each field at fault (keyed by field name)."""
    try:
        form = SearchForm.model_validate({k: v for k, v in query.items() if k != "lang"})
    except ValidationError as error:
        return None, {str(e["loc"][0]) if e["loc"] else "form": e["msg"] for e in error.errors()}
    return form, {}


def place_of(form: SearchForm) -> tuple[Point | None, str | None]:
    """Where to search: the map's point, "lat, lon", or a US ZIP code's centre; else an error."""
    if form.lat is not None and form.lon is not None:
        return Point(form.lat, form.lon), None
    if form.place is None:
        return None, None
    match = POINT.match(form.place)
    if match:
        lat, lon = float(match.group(1)), float(match.group(2))
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return Point(lat, lon), None
    code = zip5(form.place)
    centroid = zip_table().get(code) if code else None
    if centroid is None:
        return None, "Enter a 5-digit US ZIP code or “latitude, longitude”, or click the map."
    return Point(centroid.lat, centroid.lon), None
