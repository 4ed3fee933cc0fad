"""Track record: what the district's partnership history says about an organization.

    track[o]  = log(1 + schools o served) / log(1 + most schools any organization served)
    like[o]   = sum over schools s o served of sim(school, s) / max over organizations
    sim(q, s) = need overlap(q, s) * exp(-distance(q, s) / scale)   (schools like this one)
    history   = (track_weight * track + like_weight * like) * fit / fit_weight

History scales with how well this offering fits the needs (fit / fit_weight in [0, 1], with
priority weights in it). It counts for every fitting offering: which partner a school like this
one chose is the strongest signal the district has. That a top-priority need leads the page is
kept by matching.priority (the first place goes to the best offering for the top priority).

The two weights are learned from the history itself (learn_weights: a LogisticRegression on
leave-one-school-out pairs of the district's own partnerships), scaled against fit_weight
through the coefficient of the category-overlap feature, so no district's constants are built
in; with too little history the documented config defaults apply.
need overlap is the priority-weighted share of the school's needs among the categories s
received (same category 1, same branch sibling_credit). Organizations with no history get a
cold-start floor: the track record of a partner of one school (like 0: no school chose it
yet), on top of the rest of the model (fit, reach, constraints, equity); history never
subtracts.

The equity record (high_need_record) is the mean need index of the schools an organization
served; matching.scoring blends it into the forward equity value, so equity acts where offerings
state no cost, populations or languages. A partner with no history gets the district's mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from sklearn.linear_model import LogisticRegression

from geo.distance import haversine_km
from matching.config import RankingConfig
from matching.scoring import school_need_index
from matching.tables import Need

# Below this many schools with partnerships, the history is too thin to learn from.
MIN_SCHOOLS = 10
# School x organization pairs the weights are fitted on, at most (bounds time and memory).
MAX_PAIRS = 1_000_000


@dataclass(frozen=True)
class History:
    """Completed or active partnerships, one row per (school, organization) pair."""

    organization_ids: np.ndarray  # int64
    school_ids: np.ndarray  # int64
    lat: np.ndarray  # float64, the school's
    lon: np.ndarray
    categories: tuple[frozenset[str], ...]  # need categories the partnership served
    weights: tuple[float, float] | None = None  # learned (track, like); None: config's
    need_index: np.ndarray | None = None  # float64, the school's (NaN unknown); None: unknown

    @classmethod
    def empty(cls) -> History:
        nothing = np.zeros(0)
        return cls(nothing.astype(np.int64), nothing.astype(np.int64), nothing, nothing, ())

    def __len__(self) -> int:
        return len(self.organization_ids)


def high_need_record(
    history: History, organization_ids: np.ndarray, config: RankingConfig
) -> np.ndarray | None:
    """Per organization id, the mean need index of the schools it served (the equity
    record, matching.scoring); an organization with no history gets the district's mean over
    all partnerships (unknown is not wrong). None when there is no history to read."""
    if not len(history) or history.need_index is None:
        return None
    orgs, record, mean = _rows(history).record(config)
    at = np.minimum(np.searchsorted(orgs, organization_ids), len(orgs) - 1)
    known = orgs[at] == organization_ids
    return np.where(known, record[at], mean)


def history_points(
    history: History,
    lat: float,
    lon: float,
    needs: Sequence[Need],
    organization_ids: np.ndarray,
    config: RankingConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(points, schools served, like) per organization id: the history component of the score."""
    zeros = np.zeros(len(organization_ids))
    track_weight, like_weight = history.weights or (config.track_weight, config.like_weight)
    if not len(history) or not (track_weight or like_weight):
        return zeros, zeros, zeros
    rows = _rows(history)
    orgs, served, track = rows.orgs, rows.served, rows.track
    similarity = rows.overlap(needs, config) * np.exp(
        -haversine_km(lat, lon, history.lat, history.lon) / config.like_scale_km
    )
    like = np.bincount(rows.org_row, weights=similarity, minlength=len(orgs))
    like = like / like.max() if like.max() > 0 else like
    at = np.searchsorted(orgs, organization_ids)
    known = (at < len(orgs)) & (orgs[np.minimum(at, len(orgs) - 1)] == organization_ids)
    at = np.minimum(at, len(orgs) - 1)
    # Cold-start floor: a partner with no history counts as a partner of one school (like 0).
    t = np.where(known, track[at], rows.cold_track)
    s = np.where(known, like[at], 0.0)
    return track_weight * t + like_weight * s, np.where(known, served[at], 0.0), s


class _Rows:
    """What a ranking reads of the history that does not depend on the school: the
    organizations and their track records, and which history rows served each category and
    each branch. Made once per History (`_rows`), so a ranking does no per-row Python work."""

    def __init__(self, history: History) -> None:
        self.history = history
        self.orgs, self.org_row = np.unique(history.organization_ids, return_inverse=True)
        pairs = np.unique(np.stack([self.org_row, history.school_ids]), axis=1)
        self.served = np.bincount(pairs[0], minlength=len(self.orgs)).astype(float)
        most = np.log1p(self.served.max()) if len(self.orgs) else 1.0
        self.track = np.log1p(self.served) / most
        self.cold_track = float(np.log1p(1.0) / most)
        n = len(history.categories)
        self.category: dict[str, np.ndarray] = {}  # code -> rows that served it
        self.branch: dict[str, np.ndarray] = {}  # branch -> rows that served one of its codes
        for i, served in enumerate(history.categories):
            for code in served:
                self.category.setdefault(code, np.zeros(n, dtype=bool))[i] = True
                self.branch.setdefault(code.split(".")[0], np.zeros(n, dtype=bool))[i] = True
        self._record: tuple[RankingConfig, tuple[np.ndarray, np.ndarray, float]] | None = None

    def record(self, config: RankingConfig) -> tuple[np.ndarray, np.ndarray, float]:
        """(organizations, their equity records, the district's mean) for high_need_record."""
        held = self._record
        if held is not None and (held[0] is config or held[0] == config):  # `is`: no field walk
            return held[1]
        history = self.history
        assert history.need_index is not None
        pairs, first = np.unique(
            np.stack([history.organization_ids, history.school_ids]), axis=1, return_index=True
        )
        need = school_need_index(history.need_index[first], config)
        orgs, org_row = np.unique(pairs[0], return_inverse=True)
        record = np.bincount(org_row, weights=need) / np.bincount(org_row)
        answer = (orgs, record, float(need.mean()))
        self._record = (config, answer)
        return answer

    def overlap(self, needs: Sequence[Need], config: RankingConfig) -> np.ndarray:
        """Priority-weighted share of the needs each history row served: a need's category
        counts its weight; a branch of the needs that a row served only through other
        categories counts sibling_credit times the branch's highest weight."""
        weights = {n.category: config.priority_weight(n.priority) for n in needs}
        total = sum(weights.values())
        n = len(self.history.categories)
        exact = np.zeros(n)
        branches: dict[str, float] = {}
        matched: dict[str, np.ndarray] = {}  # branch -> rows that served a need in it
        for code, w in weights.items():  # in the needs' order, as a sum over them would add
            branch = code.split(".")[0]
            branches[branch] = max(branches.get(branch, 0.0), w)
            rows = self.category.get(code)
            if rows is not None:
                exact += w * rows  # adding 0.0 where the row did not serve it changes nothing
                matched[branch] = rows | matched[branch] if branch in matched else rows
        near = np.zeros(n)
        for branch, w in branches.items():
            rows = self.branch.get(branch)
            if rows is not None:
                near += w * (rows & ~matched[branch] if branch in matched else rows)
        return np.minimum((exact + config.sibling_credit * near) / total, 1.0)


def _rows(history: History) -> _Rows:
    """The history's school-independent rows, made on first use and kept with it."""
    rows: _Rows | None = history.__dict__.get("_rows")
    if rows is None:
        rows = _Rows(history)
        object.__setattr__(history, "_rows", rows)  # History is frozen; this is a cache
    return rows


def learn_weights(history: History, config: RankingConfig) -> History:
    """The history with (track, like) weights fitted on its own partnerships: each school's
    partners against every other organization, features computed without that school."""
    schools, school_row = np.unique(history.school_ids, return_inverse=True)
    orgs, org_row = np.unique(history.organization_ids, return_inverse=True)
    if len(schools) < MIN_SCHOOLS or len(orgs) < 2:
        return replace(history, weights=None)
    codes = sorted(set().union(*history.categories))
    code_at = {c: i for i, c in enumerate(codes)}
    served = np.zeros((len(schools), len(orgs)))
    served[school_row, org_row] = 1.0
    wanted = np.zeros((len(schools), len(codes)))  # categories each school received
    given = np.zeros((len(orgs), len(codes)))  # times each organization served a category
    rows_of: list[list[tuple[int, int]]] = [[] for _ in schools]  # (org, code) per school
    for row, cats in enumerate(history.categories):
        for c in cats:
            wanted[school_row[row], code_at[c]] = 1.0
            given[org_row[row], code_at[c]] += 1.0
            rows_of[school_row[row]].append((org_row[row], code_at[c]))
    lat = np.bincount(school_row, weights=history.lat) / np.bincount(school_row)
    lon = np.bincount(school_row, weights=history.lon) / np.bincount(school_row)
    distance = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    shared = wanted @ wanted.T / np.maximum(wanted.sum(axis=1, keepdims=True), 1.0)
    similarity = shared * np.exp(-distance / config.like_scale_km)
    np.fill_diagonal(similarity, 0.0)  # leave the school out of its own neighbours
    count = served.sum(axis=0)
    features, labels = [], []
    # Every school up to MAX_PAIRS pairs; past it an even, deterministic sample of schools.
    step = max(1, (len(schools) * len(orgs)) // MAX_PAIRS)
    for s in range(0, len(schools), step):
        others = given.copy()  # what each organization served elsewhere
        for org, code in rows_of[s]:
            others[org, code] -= 1.0
        overlap = (others > 0) @ wanted[s] / max(wanted[s].sum(), 1.0)
        track = np.log1p(count - served[s]) / np.log1p(count.max())
        like = similarity[s] @ served
        like = like / like.max() if like.max() > 0 else like
        features.append(np.stack([overlap, track, like], axis=1))
        labels.append(served[s])
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(np.concatenate(features), np.concatenate(labels))
    overlap_coef, track_coef, like_coef = model.coef_[0]
    if overlap_coef <= 0:
        return replace(history, weights=None)
    weights = np.clip(np.array([track_coef, like_coef]) / overlap_coef * config.fit_weight, 0, None)
    cap = config.track_weight + config.like_weight  # keeps demotion above every score spread
    weights *= min(1.0, cap / max(weights.sum(), 1e-12))
    return replace(history, weights=(float(weights[0]), float(weights[1])))


def fitted_history(points: np.ndarray, fit: np.ndarray, config: RankingConfig) -> np.ndarray:
    """History points of rows scaled by their fit share (priority weights are in it), so a
    partner's track record counts in proportion to how well this offering meets the needs.
    Priority at the top is kept by matching.priority, not by silencing history."""
    if not config.fit_weight:
        return np.zeros_like(points)
    return points * np.clip(fit / config.fit_weight, 0.0, 1.0)
