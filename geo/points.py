"""Checking and parsing single WGS84 positions (lat/lon in degrees)."""

from __future__ import annotations

import math
import re
from numbers import Real

from geo.errors import GeometryError

# Plain decimal numbers only: float() would also take "nan", "inf", "1_000" and " 0x1p3 ".
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def parse_number(text: str, name: str) -> float:
    """Parse one decimal number from a query string, naming `name` in the error."""
    stripped = text.strip()
    if not _NUMBER.fullmatch(stripped):
        raise GeometryError(f"{name} {text.strip()!r} is not a decimal number", (name,))
    return float(stripped)


def check_lat(value: object, name: str = "lat") -> float:
    """`value` as a float latitude, or GeometryError if it is not a finite number in [-90, 90]."""
    return _check_range(value, name, 90.0)


def check_lon(value: object, name: str = "lon") -> float:
    """`value` as a float longitude, or GeometryError if not a finite number in [-180, 180]."""
    return _check_range(value, name, 180.0)


def _check_range(value: object, name: str, limit: float) -> float:
    # bool is an int subclass; a JSON true is never a coordinate.
    if isinstance(value, bool) or not isinstance(value, Real):
        raise GeometryError(f"{name} must be a number, got {value!r}", (name,))
    number = float(value)
    if not math.isfinite(number):
        raise GeometryError(f"{name} must be a finite number, got {number}", (name,))
    if not -limit <= number <= limit:
        raise GeometryError(f"{name} {number:g} is outside [-{limit:g}, {limit:g}]", (name,))
    return number


def validate_point(lat: object, lon: object) -> tuple[float, float]:
    """(lat, lon) as floats after checking each is finite and in range; errors name "lat"/"lon"."""
    return check_lat(lat, "lat"), check_lon(lon, "lon")


def parse_near(text: str) -> tuple[float, float]:
    """Parse a "lat,lon" query value (latitude first, as people write it) into (lat, lon)."""
    parts = text.split(",")
    if len(parts) != 2:
        raise GeometryError(
            f"expected 'lat,lon' (two comma-separated numbers), got {len(parts)} part(s)"
        )
    lat = parse_number(parts[0], "lat")
    lon = parse_number(parts[1], "lon")
    if abs(lat) > 90.0 and abs(lon) <= 90.0:
        # The classic mistake: GeoJSON order "lon,lat". Say so rather than only "out of range".
        raise GeometryError(
            f"lat {lat:g} is outside [-90, 90]; 'near' takes latitude first ('lat,lon')",
            ("lat",),
        )
    return validate_point(lat, lon)
