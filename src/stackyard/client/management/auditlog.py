"""The stack audit log (catalogue §2.6): `audit-logs`, `audit-logs/{uid}`; read only."""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

from ._resource import Collection

R = TypeVar("R")
It = TypeVar("It")


class Auditlog(Collection[R, It]):
    """`stack.auditlog(uid)`: find/iterate/fetch (the log cannot be written through the API).

    >>> client.stack("blt1").auditlog().find().json()["logs"]  # doctest: +SKIP
    """

    base = "audit-logs"
    envelope = "logs"
    what = "log uid"

    def create(self, data: dict[str, Any]) -> NoReturn:
        """Not possible: the audit log is written by the server only."""
        raise TypeError("the audit log is read-only")

    def update(self, data: dict[str, Any]) -> NoReturn:
        """Not possible: the audit log is written by the server only."""
        raise TypeError("the audit log is read-only")

    def delete(self) -> NoReturn:
        """Not possible: the audit log is written by the server only."""
        raise TypeError("the audit log is read-only")
