"""What a ranking returns: scored, explained results."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any, TypeVar

T = TypeVar("T")


def direct_init(cls: type[T]) -> type[T]:
    """Give a frozen dataclass an __init__ that fills the instance's __dict__ directly.

    The generated __init__ of a frozen dataclass sets each field through object.__setattr__,
    about twice the cost of a plain one, and a ranking builds a few hundred of these results
    per request. Same signature and defaults; instances stay frozen (setting a field still
    raises), equal, hashable and printed as before.
    """
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    defaults: dict[str, Any] = {}
    params = []
    for f in fields(cls):  # type: ignore[arg-type]
        if f.default_factory is not MISSING or not f.init:
            raise TypeError(f"direct_init: {cls.__name__}.{f.name} needs the generated __init__")
        if f.default is MISSING:
            params.append(f.name)
        else:
            defaults[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
    body = "".join(f"    d[{name!r}] = {name}\n" for name in names)
    source = f"def __init__(self, {', '.join(params)}):\n    d = self.__dict__\n{body}"
    namespace: dict[str, Any] = {}
    exec(source, defaults, namespace)  # generated from the class's own field names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


def replaced(obj: T, **changes: Any) -> T:
    """dataclasses.replace for a direct_init dataclass (whose fields all live in the instance's
    __dict__): a copy with these fields changed, without running __init__ again (a ranking
    replaces a few fields of its scores, a dataclass of about twenty arrays, twice)."""
    state = obj.__dict__
    unknown = changes.keys() - state.keys()
    if unknown:
        raise TypeError(f"replaced: {type(obj).__name__} has no field {sorted(unknown)[0]!r}")
    copy = object.__new__(type(obj))
    copy.__dict__.update(state)
    copy.__dict__.update(changes)
    return copy


@direct_init
@dataclass(frozen=True)
class Contribution:
    """Points one model component adds to the score, and why."""

    component: str  # "fit" | "reach" | "constraints" | "equity" | "history" | "priority"
    points: float
    detail: str


@direct_init
@dataclass(frozen=True)
class NeedMet:
    """A need of the school that the offering serves (taxonomy credit > 0)."""

    category: str  # the need's category code
    name: str  # its display name
    priority: int
    credit: float  # 1.0 same category; less for a related one (branch / sibling)
    via: str  # the offering's category earning the credit
    primary: bool  # the need this offering serves best, constraints considered


@direct_init
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


@direct_init
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
