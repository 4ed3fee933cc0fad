"""The category taxonomy as integer arrays, and the credit one category earns for another."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np


@dataclass(frozen=True)
class CategoryTree:
    """Category codes with integer ids, parent and top-level branch per id.

    Ids are positions in `codes`; -1 is "no category" and every lookup table built from the
    tree has one extra trailing entry so that id -1 (padding) reads a neutral value.
    """

    codes: tuple[str, ...]
    parent: np.ndarray  # int32 id of the parent, -1 for a branch (top level)
    branch: np.ndarray  # int32 id of the top-level ancestor (itself for a branch)
    names: Mapping[str, str]
    ids: Mapping[str, int] = field(repr=False)
    # Memo of credit rows; the tree itself never changes, so neither do they.
    _credit_rows: dict[tuple[int, float, float], np.ndarray] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def from_parents(
        cls, parents: Mapping[str, str | None], names: Mapping[str, str] | None = None
    ) -> CategoryTree:
        """Build from code -> parent code (None for a branch); display names are optional."""
        empty = cls((), np.zeros(0, np.int32), np.zeros(0, np.int32), {}, {})
        return empty.extended(parents, parents=parents, names=names)

    def extended(
        self,
        codes: Iterable[str],
        *,
        parents: Mapping[str, str | None] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> CategoryTree:
        """This tree plus codes it lacks; a code not in `parents` hangs off its dotted prefix.

        Existing ids never change, so arrays encoded with this tree stay valid in the new one.
        """
        codes = list(codes)
        if not names and all(code in self.ids for code in codes):
            return self  # the common case: nothing to add
        parents = parents or {}
        order = list(self.codes)
        parent_of = {code: self.parent_code(code) for code in order}

        def add(code: str) -> None:
            if code in parent_of:
                return
            if code in parents:
                up = parents[code]
            else:
                up = code.rsplit(".", 1)[0] if "." in code else None
            parent_of[code] = up
            if up is not None:
                add(up)
            order.append(code)

        for code in codes:
            add(code)
        if len(order) == len(self.codes) and not names:
            return self
        ids = {code: i for i, code in enumerate(order)}
        parent = np.array([ids[p] if (p := parent_of[c]) else -1 for c in order], dtype=np.int32)
        branch = np.arange(len(order), dtype=np.int32)
        for _ in range(len(order) + 1):
            up = parent[branch]
            if (up < 0).all():
                break
            branch = np.where(up >= 0, up, branch).astype(np.int32)
        else:
            raise ValueError("taxonomy has a cycle")
        merged = {**self.names, **(names or {})}
        return CategoryTree(
            tuple(order), parent, branch, MappingProxyType(merged), MappingProxyType(ids)
        )

    def __len__(self) -> int:
        return len(self.codes)

    def parent_code(self, code: str) -> str | None:
        up = int(self.parent[self.ids[code]])
        return None if up < 0 else self.codes[up]

    def name(self, code: str) -> str:
        """Display name of a category (falls back to a readable form of the code)."""
        name = self.names.get(code)
        if name:
            return name
        return code.rsplit(".", 1)[-1].replace("_", " ")

    def lookup(self, codes: Iterable[str]) -> np.ndarray:
        """Ids of codes (-1 for a code the tree does not know)."""
        return np.array([self.ids.get(code, -1) for code in codes], dtype=np.int32)

    def credit(self, need_ids: np.ndarray, sibling: float, branch: float) -> np.ndarray:
        """(len(need_ids), len(self) + 1) credit an offering category earns for each need.

        1 for the same category, `branch` between a category and its parent branch, `sibling`
        within the same branch, 0 elsewhere; the trailing column (padding id -1) is 0.
        """
        rows = [self._credit_row(int(need), sibling, branch) for need in need_ids]
        return np.array(rows, dtype=np.float32).reshape(len(rows), len(self.codes) + 1)

    def _credit_row(self, need: int, sibling: float, branch: float) -> np.ndarray:
        """One row of `credit`, kept: rankings look up the same few categories over and over."""
        key = (need, sibling, branch)
        row = self._credit_rows.get(key)
        if row is None:
            n = len(self.codes)
            row = np.zeros(n + 1, dtype=np.float32)
            if need >= 0:
                ids = np.arange(n)
                same_branch = self.branch[need] == self.branch[ids]
                related = (self.parent[need] == ids) | (self.parent[ids] == need)
                credit = np.where(same_branch, sibling, 0.0)
                credit = np.where(related, branch, credit)
                row[:n] = np.where(need == ids, 1.0, credit)
            row.flags.writeable = False
            self._credit_rows[key] = row
        return row

    def within(self, codes: Iterable[str]) -> np.ndarray:
        """(len(self) + 1,) bool: category is one of codes or a descendant of one."""
        n = len(self.codes)
        wanted = self.lookup(codes)
        mask = np.zeros(n + 1, dtype=bool)
        mask[wanted[wanted >= 0]] = True
        ancestor = np.arange(n)
        for _ in range(n):
            ancestor = self.parent[ancestor]
            hit = ancestor >= 0
            if not hit.any():
                break
            mask[:n] |= hit & mask[np.where(hit, ancestor, n)]
        return mask
