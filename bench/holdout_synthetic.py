"""Leave-one-district-out style check of the ranking model on seeded synthetic districts.

Part of `partnermap bench holdout`: Oakland is one district, so this asks whether the same
code, with no constant fitted to any district, also beats the baselines where partners are
chosen differently. Five districts around five metro areas, each with its own synthetic
offerings (bench.synthetic, three per organization) and schools, and its own hidden rule for
how schools choose partners: each school takes two partners per need in turn (among offerings
of the need's branch serving its grades, with capacity, active), drawn with
probability proportional to exp(a * same category + b * log(1 + schools served so far) -
km / s), with (a, b, s) drawn per district (a in [1, 3], b in [0.3, 1.5], s in [2, 10] km).
Per district, 80/20 of its schools by seed: the history holds the training schools'
partnerships only; each held-out school's needs are the categories of its partnerships
(priority by count); relevant = the organizations that served it. The model ranks in process
(matching.rank_offerings, offerings -> organizations, top 10) twice: with the history weights
learned on the district's own training history, and with weights learned on the other four
districts' histories pooled (leave one district out). Baselines as in holdout:
schools_served and category_x_served on the same training history.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import statistics
from collections import Counter, defaultdict
from typing import Any

import numpy as np

from bench.synthetic import synthetic_offerings, synthetic_schools, synthetic_taxonomy
from geo.distance import haversine_km
from matching import OfferingIndex, RankingConfig, SchoolQuery, rank_offerings
from matching.history import History, learn_weights
from matching.tables import Need, OfferingTable, SchoolTable

K = 10
AS_OF = dt.date(2026, 3, 2)
METROS = (  # (west, south, east, north)
    (-122.35, 37.70, -122.10, 37.89),
    (-118.45, 33.90, -118.15, 34.15),
    (-87.80, 41.75, -87.55, 41.98),
    (-95.55, 29.65, -95.25, 29.90),
    (-84.50, 33.65, -84.30, 33.85),
)
OFFERINGS, SCHOOLS = 450, 160


@dataclasses.dataclass(frozen=True)
class District:
    offerings: OfferingTable
    schools: SchoolTable
    history: History  # training schools only
    questions: list[tuple[int, list[Need], set[int]]]  # held-out school row, needs, relevant


def run(seed: int = 0) -> dict[str, Any]:
    """Per district and mean: nDCG@10 of the model (own / other districts' weights) and of
    the baselines; printed, and returned for the JSON line."""
    parents, names = synthetic_taxonomy()
    codes = [c for c, p in parents.items() if p is not None]
    config = RankingConfig()
    districts = [_district(d, seed, codes) for d in range(len(METROS))]
    learned = [learn_weights(d.history, config) for d in districts]
    rows = []
    for d, district in enumerate(districts):
        pooled = learn_weights(
            _pool([x.history for i, x in enumerate(districts) if i != d]), config
        )
        index = OfferingIndex.build(district.offerings, parents, config, names=names)
        figures: dict[str, float] = {}
        for name, weights in (("own", learned[d].weights), ("others", pooled.weights)):
            index.history = dataclasses.replace(district.history, weights=weights)
            figures[f"model_{name}_weights"] = _ndcg(_model(index, district), district)
        for name, ranked in _baselines(district).items():
            figures[name] = _ndcg(ranked, district)
        rows.append({"district": d, "schools": len(district.questions), **figures})
    methods = [m for m in rows[0] if m not in ("district", "schools")]
    print("\nsynthetic districts (leave one district out), nDCG@10:")
    print(f"{'district':>8} {'schools':>7}  " + "  ".join(f"{m[:20]:>20}" for m in methods))
    for row in rows:
        cells = "  ".join(f"{row[m]:>20.3f}" for m in methods)
        print(f"{row['district']:>8} {row['schools']:>7}  {cells}")
    mean = {m: round(statistics.mean(r[m] for r in rows), 3) for m in methods}
    print(f"{'mean':>8} {'':>7}  " + "  ".join(f"{mean[m]:>20.3f}" for m in methods))
    baselines = ("schools_served", "category_x_served")
    return {
        "districts": rows,
        "mean": mean,
        "beats_every_baseline_every_district": all(
            r[m] > r[b] for r in rows for m in methods[:2] for b in baselines
        ),
    }


def _district(d: int, seed: int, codes: list[str]) -> District:
    bbox = METROS[d]
    offerings = synthetic_offerings(OFFERINGS, 1000 * seed + d, codes, bbox)
    schools = synthetic_schools(SCHOOLS, 1000 * seed + 100 + d, codes, bbox)
    rng = np.random.default_rng(1000 * seed + 200 + d)
    a, b, s = rng.uniform(1, 3), rng.uniform(0.3, 1.5), rng.uniform(2, 10)
    usable = _usable(offerings)
    org = np.asarray(offerings.organization_ids)
    served: Counter[int] = Counter()
    partnerships: list[tuple[int, int, str]] = []  # (school row, organization, category)
    for i in rng.permutation(len(schools.ids)):
        km = haversine_km(schools.lat[i], schools.lon[i], offerings.lat, offerings.lon)
        taken = np.zeros(len(org), dtype=bool)  # a school takes an organization once
        grades = (np.asarray(offerings.grade_low) <= schools.grade_high[i]) & (
            np.asarray(offerings.grade_high) >= schools.grade_low[i]
        )
        for need in schools.needs[i]:
            same = np.array([need.category in c for c in offerings.categories])
            branch = need.category.split(".")[0]
            near = np.array(
                [any(x.split(".")[0] == branch for x in c) for c in offerings.categories]
            )
            for _ in range(2):
                pop = np.array([served[o] for o in org.tolist()], dtype=float)
                utility = a * same + b * np.log1p(pop) - km / s
                pick = usable & grades & near & ~taken
                if not pick.any():
                    break
                p = np.where(pick, np.exp(utility - utility[pick].max()), 0.0)
                chosen = int(org[rng.choice(len(p), p=p / p.sum())])
                partnerships.append((int(i), chosen, need.category))
                served[chosen] += 1
                taken |= org == chosen
    order = rng.permutation(len(schools.ids))
    held = set(order[: round(0.2 * len(order))].tolist())
    train = [p for p in partnerships if p[0] not in held]
    history = History(
        organization_ids=np.array([p[1] for p in train], dtype=np.int64),
        school_ids=np.array([int(schools.ids[p[0]]) for p in train], dtype=np.int64),
        lat=np.array([schools.lat[p[0]] for p in train], dtype=float),
        lon=np.array([schools.lon[p[0]] for p in train], dtype=float),
        categories=tuple(frozenset({p[2]}) for p in train),
        need_index=np.array([schools.need_index[p[0]] for p in train], dtype=float),
    )
    sought: dict[int, Counter[str]] = defaultdict(Counter)
    relevant: dict[int, set[int]] = defaultdict(set)
    for i, o, category in partnerships:
        if i in held:
            sought[i][category] += 1
            relevant[i].add(o)
    questions = []
    for i in sorted(held):
        if not relevant[i]:
            continue
        levels = sorted(set(sought[i].values()), reverse=True)
        needs = [Need(c, priority=min(levels.index(n) + 1, 5)) for c, n in sought[i].items()]
        questions.append((i, needs, relevant[i]))
    return District(offerings, schools, history, questions)


def _usable(offerings: OfferingTable) -> np.ndarray:
    """Offerings a school can take on AS_OF: capacity left (or unknown) and active."""
    left = np.asarray(offerings.schools_left, dtype=float)
    seats = np.asarray(offerings.students_left, dtype=float)
    day = AS_OF
    active = np.array(
        [(f is None or f <= day) and (u is None or u >= day)
         for f, u in zip(offerings.active_from, offerings.active_until, strict=True)]
    )  # fmt: skip
    return ~(left <= 0) & ~(seats <= 0) & active


def _model(index: OfferingIndex, district: District) -> list[list[int]]:
    schools = district.schools
    out = []
    for i, needs, _ in district.questions:
        query = SchoolQuery(
            lat=float(schools.lat[i]),
            lon=float(schools.lon[i]),
            school_id=int(schools.ids[i]),
            locale=schools.locale[i],
            grade_low=int(schools.grade_low[i]),
            grade_high=int(schools.grade_high[i]),
            need_index=float(schools.need_index[i]),
        )
        ranked = rank_offerings(index, query, needs, k=100, as_of=AS_OF)
        out.append(list(dict.fromkeys(r.organization_id for r in ranked))[:K])
    return out


def _baselines(district: District) -> dict[str, list[list[int]]]:
    h = district.history
    pairs = set(zip(h.organization_ids.tolist(), h.school_ids.tolist(), strict=True))
    served = Counter(o for o, _ in pairs)
    categories: dict[int, set[str]] = defaultdict(set)
    for o, cats in zip(
        district.offerings.organization_ids, district.offerings.categories, strict=True
    ):
        categories[int(o)].update(cats)
    orgs = sorted(categories)

    def top(score: Any) -> list[int]:
        return sorted(orgs, key=lambda o: (-score(o), o))[:K]

    def overlap(needs: list[Need], o: int) -> float:
        return sum(1 / n.priority for n in needs if n.category in categories[o])

    return {
        "schools_served": [top(lambda o: served[o]) for _ in district.questions],
        "category_x_served": [
            top(lambda o, needs=needs: overlap(needs, o) * served[o])
            for _, needs, _ in district.questions
        ],
    }


def _ndcg(rankings: list[list[int]], district: District) -> float:
    scores = []
    for ranked, (_, _, rel) in zip(rankings, district.questions, strict=True):
        gain = sum(1 / math.log2(i + 2) for i, o in enumerate(ranked[:K]) if o in rel)
        ideal = sum(1 / math.log2(i + 2) for i in range(min(K, len(rel))))
        scores.append(gain / ideal)
    return round(statistics.mean(scores), 4) if scores else 0.0


def _pool(histories: list[History]) -> History:
    """Histories of several districts as one (their ids are offset apart)."""
    offset = 10_000_000
    return History(
        organization_ids=np.concatenate(
            [h.organization_ids + i * offset for i, h in enumerate(histories)]
        ),
        school_ids=np.concatenate([h.school_ids + i * offset for i, h in enumerate(histories)]),
        lat=np.concatenate([h.lat for h in histories]),
        lon=np.concatenate([h.lon for h in histories]),
        categories=tuple(c for h in histories for c in h.categories),
    )
