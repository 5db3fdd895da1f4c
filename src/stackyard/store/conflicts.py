"""Database errors that mean "someone else got there first", told apart from real failures.

Services check for duplicates before inserting, but two requests can pass the check at the same
moment; the database's own constraint then decides. Such a loser, and a PostgreSQL transaction
aborted as a deadlock or serialization victim, is a 409 the client can act on, not a 500.
"""

from __future__ import annotations

import sqlite3

from stackyard.errors import Conflict

# SQLSTATE classes: 23xxx integrity violations, 40001 serialization failure, 40P01 deadlock.
_RETRYABLE_STATES = frozenset({"40001", "40P01"})


def as_conflict(exc: BaseException) -> Conflict | None:
    """The 409 to answer for a lost race in the database, or None for any other error."""
    if isinstance(exc, sqlite3.IntegrityError):
        if "UNIQUE" in str(exc) or "PRIMARY KEY" in str(exc):
            return Conflict(
                "An object with this identifier was just created by another request.", error_code=163
            )
        return None
    state = getattr(exc, "sqlstate", None)
    if not isinstance(state, str):
        return None
    if state == "23505":
        return Conflict("An object with this identifier was just created by another request.", error_code=163)
    if state in _RETRYABLE_STATES:
        return Conflict("The request collided with a concurrent change; please retry it.", error_code=162)
    return None
