"""HTTP for /v1/taxonomy."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from app.taxonomy import load_taxonomy

router = APIRouter(prefix="/v1/taxonomy", tags=["taxonomy"])


class CategoryOut(BaseModel):
    code: str
    name: str
    parent: str | None
    description: str
    ntee: list[str]
    open_referral: list[str]


class TaxonomyOut(BaseModel):
    version: str
    categories: list[CategoryOut]


@router.get("", response_model=TaxonomyOut, summary="The category taxonomy")
def get_taxonomy() -> TaxonomyOut:
    """Every category code with its parent branch and its NTEE and Open Referral mappings."""
    taxonomy = load_taxonomy()
    return TaxonomyOut(
        version=taxonomy.version,
        categories=[
            CategoryOut(
                **{**c.__dict__, "ntee": list(c.ntee), "open_referral": list(c.open_referral)}
            )
            for c in taxonomy.categories
        ],
    )
