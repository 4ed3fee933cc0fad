"""The serving versions (migration 0011): one read per transaction says whether a worker's
cached schools and principals still hold; or one read by the worker's watch (Database.watch),
with no session, strictly current."""

from __future__ import annotations

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.db import Database, Watch
from app.models import ServingVersion

_KEY = "serving_versions"


def versions(session: Session) -> dict[str, int]:
    """Each kind's current stamp, read once per transaction (kept in session.info until the
    transaction ends, so a principal and a school looked up in one request cost one read)."""
    held = session.info.get(_KEY)
    if held is None:
        held = session.info[_KEY] = dict(
            session.execute(select(ServingVersion.name, ServingVersion.version)).all()
        )
    return held


def watch(database: Database) -> Watch | None:
    """A watch on every kind's stamp, for rows() as (name, version) pairs."""
    return database.watch("SELECT name, version FROM serving_versions")


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: object) -> None:
    session.info.pop(_KEY, None)
