"""The catalog change log: one row per catalog write, read by the ranking index to catch up."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import CatalogChange


def record_change(
    session: Session, *, organization_id: int | None = None, offering_id: int | None = None
) -> None:
    """Log a catalog write in the same transaction (see models.CatalogChange); no ids means
    "anything may have changed" (bulk loads), which makes readers rebuild."""
    session.flush()
    session.add(CatalogChange(organization_id=organization_id, offering_id=offering_id))
