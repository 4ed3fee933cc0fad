"""The built-in, versioned category taxonomy (app/data/taxonomy.json)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

TAXONOMY_PATH = Path(__file__).parent / "data" / "taxonomy.json"


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    parent: str | None
    description: str
    ntee: tuple[str, ...]
    open_referral: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    version: str
    categories: tuple[Category, ...]

    @cached_property
    def by_code(self) -> Mapping[str, Category]:
        """Categories by code, built once: the taxonomy does not change after loading."""
        return MappingProxyType({c.code: c for c in self.categories})

    @property
    def parents(self) -> dict[str, str | None]:
        return {c.code: c.parent for c in self.categories}

    def __contains__(self, code: object) -> bool:
        return code in self.by_code

    def name(self, code: str) -> str:
        category = self.by_code.get(code)
        return category.name if category else code

    def unknown(self, codes: list[str]) -> list[int]:
        """Positions of the codes that are not in the taxonomy."""
        known = self.by_code
        return [i for i, code in enumerate(codes) if code not in known]


@lru_cache
def load_taxonomy(path: Path = TAXONOMY_PATH) -> Taxonomy:
    raw = json.loads(path.read_text(encoding="utf-8"))
    categories = tuple(
        Category(
            code=c["code"],
            name=c["name"],
            parent=c.get("parent"),
            description=c.get("description", ""),
            ntee=tuple(c.get("ntee", ())),
            open_referral=tuple(c.get("open_referral", ())),
        )
        for c in raw["categories"]
    )
    return Taxonomy(version=raw["version"], categories=categories)


def within(code: str, categories: Sequence[str]) -> bool:
    """The code is one of the categories or a child of one (no filter: always)."""
    return not categories or any(code == c or code.startswith(c + ".") for c in categories)


def addresses(categories: Sequence[str], need: str) -> bool:
    """A partnership's categories address a need: the need's own category, its parent or a
    child (the pairs the ranking's fit counts as meeting it)."""
    return any(within(c, [need]) or within(need, [c]) for c in categories)


def branch(code: str) -> str:
    """The top-level category a code belongs to ("stem.robotics" -> "stem")."""
    return code.split(".", 1)[0]


def per_distinct(keys: Sequence[Any], compute: Callable[[Any], Any]) -> list[Any]:
    """compute(key) for each key, once per distinct key (category lists repeat a lot)."""
    cache: dict[Any, Any] = {}
    return [cache[k] if k in cache else cache.setdefault(k, compute(k)) for k in keys]
