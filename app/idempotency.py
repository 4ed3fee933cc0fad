"""Idempotency-Key on POST: a retry of the same request by the same caller gets the first
answer (status, body, Location) instead of creating the record twice.

The key is scoped to the caller's credentials and the request is fingerprinted (method, path,
query, body): the same key with another request is a 422. A retry that arrives while the
first is still running is a 409. Server errors (5xx) and 409/429 are not kept, so a retry
runs again. Log-in, log-out and API-key creation are left out: their answers hold secrets
that must not be stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

from app.db import Database
from app.domain_errors import Conflict, InvalidInput
from app.errors import send_problem
from app.repositories import idempotency as repo

KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
NOT_REPLAYED = ("/v1/auth/token", "/v1/auth/revoke")
SECRET_ANSWERS = re.compile(r"^/v1/districts/[^/]+/api-keys$")
KEPT_HEADERS = (b"content-type", b"location", b"link")
NOT_KEPT_STATUS = (409, 429)


class Idempotency:
    def __init__(self, app: Any, database: Database, ttl_hours: float) -> None:
        self.app = app
        self.database = database
        self.ttl = dt.timedelta(hours=ttl_hours)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        headers = dict(scope.get("headers") or []) if scope["type"] == "http" else {}
        given = headers.get(b"idempotency-key")
        path = scope.get("path", "")
        if (
            given is None
            or scope["method"] != "POST"
            or path in NOT_REPLAYED
            or SECRET_ANSWERS.match(path)
        ):
            await self.app(scope, receive, send)
            return
        key = given.decode("latin-1")
        if not KEY.match(key):
            await send_problem(
                scope,
                receive,
                send,
                InvalidInput(
                    ["header", "Idempotency-Key"],
                    "Idempotency-Key must be 1 to 200 visible ASCII characters, e.g. a UUID.",
                ),
            )
            return

        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        caller = hashlib.sha256(
            headers.get(b"authorization", b"") + b"\n" + headers.get(b"x-api-key", b"")
        ).hexdigest()
        fingerprint = hashlib.sha256(
            b"\n".join([scope["method"].encode(), path.encode(), scope["query_string"], body])
        ).hexdigest()
        first = await self.database.in_thread_with_slot(self._claim, caller, key, fingerprint)
        if first is not None:
            await self._replay(scope, receive, send, first, fingerprint)
            return

        sent = False

        async def replay_receive() -> dict:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status, kept, chunks = 500, [], []

        async def recording_send(message: dict) -> None:
            nonlocal status, kept
            if message["type"] == "http.response.start":
                status = message["status"]
                kept = [
                    [n.decode("latin-1"), v.decode("latin-1")]
                    for n, v in message.get("headers", [])
                    if n.lower() in KEPT_HEADERS
                ]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, recording_send)
        finally:
            keep = status < 500 and status not in NOT_KEPT_STATUS
            await self.database.in_thread_with_slot(
                self._settle, caller, key, status, kept, b"".join(chunks), keep
            )

    def _claim(self, caller: str, key: str, fingerprint: str) -> Any:
        with self.database.session() as session:
            row = repo.claim(
                session,
                caller=caller,
                key=key,
                fingerprint=fingerprint,
                now=dt.datetime.now(dt.UTC),
                ttl=self.ttl,
            )
            return None if row is None else (row.fingerprint, row.status, row.headers, row.body)

    def _settle(
        self, caller: str, key: str, status: int, headers: list, body: bytes, keep: bool
    ) -> None:
        with self.database.session() as session:
            if keep:
                repo.answer(
                    session, caller=caller, key=key, status=status, headers=headers, body=body
                )
            else:
                repo.release(session, caller=caller, key=key)

    async def _replay(
        self, scope: dict, receive: Any, send: Any, first: tuple, fingerprint: str
    ) -> None:
        recorded, status, headers, body = first
        if recorded != fingerprint:
            error: Exception = InvalidInput(
                ["header", "Idempotency-Key"],
                "This Idempotency-Key was used with a different request; use a new key.",
            )
            await send_problem(scope, receive, send, error)
            return
        if status is None:
            error = Conflict("The first request with this Idempotency-Key is still running.")
            await send_problem(scope, receive, send, error, headers={"Retry-After": "1"})
            return
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    *[(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers],
                    (b"idempotent-replayed", b"true"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body or b""})
