"""ASGI middleware: a request id on every response, the body size limit, and the access log."""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from typing import Any

from stackyard.errors import PayloadTooLarge

access_log = logging.getLogger("stackyard.access")

# Path segments that carry a secret (activation, reset and ownership tokens) never reach the log.
_SECRET_PATH = re.compile(r"(/(?:activate|accept_ownership|reset_password)/)[^/?]+")

# An incoming X-Request-Id is echoed only when it is a short token that is safe in logs and headers.
_SANE_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,64}")

Scope = dict[str, Any]


def redact_path(path: str) -> str:
    return _SECRET_PATH.sub(r"\1[redacted]", path)


class RequestContext:
    """Adds `X-Request-Id`, refuses bodies over `max_body_bytes` with 413, logs one JSON line per request."""

    def __init__(self, app: Any, *, max_body_bytes: int, log_requests: bool) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = dict(scope["headers"])
        incoming = request_headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SANE_ID.fullmatch(incoming) else secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        start = time.perf_counter()
        status_holder = [0]
        rid = request_id.encode()

        async def send_with_id(message: dict) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                headers.append((b"x-request-id", rid))
                message = {**message, "headers": headers}
            await send(message)

        declared = request_headers.get(b"content-length")
        too_large = False
        if declared is not None:
            try:
                too_large = int(declared) > self.max_body
            except ValueError:
                too_large = False
        elif b"transfer-encoding" in request_headers:
            # A chunked body's size is known only once read: read it here, within the limit, so an
            # oversized one is refused before a handler starts (raising mid-handler made it a 500).
            body, too_large = await self._read_within_limit(receive)
            if not too_large:
                receive = _replay(body, receive)
        if too_large:
            await self._reject(send_with_id, request_id)
        else:
            received = [0]

            async def limited_receive() -> dict:
                message: dict = await receive()
                if message["type"] == "http.request":
                    received[0] += len(message.get("body", b""))
                    if received[0] > self.max_body:
                        raise _BodyTooLarge
                return message

            try:
                await self.app(scope, limited_receive, send_with_id)
            except _BodyTooLarge:
                if status_holder[0] == 0:
                    await self._reject(send_with_id, request_id)
        if self.log_requests and access_log.isEnabledFor(logging.INFO):
            line = json.dumps(
                {
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": redact_path(scope["path"]),
                    "status": status_holder[0],
                    "ms": round((time.perf_counter() - start) * 1000, 2),
                    "remote": (scope.get("client") or ("",))[0],
                }
            )
            # `access_log.info(line)` without the stack walk that finds the calling file and line:
            # no access line shows them, and the walk costs more than the rest of the logging.
            access_log.handle(
                access_log.makeRecord(access_log.name, logging.INFO, __file__, 0, line, (), None)
            )

    async def _read_within_limit(self, receive: Any) -> tuple[bytes, bool]:
        """The whole body, or (what was read, True) as soon as it passes `max_body_bytes`."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks), False
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return b"", True
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), False

    async def _reject(self, send: Any, request_id: str) -> None:
        body = json.dumps(PayloadTooLarge().body()).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    pass


def _replay(body: bytes, receive: Any) -> Any:
    """A `receive` that hands over an already read body once, then defers to the real one."""
    pending = [body]

    async def replay() -> dict:
        if pending:
            return {"type": "http.request", "body": pending.pop(), "more_body": False}
        message: dict = await receive()
        return message

    return replay
