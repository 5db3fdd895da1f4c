"""Password hashing with argon2id, and the password rules."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from stackyard.errors import invalid

_hasher = PasswordHasher()
MIN_LENGTH = 8
MAX_LENGTH = 256


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend the same time as a real check so unknown emails are not told apart by timing.
        _hasher.hash(password or "x")
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_new(password: object, confirmation: object = None, *, field: str = "password") -> str:
    """A new password, validated: a string of 8-256 characters, equal to its confirmation when given."""
    if not isinstance(password, str) or not (MIN_LENGTH <= len(password) <= MAX_LENGTH):
        raise invalid({field: [f"must be a string of {MIN_LENGTH} to {MAX_LENGTH} characters."]})
    if confirmation is not None and confirmation != password:
        raise invalid({"password_confirmation": ["doesn't match password."]})
    return password
