"""Priority at the top: the first result meets a need of the school's top priority.

Fit weights needs by priority, but a partner's track record (matching.history) or a nearer
offering can still put an offering for a lower-priority need first. When some row meeting no
top-priority need scores at least as high as every row that meets one (taxonomy credit > 0 on
a need of the top priority, not demoted), the best row meeting one gets a `priority`
contribution lifting it strictly above all others, so no tie-break can put another first:

    priority = best other score - its score + PRIORITY_MARGIN   (one row; 0 for all others)

Only that row moves (to first place); every other row keeps its score and its order, so
history keeps ordering the page below it. The lift is a contribution like any other: scores
stay the sum of their explained parts. When no eligible row meets a top-priority need,
nothing moves.
"""

from __future__ import annotations

import numpy as np

# Points the lifted row ends above the next row by (far below any score difference shown).
PRIORITY_MARGIN = 1e-6


def priority_lift(
    score: np.ndarray, ids: np.ndarray, meets_top: np.ndarray, candidates: np.ndarray
) -> np.ndarray:
    """Lift points per row: non-zero on at most one row (see the module docstring).

    candidates: bool, the rows that may be ranked at all; meets_top: bool, the rows meeting a
    top-priority need without a dominant problem. Among equal best rows meeting one, the
    lower id is lifted.
    """
    lift = np.zeros(len(score))
    mine = (candidates & meets_top).nonzero()[0]
    others = (candidates & ~meets_top).nonzero()[0]
    if not len(mine) or not len(others) or score[mine].max() > score[others].max():
        return lift
    best = mine[np.lexsort((ids[mine], -score[mine]))[0]]
    lift[best] = score[others].max() - score[best] + PRIORITY_MARGIN
    return lift
