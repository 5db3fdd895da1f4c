"""ASGI middleware: the request's API and id, the outer body size limit, and the access log.

The body limit here is the largest any route takes: a body declared larger is refused (413, in the
shape of the request's API) before routing, unread. Each route then applies its own limit while it
reads (`max_body_bytes`, or `max_upload_bytes` for streaming routes; see `api.body`), which covers
chunked bodies too, as they are read and before the handler starts. Responses pass through message
by message: nothing here collects a body, so streaming responses stay streaming.

`answer_now` is the same for the answers the HTTP protocol writes itself (cached delivery reads,
`api.cda.cache_first`): the same request id header and the same access line.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from typing import Any

from stackyard.api.dispatch import Reply, classify_scope
from stackyard.api.errors import render
from stackyard.api.json_out import dumps
from stackyard.errors import PayloadTooLarge

access_log = logging.getLogger("stackyard.access")


def write_access_line(line: str) -> None:
    """Log one access line (at INFO).

    When the only destination is a plain stream handler that prints the message as it is (what
    `serve` sets up), the line goes to its stream directly: a LogRecord, its formatting and the
    handler chain cost about as much as rendering a short answer. On the event loop, the stream is
    flushed once the loop has run what is ready (one write for all the lines of requests finished
    together, not one each). Any other setup (an operator's handlers, filters, pytest's capture)
    gets a record, without the stack walk `info()` makes to find the calling file and line, which
    no access line shows.
    """
    handlers = access_log.handlers
    if len(handlers) == 1 and not access_log.propagate and not access_log.filters:
        h = handlers[0]
        fmt = h.formatter
        if (
            type(h) is logging.StreamHandler
            and not h.filters
            and h.level <= logging.INFO
            and (fmt is None or (type(fmt) is logging.Formatter and fmt._fmt == "%(message)s"))
        ):
            with h.lock:  # type: ignore[union-attr]
                h.stream.write(line + "\n")
            _flush_soon(h)
            return
    access_log.handle(access_log.makeRecord(access_log.name, logging.INFO, __file__, 0, line, (), None))


_flushing: set[logging.Handler] = set()


def _flush_soon(h: logging.Handler) -> None:
    """Flush `h` after the callbacks the event loop has ready now; at once off the loop."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        h.flush()
        return
    if h not in _flushing:
        _flushing.add(h)
        loop.call_soon(_flush_now, h)


def _flush_now(h: logging.Handler) -> None:
    _flushing.discard(h)
    h.flush()


# Path segments that carry a secret (activation, reset and ownership tokens) never reach the log.
_SECRET_PATH = re.compile(r"(/(?:activate|accept_ownership|reset_password)/)[^/?]+")

# An incoming X-Request-Id is echoed only when it is a short token that is safe in logs and headers.
_SANE_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,64}")

Scope = dict[str, Any]


def redact_path(path: str) -> str:
    if "/activate/" not in path and "/accept_ownership/" not in path and "/reset_password/" not in path:
        return path
    return _SECRET_PATH.sub(r"\1[redacted]", path)


class RequestContext:
    """Classifies the request's API, adds `X-Request-Id`, refuses bodies declared over
    `max_body_bytes` with 413, logs one JSON line per request."""

    def __init__(self, app: Any, *, max_body_bytes: int, log_requests: bool) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.log_requests = log_requests
        self.answers_now = bool(getattr(app, "answers_now", False))  # `answer_now` can say more than None
        self._answer_now = app.answer_now if self.answers_now else None

    def _identify(self, scope: Scope) -> tuple[str, str, bytes | None]:
        """The request's id and API (left in `scope["state"]`), and its declared body length."""
        incoming = declared = None
        for k, v in scope["headers"]:
            if k == b"x-request-id":
                incoming = v
            elif k == b"content-length":
                declared = v
        request_id = incoming.decode("latin-1") if incoming is not None else ""
        if not _SANE_ID.fullmatch(request_id):
            # unique, not secret: the Mersenne Twister (reseeded in each forked process) costs no
            # system call, where `secrets` asks the kernel for every request
            request_id = f"{random.getrandbits(64):016x}"
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["api"] = api = classify_scope(scope)
        return request_id, api, declared

    def answer_now(self, scope: Scope) -> Reply | None:
        """The whole answer to a bodiless request, when the app below can give it without the ASGI
        cycle (`CacheFirst.answer_now`), with the request id added and the access line written;
        None when the request must go through `__call__`."""
        if self._answer_now is None:
            return None
        start = time.perf_counter()
        request_id, api, declared = self._identify(scope)
        if declared is not None:
            return None
        found = self._answer_now(scope)
        if found is None:
            return None
        status, headers, body = found
        self._log(scope, request_id, api, status, start)
        return status, _with_id(headers, request_id.encode()), body

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id, api, declared = self._identify(scope)
        start = time.perf_counter()
        status_holder = [0]
        rid = request_id.encode()

        async def send_with_id(message: dict) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                message = {**message, "headers": _with_id(message.get("headers", ()), rid)}
            await send(message)

        if _declared_over(declared, self.max_body):
            await self._reject(send_with_id, api, request_id)
        else:
            await self.app(scope, receive, send_with_id)
        self._log(scope, request_id, api, status_holder[0], start)

    def _log(self, scope: Scope, request_id: str, api: str, status: int, start: float) -> None:
        if self.log_requests and access_log.isEnabledFor(logging.INFO):
            line = {
                "request_id": request_id,
                "method": scope["method"],
                "path": redact_path(scope["path"]),
                "api": api,
                "status": status,
                "ms": round((time.perf_counter() - start) * 1000, 2),
                "remote": (scope.get("client") or ("",))[0],
            }
            write_access_line(dumps(line).decode())

    async def _reject(self, send: Any, api: str, request_id: str) -> None:
        status, headers, body = render(PayloadTooLarge(), api, request_id)
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        raw.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})


def _with_id(headers: Any, request_id: bytes) -> list[tuple[bytes, bytes]]:
    """`headers` with the request's own `X-Request-Id` in place of any the app set."""
    out = [h for h in headers if h[0].lower() != b"x-request-id"]
    out.append((b"x-request-id", request_id))
    return out


def _declared_over(declared: bytes | None, limit: int) -> bool:
    if declared is None:
        return False
    try:
        return int(declared) > limit
    except ValueError:
        return False
