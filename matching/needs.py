"""A school's needs (or many schools' needs) laid out as padded arrays for the scoring kernel."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from matching.columns import OfferingColumns
from matching.config import RankingConfig
from matching.scoring import NeedArrays
from matching.tables import Need
from matching.taxonomy import CategoryTree
from matching.vocab import DELIVERIES, SCHEDULES, LanguageCodes, bitmask


@dataclass(frozen=True)
class NeedLayout:
    """Needs of G schools as (G, J) arrays, their credit table and query texts."""

    needs: NeedArrays
    credit_table: np.ndarray  # (distinct need categories + 1 unassessed row, categories + 1)
    slot_rows: list[list[int]]  # per group, per slot: its credit table row
    texts: list[str]  # per group, per slot (padded): the need's query text


def layout_needs(
    groups: Sequence[Sequence[Need | None]],
    grades: Sequence[tuple[int, int]],
    tree: CategoryTree,
    languages: LanguageCodes,
    cfg: RankingConfig,
    texts_for: Collection[str] | None = None,
) -> NeedLayout:
    """Needs of each group (school) as padded (G, J) arrays plus their credit table.

    texts_for: the need categories whose query text matters (others earn no credit, so their
    text similarity is never used); None = all.
    """
    categories = sorted({n.category for group in groups for n in group if n is not None})
    table = tree.credit(tree.lookup(categories), cfg.sibling_credit, cfg.branch_credit)
    table = np.concatenate([table, _unassessed_row(table.shape[1], cfg.unassessed_credit)])
    row_of = {code: i for i, code in enumerate(categories)}
    width = max(len(group) for group in groups)
    # Filled as Python lists (a few entries per need), converted once at the end.
    credit_row = [[len(categories)] * width for _ in groups]
    weight = [[0.0] * width for _ in groups]
    low = [[0] * width for _ in groups]
    high = [[0] * width for _ in groups]
    schedule = [[0] * width for _ in groups]
    delivery = [[0] * width for _ in groups]
    no_language = np.zeros(LanguageCodes.WORDS, dtype=np.uint64)
    langs = [[no_language] * width for _ in groups]
    has_langs = [[False] * width for _ in groups]
    students = [[math.nan] * width for _ in groups]
    valid = [[False] * width for _ in groups]
    texts = [""] * (len(groups) * width)
    slot_rows: list[list[int]] = []
    for g, group in enumerate(groups):
        low[g] = [grades[g][0]] * width
        high[g] = [grades[g][1]] * width
        for j, need in enumerate(group):
            valid[g][j] = True
            weight[g][j] = 1.0
            if need is not None:
                credit_row[g][j] = row_of[need.category]
                weight[g][j] = cfg.priority_weight(need.priority)
                low[g][j] = grades[g][0] if need.grade_low is None else need.grade_low
                high[g][j] = grades[g][1] if need.grade_high is None else need.grade_high
                schedule[g][j] = bitmask(need.schedule, SCHEDULES, "schedule")
                delivery[g][j] = bitmask(need.delivery, DELIVERIES, "delivery")
                if need.languages:
                    langs[g][j] = languages.mask(need.languages)
                    has_langs[g][j] = True
                if need.students_affected is not None:
                    students[g][j] = need.students_affected
                if texts_for is None or need.category in texts_for:
                    texts[g * width + j] = f"{tree.name(need.category)} {need.notes}"
        slot_rows.append(credit_row[g][: len(group)])
    needs = NeedArrays(
        credit_row=np.array(credit_row, dtype=np.intp),
        weight=np.array(weight, dtype=np.float64),
        grade_low=np.array(low, dtype=np.int64),
        grade_high=np.array(high, dtype=np.int64),
        schedule=np.array(schedule, dtype=np.uint8),
        delivery=np.array(delivery, dtype=np.uint8),
        languages=np.array(langs, dtype=np.uint64).reshape(len(groups), width, -1),
        has_languages=np.array(has_langs, dtype=bool),
        students=np.array(students, dtype=np.float64),
        valid=np.array(valid, dtype=bool),
    )
    return NeedLayout(needs, table, slot_rows, texts)


@lru_cache(maxsize=8)
def _unassessed_row(width: int, credit: float) -> np.ndarray:
    """The credit table's last row: what a school that filed no need gives every category
    (the padding column, id -1, earns nothing). Read-only, shared between layouts."""
    row = np.full((1, width), credit, dtype=np.float32)
    row[0, -1] = 0.0
    row.flags.writeable = False
    return row


def credited_categories(
    tree: CategoryTree, codes: Collection[str], off: OfferingColumns, cfg: RankingConfig
) -> set[str]:
    """The need categories some of these offerings earn taxonomy credit for."""
    ordered = sorted(codes)
    if not ordered:
        return set()
    table = tree.credit(tree.lookup(ordered), cfg.sibling_credit, cfg.branch_credit)
    earned = table[:, off.categories].reshape(len(ordered), -1).max(axis=1) > 0
    return {code for code, hit in zip(ordered, earned, strict=True) if hit}
