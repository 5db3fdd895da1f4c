"""Password hashing with argon2id, and the password rules.

Hashing and checking a password is the slowest thing a request does (tenths of a second of CPU by
design), so callers do it outside any transaction: on SQLite every write of the process waits for
the one writer, and on PostgreSQL a transaction would hold a pooled connection all that time. The
cost of new hashes comes from the settings; a stored hash carries its own cost, so checks of
older hashes keep working when the settings change.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from stackyard.errors import invalid
from stackyard.settings import Settings

MIN_LENGTH = 8
MAX_LENGTH = 256
_DEFAULTS = Settings()


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


def hasher(settings: Settings | None = None) -> PasswordHasher:
    """The argon2id hasher for the cost in `settings` (the default settings when None)."""
    s = settings or _DEFAULTS
    return _hasher(s.password_hash_time_cost, s.password_hash_memory_kib)


def hash_password(password: str, settings: Settings | None = None) -> str:
    """A new hash of `password`. Slow on purpose: call it before opening a write transaction."""
    return hasher(settings).hash(password)


def verify(password_hash: str | None, password: str, settings: Settings | None = None) -> bool:
    """Does `password` match the stored hash? Slow on purpose: call it outside any transaction."""
    if not password_hash:
        # Spend the same time as a real check so unknown emails are not told apart by timing.
        hasher(settings).hash(password or "x")
        return False
    try:
        return hasher(settings).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_new(password: object, confirmation: object = None, *, field: str = "password") -> str:
    """A new password, validated: a string of 8-256 characters, equal to its confirmation when given."""
    if not isinstance(password, str) or not (MIN_LENGTH <= len(password) <= MAX_LENGTH):
        raise invalid({field: [f"must be a string of {MIN_LENGTH} to {MAX_LENGTH} characters."]})
    if confirmation is not None and confirmation != password:
        raise invalid({"password_confirmation": ["doesn't match password."]})
    return password
