"""Coordinates for records that have an address but no latitude/longitude.

Offline by default: the centre of the record's US ZIP code from a table shipped with the package
(app/data/imports/zip_centroids.csv.gz; GeoNames coordinates via the `zipcodes` package, see
app/data/README.md). Such coordinates are marked `approximate`, and the note says how they were
found. An online geocoder (a Nominatim-compatible /search endpoint) can be switched on with
GEOCODER_URL; it is off unless set, and the offline table still answers when it cannot.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger("partnermap.geocode")

ZIP_TABLE = Path(__file__).parent.parent / "data" / "imports" / "zip_centroids.csv.gz"
_ZIP = re.compile(r"^\s*(\d{5})(?:[-\s]?\d{4})?\s*$")


class GeocoderSettings(BaseSettings):
    """Online geocoding, off by default (env GEOCODER_URL, GEOCODER_USER_AGENT, …)."""

    model_config = SettingsConfigDict(env_prefix="GEOCODER_", env_file=".env", extra="ignore")

    url: str | None = Field(
        default=None,
        description="Base URL of a Nominatim-compatible geocoder (its /search is called); "
        "unset = offline ZIP centroids only.",
    )
    user_agent: str = Field(default="PartnerMap import", description="Sent as User-Agent.")
    timeout_s: float = Field(default=10.0, gt=0, le=120)


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float
    precision: str
    note: str


class Geocoder(Protocol):
    def locate(
        self, *, address: str | None, city: str | None, state: str | None, postal_code: str | None
    ) -> Place | None: ...


def zip5(postal_code: str | None) -> str | None:
    """The 5-digit US ZIP code in a postal code (ZIP+4 allowed), or None."""
    if not postal_code:
        return None
    match = _ZIP.match(postal_code)
    return match.group(1) if match else None


@dataclass(frozen=True)
class ZipCentroid:
    state: str
    lat: float
    lon: float


@lru_cache(maxsize=1)
def zip_table(path: Path = ZIP_TABLE) -> dict[str, ZipCentroid]:
    """ZIP code -> centroid, read once per process (about 43,000 rows, 2 MB in memory)."""
    with gzip.open(path, "rb") as raw:
        reader = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8"))
        return {r["zip"]: ZipCentroid(r["state"], float(r["lat"]), float(r["lon"])) for r in reader}


class OfflineZipGeocoder:
    """The centre of the record's ZIP code; None when the ZIP is unknown or in another state."""

    def locate(
        self, *, address: str | None, city: str | None, state: str | None, postal_code: str | None
    ) -> Place | None:
        code = zip5(postal_code)
        if code is None:
            return None
        centroid = zip_table().get(code)
        if centroid is None:
            return None
        if state and len(state.strip()) == 2 and state.strip().upper() != centroid.state:
            return None
        return Place(
            lat=centroid.lat,
            lon=centroid.lon,
            precision="approximate",
            note=f"Approximate: centre of ZIP code {code} (offline ZIP table), not the address.",
        )


class NominatimGeocoder:
    """A Nominatim-compatible /search endpoint; used only when GEOCODER_URL is set."""

    def __init__(self, settings: GeocoderSettings, client: httpx.Client | None = None) -> None:
        assert settings.url
        self.url = settings.url.rstrip("/") + "/search"
        self.client = client or httpx.Client(
            timeout=settings.timeout_s, headers={"User-Agent": settings.user_agent}
        )

    def locate(
        self, *, address: str | None, city: str | None, state: str | None, postal_code: str | None
    ) -> Place | None:
        if not (address and (city or postal_code)):
            return None
        params = {
            "format": "jsonv2",
            "limit": "1",
            "street": address,
            "city": city or "",
            "state": state or "",
            "postalcode": postal_code or "",
            "countrycodes": "us",
        }
        try:
            response = self.client.get(self.url, params={k: v for k, v in params.items() if v})
            response.raise_for_status()
            hits = response.json()
            if not hits:
                return None
            lat, lon = float(hits[0]["lat"]), float(hits[0]["lon"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError, IndexError) as exc:
            log.warning("online geocoder failed for %r: %s", address, exc)
            return None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return None
        return Place(
            lat=lat,
            lon=lon,
            precision="approximate",
            note=f"Approximate: geocoded from the address by {httpx.URL(self.url).host}.",
        )


class ChainGeocoder:
    """Ask each geocoder in turn; the first answer wins."""

    def __init__(self, *geocoders: Geocoder) -> None:
        self.geocoders = geocoders

    def locate(
        self, *, address: str | None, city: str | None, state: str | None, postal_code: str | None
    ) -> Place | None:
        for geocoder in self.geocoders:
            place = geocoder.locate(
                address=address, city=city, state=state, postal_code=postal_code
            )
            if place is not None:
                return place
        return None


def default_geocoder(settings: GeocoderSettings | None = None) -> Geocoder:
    """Offline ZIP centroids, preceded by the online geocoder when GEOCODER_URL is set."""
    settings = settings or GeocoderSettings()
    if settings.url:
        return ChainGeocoder(NominatimGeocoder(settings), OfflineZipGeocoder())
    return OfflineZipGeocoder()


def write_zip_table(path: Path = ZIP_TABLE) -> int:
    """Rebuild the shipped ZIP table from the `zipcodes` package (a maintainer's step, never run
    at import time): zip, state, lat, lon, type, active; gzip with a fixed mtime."""
    import zipcodes  # only needed to rebuild the table

    rows = sorted(zipcodes.list_all(), key=lambda r: r["zip_code"])
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["zip", "state", "lat", "lon", "type", "active"])
    for r in rows:
        writer.writerow(
            [r["zip_code"], r["state"], r["lat"], r["long"], r["zip_code_type"], int(r["active"])]
        )
    with gzip.GzipFile(path, "wb", mtime=0) as out:
        out.write(text.getvalue().encode())
    return len(rows)
