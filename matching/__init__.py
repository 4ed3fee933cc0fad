"""PartnerMap's ranking library: explained, equity-weighted matching of schools and partners.

Pure: numpy / scipy / scikit-learn in, frozen dataclasses out; no web or database imports.

    index = OfferingIndex.build(table, taxonomy_parents, RankingConfig(), names=display_names)
    results = rank_offerings(index, SchoolQuery(lat=..., lon=...), [Need("literacy")], k=20)
    index.upsert(OfferingTable.from_records([...])); index.remove([42])
    pairs = fit_and_reach(index, SchoolTable.from_queries(...))  # many schools: coverage's input

Distances come from geo (great-circle, geo.distance.haversine_km); geo imports nothing from here.
"""

from matching.config import RankingConfig
from matching.errors import RankingInputError
from matching.filters import Filters
from matching.index import OfferingIndex
from matching.need_index import need_index, populations_from_indicators
from matching.pairs import Reaching, fit_and_reach
from matching.rank import rank_offerings, rank_organizations, rank_schools
from matching.results import Contribution, NeedMet, RankedOffering, RankedSchool
from matching.tables import Need, OfferingRecord, OfferingTable, SchoolQuery, SchoolTable

__all__ = [
    "Contribution",
    "Filters",
    "Need",
    "NeedMet",
    "OfferingIndex",
    "OfferingRecord",
    "OfferingTable",
    "RankedOffering",
    "RankedSchool",
    "RankingConfig",
    "RankingInputError",
    "Reaching",
    "SchoolQuery",
    "SchoolTable",
    "fit_and_reach",
    "need_index",
    "populations_from_indicators",
    "rank_offerings",
    "rank_organizations",
    "rank_schools",
]
