"""Parsed list filters: plain data handed from routers to services and repositories."""

from __future__ import annotations

from dataclasses import dataclass, field

from geo import BBox


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True)
class Area:
    near: Near | None = None
    bbox: BBox | None = None


@dataclass(frozen=True)
class Visibility:
    """The organizations a caller may see: all of them, or the verified ones plus their own."""

    everything: bool = True
    own_organizations: frozenset[int] = frozenset()


@dataclass(frozen=True)
class OfferingFilters:
    q: str | None = None
    org_types: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    grade: int | None = None
    schedule: tuple[str, ...] = ()
    delivery: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    free: bool = False
    verified_only: bool = False
    organization_id: int | None = None
    visibility: Visibility = field(default_factory=Visibility)


@dataclass(frozen=True)
class OrganizationFilters:
    q: str | None = None
    types: tuple[str, ...] = ()
    verification: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    offerings: OfferingFilters = field(default_factory=OfferingFilters)
    visibility: Visibility = field(default_factory=Visibility)


@dataclass(frozen=True)
class SchoolFilters:
    q: str | None = None
    district: str | None = None
    locales: tuple[str, ...] = ()
    grade: int | None = None
    title_i: bool | None = None
    min_need_index: float | None = None
