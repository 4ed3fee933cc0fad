from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    StringConstraints,
    TypeAdapter,
    UrlConstraints,
    WithJsonSchema,
)

from app.schemas.common import (
    DisplayName,
    Language,
    Latitude,
    Longitude,
    OrganizationType,
    Out,
    Precision,
    Strict,
    UniqueList,
    number,
)


class LocationIn(Strict):
    name: str | None = Field(default=None, max_length=300)
    address: str | None = Field(default=None, max_length=300, examples=["1 Frank H Ogawa Plaza"])
    city: str | None = Field(default=None, max_length=120, examples=["Oakland"])
    state: str | None = Field(default=None, max_length=64, examples=["CA"])
    postal_code: str | None = Field(default=None, max_length=20, examples=["94612"])
    lat: Latitude
    lon: Longitude
    precision: Precision = "exact"
    note: str | None = Field(default=None, max_length=2000)


class LocationOut(Out):
    id: int
    name: str | None
    address: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    lat: float | None  # None: received without usable coordinates (an HSDS import)
    lon: float | None
    precision: str
    note: str | None


RadiusKm = number(float, gt=0, le=1000)


class GeoJSONPolygon(BaseModel):
    """RFC 7946 Polygon or MultiPolygon; checked in full (closure, validity) by the service."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "type": "Polygon",
                "coordinates": [
                    [[-122.3, 37.75], [-122.15, 37.75], [-122.15, 37.85], [-122.3, 37.75]]
                ],
            }
        },
    )

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any] = Field(min_length=1)


class NoServiceArea(Strict):
    """Serves only at its locations."""

    kind: Literal["none"]


class PolygonServiceArea(Strict):
    """A GeoJSON Polygon or MultiPolygon ([lon, lat], WGS84); it must be valid, with at most
    25,000 vertices, and at most 50,000 once its edges are cut into 0.1° pieces (a 422 names
    `coordinates` otherwise)."""

    kind: Literal["polygon"]
    geometry: GeoJSONPolygon


class RadiusServiceArea(Strict):
    """Anywhere within `radius_km` of any of its locations."""

    kind: Literal["radius"]
    radius_km: RadiusKm = Field(examples=[15])


class RegionServiceArea(Strict):
    """A named region served anywhere (often virtually)."""

    kind: Literal["region"]
    region: str = Field(min_length=1, max_length=200, examples=["Alameda County"])


ServiceArea = Annotated[
    NoServiceArea | PolygonServiceArea | RadiusServiceArea | RegionServiceArea,
    Field(discriminator="kind"),
]


class ServiceAreaOut(BaseModel):
    kind: Literal["none", "polygon", "radius", "region"]
    geometry: dict[str, Any] | None = Field(
        default=None,
        description="The polygon as given (a MultiPolygon, RFC 7946 winding). It is stored with "
        "its long edges cut into 0.1° pieces so every database draws the same boundary; those "
        "added vertices are left out here.",
    )
    radius_km: float | None = None
    region: str | None = None


_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(Annotated[HttpUrl, UrlConstraints(max_length=2000)])


def _http_url(value: str) -> str:
    """Checked as an http(s) URL but kept as written: an interchange format (HSDS) must give
    back `http://example.com`, not the normalised `http://example.com/`."""
    _HTTP_URL.validate_python(value)
    return value


WebsiteUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2000),
    AfterValidator(_http_url),
    WithJsonSchema({"type": "string", "format": "uri", "minLength": 1, "maxLength": 2000}),
]


class OrganizationBase(Strict):
    description: str | None = Field(default=None, max_length=10_000)
    website: WebsiteUrl | None = Field(default=None, examples=["https://example.org"])
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=64)
    contact_name: DisplayName | None = Field(default=None, max_length=200)


class OrganizationCreate(OrganizationBase):
    name: DisplayName = Field(min_length=1, max_length=300, examples=["Oakland Leaf Foundation"])
    type: OrganizationType = Field(examples=["nonprofit"])
    languages: Annotated[list[Language], UniqueList] = Field(default_factory=list, max_length=50)
    locations: list[LocationIn] = Field(default_factory=list, max_length=100)
    service_area: ServiceArea = Field(default_factory=lambda: NoServiceArea(kind="none"))
    source: str | None = Field(default=None, max_length=64)
    external_id: str | None = Field(default=None, max_length=200)

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "name": "East Bay Science Mentors",
                    "type": "nonprofit",
                    "description": "Volunteer engineers who run hands-on science clubs.",
                    "languages": ["en", "es"],
                    "locations": [
                        {
                            "address": "1 Frank H Ogawa Plaza",
                            "city": "Oakland",
                            "state": "CA",
                            "postal_code": "94612",
                            "lat": 37.8053,
                            "lon": -122.2725,
                        }
                    ],
                    "service_area": {"kind": "radius", "radius_km": 15},
                }
            ]
        }
    }


class OrganizationUpdate(OrganizationBase):
    """Only the fields given change; `locations`, when given, replaces the list."""

    name: DisplayName = Field(default=None, min_length=1, max_length=300)
    type: OrganizationType = None
    languages: Annotated[list[Language], UniqueList] = Field(default=None, max_length=50)
    locations: list[LocationIn] = Field(default=None, max_length=100)
    service_area: ServiceArea = None


class VerificationIn(Strict):
    state: Literal["verified", "rejected"]
    reason: str | None = Field(
        default=None,
        max_length=2000,
        description="Why (required to reject); shown to the organization's members.",
        examples=["Listed in the district's approved partner records"],
    )


class OrganizationOut(Out):
    id: int
    name: str
    type: str
    type_inferred: bool
    description: str | None
    website: str | None
    email: str | None
    phone: str | None
    contact_name: str | None
    languages: list[str]
    verification: str
    verification_reason: str | None = None
    verified_by_district_id: int | None = None
    verified_at: dt.datetime | None = None
    locations: list[LocationOut]
    service_area: ServiceAreaOut
    source: str | None
    external_id: str | None
    distance_m: float | None = Field(
        default=None, description="Geodesic metres to the nearest location (near queries only)."
    )
    created_at: dt.datetime
    updated_at: dt.datetime
