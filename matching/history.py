"""Track record: what the district's partnership history says about an organization.

    track[o]  = log(1 + schools o served) / log(1 + most schools any organization served)
    like[o]   = sum over schools s o served of sim(school, s) / max over organizations
    sim(q, s) = need overlap(q, s) * exp(-distance(q, s) / scale)   (schools like this one)
    history   = track_weight * track + like_weight * like

need overlap is the priority-weighted share of the school's needs among the categories s
received (same category 1, same branch sibling_credit). Organizations with no history score 0
here: their cold-start floor is the rest of the model (fit, reach, constraints, equity), which
history adds to and never subtracts from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from geo.distance import haversine_km
from matching.config import RankingConfig
from matching.tables import Need


@dataclass(frozen=True)
class History:
    """Completed or active partnerships, one row per (school, organization) pair."""

    organization_ids: np.ndarray  # int64
    school_ids: np.ndarray  # int64
    lat: np.ndarray  # float64, the school's
    lon: np.ndarray
    categories: tuple[frozenset[str], ...]  # need categories the partnership served

    @classmethod
    def empty(cls) -> History:
        nothing = np.zeros(0)
        return cls(nothing.astype(np.int64), nothing.astype(np.int64), nothing, nothing, ())

    def __len__(self) -> int:
        return len(self.organization_ids)


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
    if not len(history) or not (config.track_weight or config.like_weight):
        return zeros, zeros, zeros
    orgs, org_row = np.unique(history.organization_ids, return_inverse=True)
    pairs = np.unique(np.stack([org_row, history.school_ids]), axis=1)
    served = np.bincount(pairs[0], minlength=len(orgs)).astype(float)
    track = np.log1p(served) / np.log1p(served.max())
    similarity = _overlap(history.categories, needs, config) * np.exp(
        -haversine_km(lat, lon, history.lat, history.lon) / config.like_scale_km
    )
    like = np.bincount(org_row, weights=similarity, minlength=len(orgs))
    like = like / like.max() if like.max() > 0 else like
    at = np.searchsorted(orgs, organization_ids)
    known = (at < len(orgs)) & (orgs[np.minimum(at, len(orgs) - 1)] == organization_ids)
    at = np.minimum(at, len(orgs) - 1)
    t = np.where(known, track[at], 0.0)
    s = np.where(known, like[at], 0.0)
    return config.track_weight * t + config.like_weight * s, np.where(known, served[at], 0.0), s


def _overlap(
    categories: tuple[frozenset[str], ...], needs: Sequence[Need], config: RankingConfig
) -> np.ndarray:
    """Priority-weighted share of the needs each history row served (a branch counts less)."""
    weights = {n.category: config.priority_weight(n.priority) for n in needs}
    total = sum(weights.values())
    branches: dict[str, float] = {}
    for code, w in weights.items():
        branch = code.split(".")[0]
        branches[branch] = max(branches.get(branch, 0.0), w)
    out = np.zeros(len(categories))
    for i, served in enumerate(categories):
        exact = sum(w for c, w in weights.items() if c in served)
        near = {c.split(".")[0] for c in served} - {c.split(".")[0] for c in served & set(weights)}
        out[i] = (exact + config.sibling_credit * sum(branches.get(b, 0.0) for b in near)) / total
    return np.minimum(out, 1.0)
