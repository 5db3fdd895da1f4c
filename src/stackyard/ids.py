"""Identifiers, secrets and timestamps."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import datetime


def uid(prefix: str = "blt") -> str:
    """A Contentstack-style object uid: a prefix and 16 hex digits."""
    return prefix + secrets.token_hex(8)


def secret(prefix: str) -> str:
    """A high-entropy credential (authtoken, API key, token). Stored only as its SHA-256."""
    return prefix + secrets.token_hex(16)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


_SECOND: tuple[int, str] = (-1, "")


def now() -> str:
    """UTC time as Contentstack writes it: 2024-01-01T00:00:00.000Z.

    Every authenticated request asks (session expiry), so the formatted second is kept until the
    clock leaves it: `strftime` cost more than the rest of the check.
    """
    global _SECOND
    t = time.time()
    second = int(t)
    cached = _SECOND
    if cached[0] != second:
        cached = _SECOND = (second, time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second)))
    return f"{cached[1]}{int((t - second) * 1000):03d}Z"


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
