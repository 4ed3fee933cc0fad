"""SQL of idempotent requests: claim a key, read its answer, store it, forget it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import IdempotentRequest


def claim(
    session: Session,
    *,
    caller: str,
    key: str,
    fingerprint: str,
    now: dt.datetime,
    ttl: dt.timedelta,
) -> IdempotentRequest | None:
    """None when this request now holds the key; else the row recorded first (still pending
    when its status is None). Expired rows are forgotten on the way."""
    session.execute(delete(IdempotentRequest).where(IdempotentRequest.created_at <= now - ttl))
    session.commit()
    session.add(IdempotentRequest(caller=caller, key=key, fingerprint=fingerprint, created_at=now))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return session.scalar(
            select(IdempotentRequest).where(
                IdempotentRequest.caller == caller, IdempotentRequest.key == key
            )
        )
    return None


def answer(
    session: Session, *, caller: str, key: str, status: int, headers: list, body: bytes
) -> None:
    row = session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.caller == caller, IdempotentRequest.key == key
        )
    )
    if row is not None:
        row.status, row.headers, row.body = status, headers, body
        session.commit()


def release(session: Session, *, caller: str, key: str) -> None:
    session.execute(
        delete(IdempotentRequest).where(
            IdempotentRequest.caller == caller, IdempotentRequest.key == key
        )
    )
    session.commit()
