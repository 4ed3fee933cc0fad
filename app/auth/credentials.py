"""Bearer tokens and API keys: made with `secrets`, stored only as SHA-256 digests.

Both are 256-bit random strings, so a fast hash is enough (no one can guess a preimage) and
lets each request be checked with one indexed lookup; passwords, which people choose, get
argon2 instead (app.auth.passwords).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

TOKEN_PREFIX = "pmt_"
KEY_PREFIX = "pmk_"
# pmk_<prefix>_<secret>: the prefix finds the row, the secret is compared with its digest.
KEY_PATTERN = re.compile(r"^pmk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class NewKey:
    plaintext: str
    prefix: str
    secret_hash: str


def new_key() -> NewKey:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewKey(f"{KEY_PREFIX}{prefix}_{secret}", prefix, digest(secret))


def split_key(text: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed key, else None."""
    match = KEY_PATTERN.match(text)
    return (match.group(1), match.group(2)) if match else None


def same_digest(secret: str, stored: str) -> bool:
    return hmac.compare_digest(digest(secret), stored)
