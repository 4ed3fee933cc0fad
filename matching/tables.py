"""What the service feeds the ranker: offerings as column arrays, schools and their needs.

Conventions: grades are ints -1 (pre-K) .. 12; set-valued fields are collections of codes from
`matching.vocab` (empty = unspecified; for languages, unspecified means English); unknown
numbers are NaN; unknown cost is None; dates are `datetime.date` or None (open-ended).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, fields

import numpy as np

from matching.errors import RankingInputError


@dataclass(frozen=True)
class OfferingTable:
    """Offerings as parallel columns (one entry per offering), ready for OfferingIndex.build."""

    ids: np.ndarray  # int64, unique
    organization_ids: np.ndarray  # int64
    lat: np.ndarray  # float64 degrees: the organization location serving this offering
    lon: np.ndarray  # float64 degrees
    categories: Sequence[Sequence[str]]  # taxonomy codes
    grade_low: np.ndarray  # int
    grade_high: np.ndarray  # int
    schedule: Sequence[Collection[str]]  # vocab.SCHEDULES
    delivery: Sequence[Collection[str]]  # vocab.DELIVERIES
    languages: Sequence[Collection[str]]  # ISO 639 codes; empty = English
    cost: Sequence[str | None]  # "free" | "sliding_scale" | "fee" | None (unknown)
    cost_amount: np.ndarray  # float, NaN unless a fee is known
    schools_left: np.ndarray  # float: schools it can still take this year, NaN = unknown
    students_left: np.ndarray  # float: students it can still take this year, NaN = unknown
    populations: Sequence[Collection[str]]  # vocab.POPULATIONS it prioritizes
    active_from: Sequence[dt.date | None]
    active_until: Sequence[dt.date | None]
    texts: Sequence[str]  # title + description, for TF-IDF
    verified: np.ndarray  # bool: the organization is verified
    service_radius_km: np.ndarray  # float: declared service radius around lat/lon, NaN = none
    has_service_area: np.ndarray  # bool: declares a polygon area (coverage given per query)
    # bool: lat/lon is an estimate (a ZIP centroid, an approximate place); None = all exact
    location_estimated: np.ndarray | None = None
    # The organization's other locations, (lat, lon, estimated) each: a ranking measures from
    # whichever of them and lat/lon is nearest the school. None = none.
    more_locations: Sequence[Sequence[tuple[float, float, bool]]] | None = None

    def __post_init__(self) -> None:
        n = len(self.ids)
        if self.location_estimated is None:
            object.__setattr__(self, "location_estimated", np.zeros(n, dtype=bool))
        if self.more_locations is None:
            object.__setattr__(self, "more_locations", [()] * n)
        for f in fields(self):
            if len(getattr(self, f.name)) != n:
                raise ValueError(
                    f"OfferingTable.{f.name} has {len(getattr(self, f.name))} entries, expected {n}"
                )
        if n and (np.asarray(self.grade_low) > np.asarray(self.grade_high)).any():
            raise ValueError("OfferingTable: grade_low > grade_high")
        if len(np.unique(np.asarray(self.ids))) != n:
            raise ValueError("OfferingTable: duplicate ids")

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_records(cls, records: Sequence[OfferingRecord]) -> OfferingTable:
        """Columns from one record per offering (convenient for small batches and upserts)."""

        def col(name: str, dtype: type | None = None) -> np.ndarray:
            return np.array([getattr(r, name) for r in records], dtype=dtype)

        def nan(name: str) -> np.ndarray:
            values = [getattr(r, name) for r in records]
            return np.array([math.nan if v is None else v for v in values], dtype=np.float64)

        return cls(
            ids=col("id", np.int64),
            organization_ids=col("organization_id", np.int64),
            lat=col("lat", np.float64),
            lon=col("lon", np.float64),
            categories=[tuple(r.categories) for r in records],
            grade_low=col("grade_low", np.int64),
            grade_high=col("grade_high", np.int64),
            schedule=[frozenset(r.schedule) for r in records],
            delivery=[frozenset(r.delivery) for r in records],
            languages=[frozenset(r.languages) for r in records],
            cost=[r.cost for r in records],
            cost_amount=nan("cost_amount"),
            schools_left=nan("schools_left"),
            students_left=nan("students_left"),
            populations=[frozenset(r.populations) for r in records],
            active_from=[r.active_from for r in records],
            active_until=[r.active_until for r in records],
            texts=[r.text for r in records],
            verified=col("verified", bool),
            service_radius_km=nan("service_radius_km"),
            has_service_area=col("has_service_area", bool),
            location_estimated=col("location_estimated", bool),
            more_locations=[tuple(r.more_locations) for r in records],
        )


@dataclass(frozen=True)
class OfferingRecord:
    """One offering, with the defaults of an unspecified field (see OfferingTable)."""

    id: int
    lat: float
    lon: float
    categories: Sequence[str]
    organization_id: int = 0
    grade_low: int = -1
    grade_high: int = 12
    schedule: Collection[str] = ()
    delivery: Collection[str] = ()
    languages: Collection[str] = ()
    cost: str | None = None
    cost_amount: float | None = None
    schools_left: float | None = None
    students_left: float | None = None
    populations: Collection[str] = ()
    active_from: dt.date | None = None
    active_until: dt.date | None = None
    text: str = ""
    verified: bool = True
    service_radius_km: float | None = None
    has_service_area: bool = False
    location_estimated: bool = False
    more_locations: Sequence[tuple[float, float, bool]] = ()


@dataclass(frozen=True)
class Need:
    """One prioritized need from a school's needs assessment."""

    category: str
    priority: int = 1  # 1 (highest) .. 5
    grade_low: int | None = None  # None: the school's grades
    grade_high: int | None = None
    students_affected: int | None = None
    schedule: frozenset[str] = frozenset()  # preferred; empty = no preference
    delivery: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()  # preferred; empty = no preference
    notes: str = ""

    def __post_init__(self) -> None:
        for name in ("schedule", "delivery", "languages"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        if not 1 <= self.priority <= 5:
            raise RankingInputError(
                f"Need.priority must be 1..5, got {self.priority}", ("priority",)
            )
        low, high = self.grade_low, self.grade_high
        if low is not None and high is not None and low > high:
            raise RankingInputError("Need: grade_low > grade_high", ("grade_high",))


@dataclass(frozen=True)
class SchoolQuery:
    """The school a ranking is for (or an ad-hoc location with grades)."""

    lat: float
    lon: float
    school_id: int | None = None
    locale: str | None = None  # city | suburb | town | rural; None = config.default_locale
    grade_low: int = -1
    grade_high: int = 12
    need_index: float | None = None  # [0, 1]; None/NaN = config.missing_need_index
    languages: frozenset[str] = frozenset()  # languages spoken by its families
    populations: frozenset[str] = frozenset()  # vocab.POPULATIONS it serves
    # Ids of offerings whose polygon service area covers the school, when the service has
    # computed it (e.g. PostGIS ST_Covers); None = unknown, so no area is held against anyone.
    covered_by: frozenset[int] | None = None
    location_estimated: bool = False  # lat/lon is an estimate, so distances from it are too

    def __post_init__(self) -> None:
        for name in ("languages", "populations"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        if self.covered_by is not None:
            object.__setattr__(self, "covered_by", frozenset(self.covered_by))
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise RankingInputError("SchoolQuery: lat/lon out of range", ("lat",))
        if self.grade_low > self.grade_high:
            raise RankingInputError("SchoolQuery: grade_low > grade_high", ("grade_high",))


@dataclass(frozen=True)
class SchoolTable:
    """Schools as parallel columns, each with its latest needs (empty: none filed)."""

    ids: np.ndarray  # int64
    lat: np.ndarray
    lon: np.ndarray
    locale: Sequence[str | None]
    grade_low: np.ndarray
    grade_high: np.ndarray
    need_index: np.ndarray  # float, NaN = unknown
    languages: Sequence[Collection[str]]
    populations: Sequence[Collection[str]]
    needs: Sequence[Sequence[Need]] = field(default=())

    def __post_init__(self) -> None:
        n = len(self.ids)
        if not self.needs:
            object.__setattr__(self, "needs", [()] * n)
        for f in fields(self):
            if len(getattr(self, f.name)) != n:
                raise ValueError(
                    f"SchoolTable.{f.name} has {len(getattr(self, f.name))} entries, expected {n}"
                )

    def __len__(self) -> int:
        return len(self.ids)

    def query(self, i: int) -> tuple[SchoolQuery, list[Need]]:
        """School i as a SchoolQuery (for rank_offerings) and its needs."""
        index = float(self.need_index[i])
        school = SchoolQuery(
            lat=float(self.lat[i]),
            lon=float(self.lon[i]),
            school_id=int(self.ids[i]),
            locale=self.locale[i],
            grade_low=int(self.grade_low[i]),
            grade_high=int(self.grade_high[i]),
            need_index=None if math.isnan(index) else index,
            languages=frozenset(self.languages[i]),
            populations=frozenset(self.populations[i]),
        )
        return school, list(self.needs[i])

    @classmethod
    def from_queries(
        cls, schools: Sequence[SchoolQuery], needs: Sequence[Sequence[Need]] | None = None
    ) -> SchoolTable:
        """Columns from one SchoolQuery per school (school_id required) and its needs."""
        if any(s.school_id is None for s in schools):
            raise ValueError("SchoolTable.from_queries: every school needs a school_id")
        return cls(
            ids=np.array([s.school_id for s in schools], dtype=np.int64),
            lat=np.array([s.lat for s in schools], dtype=np.float64),
            lon=np.array([s.lon for s in schools], dtype=np.float64),
            locale=[s.locale for s in schools],
            grade_low=np.array([s.grade_low for s in schools], dtype=np.int64),
            grade_high=np.array([s.grade_high for s in schools], dtype=np.int64),
            need_index=np.array(
                [math.nan if s.need_index is None else s.need_index for s in schools], np.float64
            ),
            languages=[s.languages for s in schools],
            populations=[s.populations for s in schools],
            needs=list(needs) if needs is not None else [()] * len(schools),
        )
