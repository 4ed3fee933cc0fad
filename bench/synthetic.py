"""Seeded synthetic offerings and schools FOR SCALE BENCHMARKS ONLY.

Nothing here describes real organizations or schools; the demo and every behaviour test use
real or hand-written records. The generator only reproduces the shapes that make ranking
expensive, so timings are honest:

- locations: 85 % clustered around 300 "cities" (Pareto-sized, Gaussian spread of 2-25 km),
  15 % uniform over the bounding box, so dense metros produce large spatial candidate sets;
- 10 % of offerings deliver virtually and 8 % declare a service radius (10-300 km): the
  candidates every query must consider regardless of distance;
- 1-3 categories per offering, half of the extras in the same branch (realistic overlap);
- descriptions of ~16 words: topical words of the category branch, common program words and
  two rare tokens from a 50,000-word pseudo-vocabulary (a realistic TF-IDF vocabulary size);
- schedule, delivery, languages, cost, capacity (5 % full), populations, dates, verification
  drawn with fixed, plausible frequencies.

Same (n, seed, codes, bbox) -> same tables, on every machine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from matching.history import History
from matching.need_index import need_index, populations_from_indicators
from matching.tables import Need, OfferingTable, SchoolTable

# (min lon, min lat, max lon, max lat): the contiguous United States.
CONUS_BBOX = (-124.8, 24.5, -66.9, 49.4)

SYNTHETIC_TAXONOMY: dict[str, tuple[str, ...]] = {
    "academic_support": ("tutoring", "homework_help", "test_prep"),
    "stem": ("coding", "robotics", "science_enrichment"),
    "literacy": ("reading_tutoring", "library_programs", "writing"),
    "arts": ("music", "visual_arts", "theater"),
    "sports": ("team_sports", "fitness", "swimming"),
    "mentoring": ("one_to_one", "group_mentoring"),
    "career": ("internships", "job_shadowing", "career_exploration"),
    "college_access": ("advising", "financial_aid", "campus_visits"),
    "health": ("dental", "vision", "school_based_clinic"),
    "mental_health_sel": ("counseling", "sel_curriculum", "crisis_support"),
    "nutrition_food": ("food_pantry", "meals", "nutrition_education"),
    "family_engagement": ("parent_workshops", "adult_esl", "family_events"),
    "basic_needs": ("clothing", "school_supplies", "housing_support"),
    "educator_pd": ("coaching", "workshops"),
    "facilities_funding": ("equipment", "grants", "volunteers"),
    "expanded_learning": ("after_school", "summer_camp"),
    "transportation": ("bus_passes", "rides"),
}

_COMMON_WORDS = (
    "program",
    "students",
    "youth",
    "families",
    "school",
    "community",
    "support",
    "free",
    "weekly",
    "sessions",
    "staff",
    "trained",
    "volunteers",
    "partner",
    "local",
    "district",
    "k12",
    "middle",
    "high",
    "elementary",
    "after",
    "summer",
    "learning",
    "skills",
    "hands-on",
    "small",
    "groups",
    "caring",
    "adults",
    "safe",
    "space",
    "bilingual",
    "outreach",
    "year",
    "round",
    "enrichment",
    "resources",
    "access",
    "equity",
    "engagement",
    "leadership",
    "growth",
    "confidence",
)

T = TypeVar("T")


def synthetic_taxonomy() -> tuple[dict[str, str | None], dict[str, str]]:
    """Code -> parent mapping and code -> display name of the benchmark taxonomy."""
    parents: dict[str, str | None] = {}
    names: dict[str, str] = {}
    for branch, children in SYNTHETIC_TAXONOMY.items():
        parents[branch] = None
        names[branch] = branch.replace("_", " ").capitalize()
        for child in children:
            parents[f"{branch}.{child}"] = branch
            names[f"{branch}.{child}"] = child.replace("_", " ").capitalize()
    return parents, names


def synthetic_offerings(
    n: int,
    seed: int,
    taxonomy_codes: Sequence[str],
    bbox: tuple[float, float, float, float] = CONUS_BBOX,
) -> OfferingTable:
    """n synthetic offerings for scale benchmarks (see the module docstring)."""
    rng = np.random.default_rng(seed)
    lat, lon = _locations(rng, n, bbox)
    categories = _categories(rng, n, taxonomy_codes)
    grades = np.array([(-1, 5), (0, 5), (6, 8), (9, 12), (0, 12), (6, 12), (3, 8), (-1, 12)])
    band = grades[rng.integers(0, len(grades), n)]
    cost = _pick(rng, n, ["free", "sliding_scale", "fee", None], [0.45, 0.15, 0.25, 0.15])
    fee = np.where(np.array([c == "fee" for c in cost]), rng.integers(20, 500, n), np.nan)
    known = rng.random(n) < 0.5
    schools_left = np.where(known, rng.integers(0, 20, n) * (rng.random(n) > 0.1), np.nan)
    students_left = np.where(known, rng.integers(0, 400, n) * (rng.random(n) > 0.05), np.nan)
    start, end = dt.date(2025, 8, 1), dt.date(2026, 6, 30)
    dates = _pick(
        rng,
        n,
        [(None, None), (None, end), (start, None), (dt.date(2027, 1, 1), None)],
        [0.85, 0.08, 0.04, 0.03],
    )
    radius = np.where(rng.random(n) < 0.08, np.exp(rng.uniform(np.log(10), np.log(300), n)), np.nan)
    return OfferingTable(
        ids=np.arange(1, n + 1, dtype=np.int64),
        organization_ids=(np.arange(n, dtype=np.int64) // 3) + 1,
        lat=lat,
        lon=lon,
        categories=categories,
        grade_low=band[:, 0],
        grade_high=band[:, 1],
        schedule=_pick(
            rng,
            n,
            _sets(
                "during_school",
                "after_school",
                "weekends",
                "summer",
                "after_school weekends",
                "after_school summer",
                "",
            ),
            [0.3, 0.3, 0.05, 0.05, 0.1, 0.1, 0.1],
        ),
        delivery=_pick(
            rng,
            n,
            _sets(
                "at_school",
                "at_partner_site",
                "virtual",
                "at_school virtual",
                "at_school at_partner_site",
                "",
            ),
            [0.4, 0.25, 0.06, 0.04, 0.15, 0.1],
        ),
        languages=_pick(
            rng,
            n,
            _sets("", "en", "en es", "es", "en zh", "en vi", "en es zh"),
            [0.45, 0.15, 0.2, 0.05, 0.06, 0.05, 0.04],
        ),
        cost=cost,
        cost_amount=fee,
        schools_left=schools_left,
        students_left=students_left,
        populations=_pick(
            rng,
            n,
            _sets(
                "",
                "title_i",
                "english_learners low_income",
                "students_with_disabilities",
                "rural",
                "foster_youth homeless",
                "newcomers english_learners",
            ),
            [0.5, 0.15, 0.12, 0.08, 0.05, 0.05, 0.05],
        ),
        active_from=[d[0] for d in dates],
        active_until=[d[1] for d in dates],
        texts=_texts(rng, categories, 16),
        verified=rng.random(n) < 0.7,
        service_radius_km=radius,
        has_service_area=rng.random(n) < 0.05,
    )


def synthetic_schools(
    n: int,
    seed: int,
    taxonomy_codes: Sequence[str],
    bbox: tuple[float, float, float, float] = CONUS_BBOX,
) -> SchoolTable:
    """n synthetic schools with 1-5 needs each, near the same cities as synthetic_offerings
    with the same bbox (the city layout depends on bbox only, not on seed)."""
    rng = np.random.default_rng(seed)
    lat, lon, locale = _school_locations(rng, n, bbox)
    frl = rng.uniform(5, 100, n)
    el = rng.uniform(0, 50, n)
    swd = rng.uniform(5, 25, n)
    absent = rng.uniform(5, 50, n)
    title = (frl > 40).astype(float)
    index = need_index(frl, title, el, swd, absent, np.array(locale, dtype=object))
    bands = [(-1, 5), (0, 5), (6, 8), (9, 12), (0, 8)]
    band = [bands[i] for i in rng.integers(0, len(bands), n)]
    codes = list(taxonomy_codes)
    needs = []
    for i in range(n):
        count = int(rng.integers(1, 6))
        picks = rng.choice(len(codes), size=count, replace=False)
        words = rng.choice(_COMMON_WORDS, size=(count, 6))
        needs.append(
            [
                Need(
                    category=codes[c],
                    priority=p + 1,
                    grade_low=band[i][0],
                    grade_high=band[i][1],
                    students_affected=int(rng.integers(10, 300)),
                    languages=frozenset({"es"}) if rng.random() < 0.2 else frozenset(),
                    schedule=frozenset({"after_school"}) if rng.random() < 0.3 else frozenset(),
                    notes=" ".join([*codes[c].replace(".", " ").split("_"), *words[p]]),
                )
                for p, c in enumerate(picks)
            ]
        )
    return SchoolTable(
        ids=np.arange(1, n + 1, dtype=np.int64),
        lat=lat,
        lon=lon,
        locale=locale,
        grade_low=np.array([b[0] for b in band]),
        grade_high=np.array([b[1] for b in band]),
        need_index=index,
        languages=[frozenset({"en", "es"}) if e > 20 else frozenset({"en"}) for e in el],
        populations=[
            populations_from_indicators(frl_pct=f, title_i=bool(t), el_pct=e, swd_pct=s, locale=lc)
            for f, t, e, s, lc in zip(frl, title, el, swd, locale, strict=True)
        ],
        needs=needs,
    )


# --- internals -------------------------------------------------------------------------------


def synthetic_history(offerings: OfferingTable, n: int, seed: int) -> History:
    """n partnerships between synthetic offerings' organizations and schools near them, for
    scale benchmarks of the ranking's track-record signal: each picks an offering at random,
    a school 0-15 km from it (its own id; one school in five of the partnerships repeats an
    earlier school, so schools have several partners), one or two of the offering's categories
    as the needs served, and a need index in [0, 1]. Real histories (the Oakland records) hold
    ~1,200 rows for ~100 schools; a national one may hold hundreds of thousands."""
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(offerings), n)
    km = rng.uniform(0, 15, n)
    bearing = rng.uniform(0, 2 * np.pi, n)
    lat = offerings.lat[pick] + km * np.cos(bearing) / 111.2
    lon = offerings.lon[pick] + km * np.sin(bearing) / (111.2 * np.cos(np.radians(lat)))
    school_ids = np.arange(1, n + 1, dtype=np.int64)
    again = (rng.random(n) < 0.2) & (np.arange(n) > 0)  # the first has no earlier school
    earlier = (rng.random(n) * np.arange(n)).astype(np.int64)
    school_ids = np.where(again, school_ids[earlier], school_ids)
    lat = np.where(again, lat[earlier], lat)
    lon = np.where(again, lon[earlier], lon)
    categories = tuple(
        frozenset(offerings.categories[i][: 1 + int(rng.random() < 0.3)]) for i in pick.tolist()
    )
    return History(
        organization_ids=offerings.organization_ids[pick].astype(np.int64),
        school_ids=school_ids,
        lat=lat,
        lon=lon,
        categories=categories,
        need_index=rng.uniform(0, 1, n),
    )


def _cities(bbox: tuple[float, float, float, float]) -> tuple[np.ndarray, ...]:
    """300 city centres with Pareto weights and spreads (degrees), fixed per bbox."""
    rng = np.random.default_rng(20260101)
    x0, y0, x1, y1 = bbox
    count = 300
    lon = rng.uniform(x0, x1, count)
    lat = rng.uniform(y0, y1, count)
    size = rng.pareto(1.2, count) + 1
    weight = size / size.sum()
    spread = np.clip(0.02 * np.sqrt(size), 0.02, 0.25)
    return lat, lon, weight, spread


def _locations(
    rng: np.random.Generator, n: int, bbox: tuple[float, float, float, float]
) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = bbox
    c_lat, c_lon, weight, spread = _cities(bbox)
    city = rng.choice(len(weight), size=n, p=weight)
    lat = c_lat[city] + rng.normal(0, 1, n) * spread[city]
    lon = c_lon[city] + rng.normal(0, 1, n) * spread[city] / np.cos(np.radians(c_lat[city]))
    uniform = rng.random(n) < 0.15
    lat = np.where(uniform, rng.uniform(y0, y1, n), lat)
    lon = np.where(uniform, rng.uniform(x0, x1, n), lon)
    return np.clip(lat, y0, y1), np.clip(lon, x0, x1)


def _school_locations(
    rng: np.random.Generator, n: int, bbox: tuple[float, float, float, float]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    x0, y0, x1, y1 = bbox
    c_lat, c_lon, weight, spread = _cities(bbox)
    city = rng.choice(len(weight), size=n, p=weight)
    offset = rng.normal(0, 1, (n, 2))
    lat = np.clip(c_lat[city] + offset[:, 0] * spread[city], y0, y1)
    lon = np.clip(c_lon[city] + offset[:, 1] * spread[city] / np.cos(np.radians(lat)), x0, x1)
    radius = np.hypot(offset[:, 0], offset[:, 1])
    locale = np.select(
        [radius < 0.7, radius < 1.5, radius < 2.2], ["city", "suburb", "town"], "rural"
    )
    return lat, lon, [str(x) for x in locale]


def _pick(rng: np.random.Generator, n: int, pool: Sequence[T], p: Sequence[float]) -> list[T]:
    """n draws from a pool of shared objects (no per-row allocation)."""
    chosen = rng.choice(len(pool), size=n, p=np.asarray(p) / np.sum(p))
    return [pool[i] for i in chosen.tolist()]


def _sets(*specs: str) -> list[frozenset[str]]:
    return [frozenset(spec.split()) for spec in specs]


def _categories(rng: np.random.Generator, n: int, codes: Sequence[str]) -> list[tuple[str, ...]]:
    """1-3 categories per row, drawn from a pool of 20,000 combinations."""
    codes = list(codes)
    branch = [c.split(".")[0] for c in codes]
    by_branch: dict[str, list[str]] = {}
    for code, b in zip(codes, branch, strict=True):
        by_branch.setdefault(b, []).append(code)
    pool = []
    for _ in range(20_000):
        first = codes[int(rng.integers(len(codes)))]
        combo = [first]
        for _ in range(int(rng.choice([0, 1, 2], p=[0.5, 0.35, 0.15]))):
            same = by_branch[first.split(".")[0]]
            source = same if rng.random() < 0.5 else codes
            combo.append(source[int(rng.integers(len(source)))])
        pool.append(tuple(dict.fromkeys(combo)))
    return [pool[i] for i in rng.integers(0, len(pool), n).tolist()]


def _texts(
    rng: np.random.Generator, categories: Sequence[tuple[str, ...]], length: int
) -> list[str]:
    """~length words: topical words of the first category, common words, two rare tokens."""
    words = np.array(_COMMON_WORDS, dtype=object)
    n = len(categories)
    common = words[rng.integers(0, len(words), (n, length - 6))]
    rare = rng.zipf(1.5, (n, 2)) % 50_000
    topic_of: dict[str, list[str]] = {}
    texts = []
    for i, cats in enumerate(categories):
        first = cats[0]
        topic = topic_of.get(first)
        if topic is None:
            topic = topic_of[first] = first.replace(".", " ").replace("_", " ").split()
        texts.append(" ".join([*topic, *common[i].tolist(), f"w{rare[i, 0]}", f"w{rare[i, 1]}"]))
    return texts
