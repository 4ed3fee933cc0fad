"""How HSDS taxonomy terms become PartnerMap categories, and the PartnerMap taxonomy an export
carries so a round trip keeps what HSDS has no field for.

Mapping, in order (first hit wins):
1. a term of the PartnerMap taxonomy (an export of ours) whose code is a category code;
2. a term whose name is one of a category's `open_referral` names in app/data/taxonomy.json
   (case-insensitive); a name listed under several categories goes to the most specific one
   (deepest, then first in the taxonomy);
3. the nearest ancestor term (parent_id chain) mapped by 1 or 2 — but never a top-level term,
   whose meaning is too broad ("Health" would make hospice a school health service).
Anything else is unmapped and counted in the import report.

PartnerMap-only facts travel as HSDS `attributes` linking a record to a term of the PartnerMap
taxonomy whose code starts with `partnermap:` (the attribute's `value` holds the value).
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from app.taxonomy import Taxonomy, load_taxonomy
from matching.vocab import COST_KINDS, DELIVERIES, SCHEDULES

# Stable ids: every export names the PartnerMap taxonomy and its terms the same way.
NAMESPACE = uuid.UUID("6b1d3f56-2f43-4a43-9a9a-3c1b7c1f9e01")
TAXONOMY_ID = str(uuid.uuid5(NAMESPACE, "taxonomy/partnermap"))
TAXONOMY_NAME = "PartnerMap"
FACET_PREFIX = "partnermap:"


def _one_of(values: tuple[str, ...]) -> str:
    """A closed vocabulary in prose: "a, b or c"."""
    return f"{', '.join(values[:-1])} or {values[-1]}"


# facet code -> (entity it is attached to, what it carries)
FACETS = {
    "partnermap:organization_type": ("organization", "organization type"),
    "partnermap:language": ("organization", "a language the organization works in"),
    "partnermap:service_area": ("organization", "service area (JSON)"),
    "partnermap:location_precision": ("location", "exact or approximate coordinates"),
    "partnermap:schedule": ("service", _one_of(SCHEDULES)),
    "partnermap:delivery": ("service", _one_of(DELIVERIES)),
    "partnermap:population": ("service", "a population the offering prioritises"),
    "partnermap:cost": ("service", _one_of(COST_KINDS)),
    "partnermap:capacity_schools": ("service", "schools it can serve per year"),
    "partnermap:capacity_students": ("service", "students it can serve per year"),
    "partnermap:active_from": ("service", "first day offered (ISO date)"),
    "partnermap:active_until": ("service", "last day offered (ISO date)"),
    "partnermap:uncategorized": ("service", "kept with no PartnerMap category (not ranked)"),
}

LANGUAGES = Path(__file__).parent.parent / "data" / "imports" / "languages.csv"


def term_id(code: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"term/{code}"))


@lru_cache(maxsize=1)
def language_codes() -> dict[str, str]:
    """Language name (lower case) -> ISO 639 code, for directories that give names."""
    with open(LANGUAGES, encoding="utf-8", newline="") as f:
        return {r["name"].lower(): r["code"] for r in csv.DictReader(f)}


def language_code(name: str | None, code: str | None) -> str | None:
    """An ISO 639 code from an HSDS language's code or, failing that, its name."""
    if code and code.strip():
        value = code.strip().lower()
        return value.split("-")[0] if "-" in value else value
    if name and name.strip():
        return language_codes().get(name.strip().lower())
    return None


@lru_cache(maxsize=1)
def _open_referral_index() -> dict[str, str]:
    taxonomy = load_taxonomy()
    depth = {c.code: c.code.count(".") for c in taxonomy.categories}
    index: dict[str, tuple[int, int, str]] = {}
    for order, category in enumerate(taxonomy.categories):
        for name in category.open_referral:
            key = name.strip().lower()
            rank = (-depth[category.code], order, category.code)
            if key not in index or rank < index[key]:
                index[key] = rank
    return {name: rank[2] for name, rank in index.items()}


@dataclass
class TermMap:
    """Categories for the taxonomy terms of one HSDS directory."""

    terms: dict[str, dict]
    taxonomy: Taxonomy = field(default_factory=load_taxonomy)

    def is_partnermap(self, term: dict) -> bool:
        return str(term.get("taxonomy_id") or "") == TAXONOMY_ID or (
            str(term.get("taxonomy") or "") == TAXONOMY_NAME
        )

    def facet(self, term_id: str) -> str | None:
        term = self.terms.get(term_id)
        code = str((term or {}).get("code") or "")
        if term and code.startswith(FACET_PREFIX) and self.is_partnermap(term):
            return code
        return None

    def category(self, term_id: str) -> tuple[str | None, str | None]:
        """(category, None) for a mapped term, (None, the term's name) for an unmapped one, and
        (None, None) for a PartnerMap facet term."""
        term = self.terms.get(term_id)
        if term is None:
            return None, f"(term id {term_id} not in the file)"
        if self.is_partnermap(term):
            code = str(term.get("code") or "")
            if code.startswith(FACET_PREFIX):
                return None, None
            if code in self.taxonomy:
                return code, None
        direct = self._by_name(term)
        if direct:
            return direct, None
        seen = {term_id}
        parent = str(term.get("parent_id") or "")
        while parent and parent not in seen and parent in self.terms:
            seen.add(parent)
            ancestor = self.terms[parent]
            if not ancestor.get("parent_id"):
                break  # top-level terms are too broad to stand for their descendants
            found = self._by_name(ancestor)
            if found:
                return found, None
            parent = str(ancestor.get("parent_id") or "")
        return None, str(term.get("name") or term.get("code") or term_id)

    def categories(self, term_ids: Iterable[str]) -> tuple[list[str], list[str]]:
        """The categories of some terms (each once) and the names of those left unmapped."""
        codes: list[str] = []
        unmapped: list[str] = []
        for tid in term_ids:
            code, name = self.category(tid)
            if code and code not in codes:
                codes.append(code)
            elif name and name not in unmapped:
                unmapped.append(name)
        return codes, unmapped

    @staticmethod
    def _by_name(term: dict) -> str | None:
        name = str(term.get("name") or "").strip().lower()
        return _open_referral_index().get(name) if name else None
