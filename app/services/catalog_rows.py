"""The stored columns of an organization (its locations and service area included) and of an
offering, built from the API's request schemas. The one write path the API services and the
importers share, so each storage rule (website text, service-area columns, dense polygon edges,
money to the cent) lives here once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import geo
from app.schemas.organizations import (
    LocationIn,
    NoServiceArea,
    OrganizationCreate,
    OrganizationUpdate,
    PolygonServiceArea,
    RadiusServiceArea,
    RegionServiceArea,
    ServiceArea,
)

ORGANIZATION_FIELDS = (
    "name",
    "type",
    "description",
    "website",
    "email",
    "phone",
    "contact_name",
    "languages",
)
SERVICE_AREA_COLUMNS = ("service_area_kind", "service_area", "service_radius_km", "service_region")


def organization_row(
    data: OrganizationCreate | OrganizationUpdate, *, given_only: bool = False
) -> dict[str, Any]:
    """Columns of an organization from a request: every field, or with `given_only` the fields
    a PATCH sets. Raises geo.GeometryError when a polygon service area is not valid."""
    given = data.model_fields_set if given_only else set(type(data).model_fields)
    row = {field: getattr(data, field) for field in ORGANIZATION_FIELDS if field in given}
    if "website" in row:
        row["website"] = str(data.website) if data.website else None
    if "languages" in row:
        row["languages"] = list(row["languages"])
    if "service_area" in given:
        row |= service_area_row(data.service_area or NoServiceArea(kind="none"))
    return row


def service_area_row(area: ServiceArea) -> dict[str, Any]:
    """The four service-area columns; only the one the kind uses is set."""
    row: dict[str, Any] = dict.fromkeys(SERVICE_AREA_COLUMNS)
    row["service_area_kind"] = area.kind
    if isinstance(area, PolygonServiceArea):
        shape = geo.parse_service_area(area.geometry.model_dump())
        # Dense edges make shapely's straight lon/lat edges and PostGIS's great-circle arcs
        # agree to about a metre, so coverage answers match on both backends (bounded in size).
        row["service_area"] = geo.to_geojson(geo.stored_service_area(shape))
    elif isinstance(area, RadiusServiceArea):
        row["service_radius_km"] = area.radius_km
    elif isinstance(area, RegionServiceArea):
        row["service_region"] = area.region
    return row


def location_rows(locations: Sequence[LocationIn]) -> list[dict[str, Any]]:
    return [loc.model_dump() for loc in locations]


def offering_row(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Columns of an offering from its request fields (all of a create, those a PATCH gives)."""
    row = dict(fields)
    if "cost_amount" in row:
        row["cost_amount"] = cents(row["cost_amount"])
    return row


def cents(value: float | Decimal | None) -> Decimal | None:
    """Money as the Numeric(12, 2) column returns it, so comparisons (re-imports) are exact."""
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))
