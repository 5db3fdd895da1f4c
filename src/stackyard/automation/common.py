"""What every automation module shares: ids, times, the principal, refs and the permission checks.

A principal is who calls the automation API: a user acting in one organization, as an automation
admin (the organization's owner or an admin) or an observer (any other member: read only). Every
automation row carries its organization, and every query filters by it, so nothing is visible
across organizations (an id of another organization is simply not found).
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stackyard.errors import APIError, BadRequest, Forbidden, NotFound

_COUNTER = [int.from_bytes(os.urandom(3), "big")]
_LOCK = threading.Lock()
_MACHINE = os.urandom(5).hex()


def oid() -> str:
    """A 24-hex id ordered by creation time, like a Mongo ObjectId (st2 clients expect this shape)."""
    with _LOCK:
        _COUNTER[0] = (_COUNTER[0] + 1) & 0xFFFFFF
        n = _COUNTER[0]
    return f"{int(time.time()):08x}{_MACHINE}{n:06x}"


_SECOND: tuple[float, str] = (-1.0, "")  # the last whole second formatted, and its text


def iso(t: float | None = None) -> str:
    """st2's timestamp format: ISO 8601 UTC with microseconds and Z.

    What `datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")` answers (microseconds
    rounded the same way), with the whole second formatted once per second rather than per call:
    a webhook stamps a dozen times."""
    global _SECOND
    frac, whole = math.modf(time.time() if t is None else t)
    micro = round(frac * 1e6)
    if micro >= 1_000_000:
        whole, micro = whole + 1, micro - 1_000_000
    elif micro < 0:
        whole, micro = whole - 1, micro + 1_000_000
    second, text = _SECOND
    if second != whole:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _SECOND = (whole, text)
    return f"{text}.{micro:06d}Z"


def parse_iso(value: str) -> float:
    """Epoch seconds of an ISO timestamp (naive values are UTC); BadRequest if it is not one."""
    try:
        stamp = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "T"))
    except (ValueError, AttributeError):
        raise BadRequest(f'"{value}" is not a valid ISO 8601 timestamp.') from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def split_ref(ref: str) -> tuple[str, str]:
    """`pack.name` -> (pack, name)."""
    if not isinstance(ref, str) or "." not in ref:
        raise BadRequest(f'"{ref}" is not a reference of the form pack.name.')
    pack, name = ref.split(".", 1)
    if not pack or not name:
        raise BadRequest(f'"{ref}" is not a reference of the form pack.name.')
    return pack, name


ADMIN, OBSERVER = "admin", "observer"


@dataclass(frozen=True)
class Principal:
    """A caller of the automation API, in one organization."""

    user_uid: str
    username: str  # the login name (the user's email), as st2 clients expect it back
    org_uid: str
    role: str  # ADMIN or OBSERVER
    method: str = "authentication token"  # or "API key"
    location: str = "header"
    token_expires_at: float | None = None  # epoch seconds, for a token
    request_id: str = ""
    remote_addr: str = ""

    @property
    def token_expire(self) -> str | None:
        """When the token expires, as st2 writes it (formatted only when asked: `whoami`)."""
        if self.token_expires_at is None:
            return None
        return iso(self.token_expires_at)[:19] + "Z"

    # what the spine records of a caller
    @property
    def actor(self) -> str:
        return self.user_uid

    @property
    def kind(self) -> str:
        return "user"

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden(
                f'User "{self.username}" is an observer of this organization and cannot change automation '
                "objects (its owner and admins can)."
            )


def not_found(what: str, key: str) -> APIError:
    return NotFound(f'{what} "{key}" is not found.', error_code=116, status=404)


def conflict(message: str, conflict_id: str) -> APIError:
    return APIError(message, status=409, error_code=163, extra={"conflict-id": conflict_id})


def bad(message: str) -> APIError:
    return BadRequest(message)


def as_bool(value: Any, default: bool = False) -> bool:
    """A query flag as st2 reads them: true/1/yes/y and false/0/no/n, any case."""
    if value is None or value == "":
        return default
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "y"):
        return True
    if text in ("false", "0", "no", "n"):
        return False
    raise BadRequest(f'"{value}" is not a boolean (true or false).')
