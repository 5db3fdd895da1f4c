"""The one place an HTTP answer becomes an exception (openai's `_make_status_error`).

Every transport calls `raise_for_status`; no SDK call hands back a non-2xx response. The classes are
`stackyard.errors`' tree, shared with the server, so `except NotFound` reads the same on both sides.
"""

from __future__ import annotations

import json
from typing import Any

from stackyard.errors import APIError, RateLimited, StackyardError, class_for_status

from ._retry import parse_retry_after


class ConnectionFailed(StackyardError):
    """The server could not be reached (or did not answer in time) after every retry."""


def _body(content: bytes) -> dict[str, Any]:
    try:
        data = json.loads(content) if content else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def error_code_of(content: bytes) -> int | None:
    """The numeric `error_code` of an error body, if it has one (the retry policy looks at it)."""
    code = _body(content).get("error_code")
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def error_from_response(status: int, headers: Any, content: bytes) -> APIError:
    """Build the exception for a non-2xx answer: class by status (and code), fields from the body.

    >>> error_from_response(422, {}, b'{"error_code": 141, "error_message": "gone"}').status
    422
    """
    body = _body(content)
    code = error_code_of(content)
    message = body.get("error_message")
    if not isinstance(message, str):
        text = content.decode("utf-8", "replace").strip()
        message = text[:500] if text and not body else f"HTTP {status}"
    errors = body.get("errors")
    if not isinstance(errors, dict | list):
        errors = {}
    extra = {k: v for k, v in body.items() if k not in ("error_message", "error_code", "errors")}
    cls = class_for_status(status, code)
    kwargs: dict[str, Any] = {"error_code": code, "errors": errors, "status": status, "extra": extra}
    if cls is RateLimited:
        wait = parse_retry_after(headers.get("retry-after") if headers is not None else None)
        return RateLimited(message, retry_after=wait if wait is not None else 1.0, **kwargs)
    return cls(message, **kwargs)


def raise_for_status(status: int, headers: Any, content: bytes) -> None:
    """Raise the mapped exception unless `status` is 2xx."""
    if not 200 <= status < 300:
        raise error_from_response(status, headers, content)
