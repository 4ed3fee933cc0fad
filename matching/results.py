"""What a ranking returns: scored, explained results."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Contribution:
    """Points one model component adds to the score, and why."""

    component: str  # "fit" | "reach" | "constraints" | "equity" | "history" | "priority"
    points: float
    detail: str


@dataclass(frozen=True)
class NeedMet:
    """A need of the school that the offering serves (taxonomy credit > 0)."""

    category: str  # the need's category code
    name: str  # its display name
    priority: int
    credit: float  # 1.0 same category; less for a related one (branch / sibling)
    via: str  # the offering's category earning the credit
    primary: bool  # the need this offering serves best, constraints considered


@dataclass(frozen=True)
class RankedOffering:
    """One offering ranked for a school. sum(c.points for c in contributions) == score."""

    offering_id: int
    organization_id: int
    rank: int  # 1-based
    score: float
    contributions: tuple[Contribution, ...]  # fit, reach, constraints, equity
    needs_met: tuple[NeedMet, ...]  # primary first, then by priority
    reason: str  # one line a principal can read
    distance_km: float  # great-circle, even for virtual offerings (it is not scored for them)
    warnings: tuple[str, ...]  # constraint problems, e.g. "at capacity"
    model_version: str
    # rank_organizations: the organization's other ranked offerings, best first (their `rank`
    # is their place in the ranking of offerings); empty in a ranking of offerings.
    others: tuple[RankedOffering, ...] = field(default=())


@dataclass(frozen=True)
class RankedSchool:
    """One school ranked for an organization's offering(s); contributions sum to score."""

    school_id: int
    offering_id: int  # the offering that serves this school best
    rank: int
    score: float
    contributions: tuple[Contribution, ...]
    needs_met: tuple[NeedMet, ...]
    reason: str
    distance_km: float
    need_index: float | None
    warnings: tuple[str, ...]
    model_version: str
