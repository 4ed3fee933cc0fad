"""Priority at the top: the first result meets a need of the school's top priority.

Fit weights needs by priority, but a partner's track record (matching.history) or a nearer
offering can still put an offering for a lower-priority need first. When the best-scoring row
meets no top-priority need and some eligible row does (taxonomy credit > 0 on a need of the
top priority, not demoted), the best such row gets a `priority` contribution lifting it just
above the first row:

    priority = max(0, best score - its score) + PRIORITY_MARGIN   (one row; 0 for all others)

Only that row moves (to first place); every other row keeps its score and its order, so
history keeps ordering the page below it. The lift is a contribution like any other: scores
stay the sum of their explained parts.
"""

from __future__ import annotations

import numpy as np

# Points the lifted row ends above the first row by (far below any score difference shown).
PRIORITY_MARGIN = 1e-6


def priority_lift(
    score: np.ndarray, ids: np.ndarray, meets_top: np.ndarray, candidates: np.ndarray
) -> np.ndarray:
    """Lift points per row: non-zero on at most one row (see the module docstring).

    candidates: bool, the rows that may be ranked at all; meets_top: bool, the rows meeting a
    top-priority need without a dominant problem. Ties are read as the ranking reads them
    (higher score, then lower id).
    """
    lift = np.zeros(len(score))
    rows = np.flatnonzero(candidates)
    if not len(rows):
        return lift
    first = rows[np.lexsort((ids[rows], -score[rows]))[0]]
    mine = rows[meets_top[rows]]
    if meets_top[first] or not len(mine):
        return lift
    best = mine[np.lexsort((ids[mine], -score[mine]))[0]]
    lift[best] = score[first] - score[best] + PRIORITY_MARGIN
    return lift
