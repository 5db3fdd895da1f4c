"""The one place an automation API answer becomes an exception: `{"faultstring"}` bodies mapped to
the shared error tree (`stackyard.errors`), by status."""

from __future__ import annotations

import json
from typing import Any

from stackyard.errors import (
    APIError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    NotSupported,
    RateLimited,
    ServerError,
    StackyardError,
    Unauthorized,
    class_for_status,
)

__all__ = [
    "APIError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "NotFound",
    "NotSupported",
    "RateLimited",
    "ServerError",
    "StackyardError",
    "Unauthorized",
    "error_from_response",
]


def error_from_response(status: int, content: bytes) -> APIError:
    """The exception for a non-2xx automation answer; its message is the server's faultstring.

    >>> error_from_response(404, b'{"faultstring": "Rule \\\\"x\\\\" is not found."}').status
    404
    """
    try:
        body: Any = json.loads(content) if content else {}
    except (ValueError, UnicodeDecodeError):
        body = {}
    message = body.get("faultstring") if isinstance(body, dict) else None
    if not isinstance(message, str):
        message = content.decode("utf-8", "replace")[:500] or f"HTTP {status}"
    extra = {"conflict-id": body["conflict-id"]} if isinstance(body, dict) and "conflict-id" in body else {}
    cls = NotSupported if status == 501 else class_for_status(status, None)
    if cls is RateLimited:
        return RateLimited(message, retry_after=1.0, status=status)
    return cls(message, status=status, extra=extra)
