"""The HTTP/1.1 protocol the server speaks: uvicorn's httptools protocol with coalesced writes and
bounded request heads.

llhttp sets no limit on a request's head, and httptools joins the pieces of a header by
concatenating bytes, so a 100 MB header costs seconds of event-loop time and its size in memory
before any handler (or login) sees it. Here the bytes of a head are counted as they arrive
(`data_received`), and the URL and each header as they are parsed; past a limit the request is
answered at once, from this layer:

    414  the request target is longer than `max_url_bytes`
    431  the header names and values pass `max_header_bytes` in all, or number over `max_headers`
    408  the head took longer than `request_receive_timeout_seconds` to arrive (counted from the
         connection's opening for its first request), or the body paused that long
    400  bytes that are not HTTP (uvicorn would answer those in plain text)

Each answer is JSON in the shape of the API the path belongs to (`api.errors.render`), with a
request id and `Connection: close`. The connection then drops whatever the client still sends for
`LINGER_SECONDS` (up to `LINGER_BYTES`) before closing, so a client still sending its head reads
the answer rather than a reset. A connection that sends nothing at all is closed after the same
timeout, without an answer.

Answers that need no ASGI cycle are written here too. When a GET or HEAD with no body under `/v3/`
has its head complete, and the connection has no earlier request still being answered, the app's
`answer_now` (`RequestContext.answer_now`; offered when its `answers_now` is true) may give the
whole answer at once: a delivery response-cache hit (`CacheFirst.answer_now`), or the answer of a
route whose handler runs on the event loop (SQLite reads, `routing.Endpoint.answer_now`). It is
written with uvicorn's default headers, as uvicorn would, and nothing reaches ASGI. Every other
request (and this one, when `answer_now` says None) goes on to uvicorn's cycle unchanged. An ASGI
cycle costs about as much as a short read: a task, the scope's messages, the header checks.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from stackyard.api.dispatch import Reply, api_of_path
from stackyard.api.errors import render
from stackyard.errors import APIError, BadRequest
from stackyard.server.deadlines import Deadlines
from stackyard.settings import Settings

log = logging.getLogger("stackyard.server")

# How long a refused connection stays open, and how much it reads (and drops) meanwhile: enough
# for a client to finish sending a modestly oversized head and read the answer; a flood then finds
# the connection no longer reading rather than taking the event loop's time.
LINGER_SECONDS = 1.0
LINGER_BYTES = 1024 * 1024
# Besides the URL and the header names and values: the method, version, separators and line ends.
_HEAD_SLACK = 64
_PER_HEADER_SLACK = 4


@dataclass(frozen=True)
class HttpLimits:
    max_url_bytes: int
    max_header_bytes: int
    max_headers: int
    receive_timeout: float

    @classmethod
    def of(cls, settings: Settings) -> HttpLimits:
        return cls(
            settings.max_url_bytes,
            settings.max_header_bytes,
            settings.max_headers,
            settings.request_receive_timeout_seconds,
        )

    @property
    def head_bytes(self) -> int:
        """Most bytes a head within every limit can take on the wire."""
        return self.max_url_bytes + self.max_header_bytes + self.max_headers * _PER_HEADER_SLACK + _HEAD_SLACK


_limits = HttpLimits.of(Settings())


def use_limits(settings: Settings) -> None:
    """Set the limits of the connections this process accepts (before it serves any)."""
    global _limits
    _limits = HttpLimits.of(settings)


def too_slow() -> APIError:
    return APIError("The request did not arrive in time.", error_code=408)


class _CoalescingTransport:
    """A transport whose writes made during one event-loop step leave in a single send().

    uvicorn writes a response's head and body separately; on a keep-alive connection each write is
    a syscall and a TCP segment, which for small JSON answers costs more than the handler. Joining
    them halves that. Large bodies are passed on at once, so flow control still sees them.
    """

    __slots__ = ("_loop", "_pending", "_size", "_transport")
    _FLUSH_AT = 64 * 1024

    def __init__(self, transport: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._size = 0

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))
        self._size += len(data)
        if self._size >= self._FLUSH_AT:
            self._flush()

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def _flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        self._size = 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def write_eof(self) -> None:
        self._flush()  # what was written goes first
        self._transport.write_eof()

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def get_write_buffer_size(self) -> int:
        return int(self._transport.get_write_buffer_size()) + self._size

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _Refused(Exception):
    """Raised in a parser callback to stop parsing; the answer is in `HttpProtocol._refusal`."""


try:
    import httptools
    from uvicorn.protocols.http.httptools_impl import (
        HEADER_RE,
        HEADER_VALUE_RE,
        STATUS_LINE,
        HttpToolsProtocol,
    )

    HAVE_HTTPTOOLS = True
except ImportError:  # without httptools uvicorn falls back to h11, which gets none of this
    HAVE_HTTPTOOLS = False

if HAVE_HTTPTOOLS:

    class HttpProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol over a `_CoalescingTransport`, with bounded heads (see the
        module docstring)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.limits = _limits
            self.url = b""
            self._head_bytes = 0  # bytes received while the current head was incomplete
            self._in_head = True  # between a message's start (or the connection's) and its head's end
            self._started = False  # a byte of the current request has arrived
            self._header_count = 0
            self._header_bytes = 0
            self._last_body = 0.0
            # the one time limit armed (`_arm`), applied by the server's `Deadlines`
            self.due = 0.0
            self.on_due: Callable[[], None] = self._head_timed_out
            self._idle_wait = False  # what is armed is the keep-alive wait after a direct answer
            self._deadlines = Deadlines.of(
                self.server_state, self.loop, min(self.limits.receive_timeout, self.timeout_keep_alive)
            )
            self._refusal: APIError | None = None
            self._answered = False
            self._dropped = 0
            app = self.app
            self._answer_now: Callable[[dict[str, Any]], Reply | None] | None = (
                app.answer_now if getattr(app, "answers_now", False) else None
            )
            self._now = False  # the current message was answered by `answer_now`
            self._idle_after_now = False  # a direct answer left the connection idle: arm keep-alive

        # -- connection ---------------------------------------------------------------------
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(cast(asyncio.Transport, _CoalescingTransport(transport, self.loop)))
            self._deadlines.join(self)
            self._arm(self.limits.receive_timeout, self._head_timed_out)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            self._deadlines.leave(self)
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            self._unset_keepalive_if_required()
            if self._idle_wait:
                self._idle_wait = False
                self.due = 0.0
            if self._answered:  # lingering: what comes now is dropped
                self._dropped += len(data)
                if self._dropped > LINGER_BYTES:
                    self.transport.pause_reading()
                return
            while data and self._in_head:
                # Feed no more of a head than its limits allow: past them the head cannot be valid,
                # whether its last line is yet complete or not.
                room = self.limits.head_bytes - self._head_bytes
                if room <= 0:
                    self._refuse(self._head_too_large())
                    return
                piece, data = data[:room], data[room:]
                self._head_bytes += len(piece)
                self._feed(piece)
                if self._answered:
                    return
            if data:
                self._feed(data)
            if self._idle_after_now:
                self._idle_after_now = False
                self._keep_alive_if_idle()

        def _feed(self, data: bytes) -> None:
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                if self._should_upgrade():
                    self.handle_websocket_upgrade()
                else:
                    self._unsupported_upgrade_warning()
            except httptools.HttpParserError as e:
                err = self._refusal or BadRequest(
                    "The request is not valid HTTP.", errors={"request": [str(e) or "could not be parsed."]}
                )
                self._refuse(err)

        def send_400_response(self, msg: str) -> None:
            """uvicorn's plain-text answer to bytes that are not HTTP, as JSON."""
            self._refuse(BadRequest("The request is not valid HTTP.", errors={"request": [msg]}))

        # -- parser callbacks ---------------------------------------------------------------
        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._started = True
            self._in_head = True
            self._header_count = self._header_bytes = 0
            if not self.due:
                self._arm(self.limits.receive_timeout, self._head_timed_out)

        def on_url(self, url: bytes) -> None:
            super().on_url(url)
            if len(self.url) > self.limits.max_url_bytes:
                self._stop(self._url_too_long())

        def on_header(self, name: bytes, value: bytes) -> None:
            self._header_count += 1
            self._header_bytes += len(name) + len(value)
            if self._header_count > self.limits.max_headers:
                self._stop(_headers_too_large(f"more than {self.limits.max_headers} headers"))
            if self._header_bytes > self.limits.max_header_bytes:
                self._stop(_headers_too_large(f"more than {self.limits.max_header_bytes} bytes of headers"))
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._in_head = False
            self._head_bytes = 0
            if self._answer_now is not None and self._answered_now():
                return
            self._last_body = self.loop.time()
            self._arm(self.limits.receive_timeout, self._body_timed_out)
            super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            self._last_body = self.loop.time()
            super().on_body(body)

        def on_message_complete(self) -> None:
            self._disarm()
            self._started = False
            if self._now:
                self._now = False
                return
            super().on_message_complete()

        # -- answers without ASGI ------------------------------------------------------------
        def _answered_now(self) -> bool:
            """Answer the request whose head just completed through `answer_now`, if it can be."""
            cycle = self.cycle
            if (cycle is not None and not cycle.response_complete) or self.pipeline:
                return False  # answers leave in order: this one waits for the earlier one
            if self.flow.write_paused:
                return False  # a client not reading: uvicorn's cycle waits for it (and stops reading)
            if not self.url.startswith(b"/v3/"):
                return False
            parser = self.parser
            method = parser.get_method()
            if method not in (b"GET", b"HEAD") or parser.should_upgrade():
                return False
            for name, _ in self.headers:
                if name == b"content-length" or name == b"transfer-encoding":
                    return False
            scope: Any = self.scope
            try:
                parsed = httptools.parse_url(self.url)
            except httptools.HttpParserError:
                return False  # uvicorn's path says what is wrong with it
            path = parsed.path.decode("ascii")
            if "%" in path:
                path = urllib.parse.unquote(path)
            http_version = parser.get_http_version()
            scope["method"] = method.decode("ascii")
            if http_version != "1.1":
                scope["http_version"] = http_version
            scope["path"] = self.root_path + path
            scope["raw_path"] = self.root_path.encode("ascii") + parsed.path
            scope["query_string"] = parsed.query or b""
            assert self._answer_now is not None
            try:
                found = self._answer_now(scope)
            except Exception:  # the ASGI path answers it (a 500, logged) rather than the parser failing
                log.exception("answering %s from the protocol failed", scope["path"])
                return False
            if found is None:
                return False
            status, headers, body = found
            if any(HEADER_RE.search(name) or HEADER_VALUE_RE.search(value) for name, value in headers):
                # what uvicorn's cycle refuses (a header split across lines): it answers that one
                log.error("a header of the answer to %s is not valid HTTP", scope["path"])
                return False
            keep_alive = http_version != "1.0" and parser.should_keep_alive()
            lines = [STATUS_LINE[status]]
            lines += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
            lines += [name + b": " + value + b"\r\n" for name, value in headers]
            if not keep_alive:
                lines.append(b"connection: close\r\n")
            lines += [b"\r\n", body]
            self.transport.write(b"".join(lines))
            self.server_state.total_requests += 1
            self._now = True
            self._disarm()
            if keep_alive:
                self._idle_after_now = True
            else:
                self.transport.close()
            return True

        def _keep_alive_if_idle(self) -> None:
            """After direct answers, what uvicorn does when a cycle ends: wait `timeout_keep_alive`
            for the next request (unless one is under way, in its head or in a cycle)."""
            cycle = self.cycle
            if self._started or (cycle is not None and not cycle.response_complete) or self.pipeline:
                return
            if self.transport.is_closing() or self.timeout_keep_alive_task is not None or self.due:
                return
            self._arm(self.timeout_keep_alive, self.timeout_keep_alive_handler)
            self._idle_wait = True

        # -- timeouts -----------------------------------------------------------------------
        def _arm(self, delay: float, callback: Callable[[], None]) -> None:
            self.due = self.loop.time() + delay
            self.on_due = callback
            self._idle_wait = False

        def _disarm(self) -> None:
            self.due = 0.0
            self._idle_wait = False

        def _head_timed_out(self) -> None:
            if not self._started:
                self.transport.close()  # nothing was asked: nothing to answer
            else:
                self._refuse(too_slow())

        def _body_timed_out(self) -> None:
            if self.cycle.response_complete:
                self.transport.close()  # answered already (say, 413 unread): the rest is not wanted
                return
            now = self.loop.time()
            if self.flow.read_paused:
                self._last_body = now  # the app has not read what came: not the client's delay
            waited = now - self._last_body
            if waited < self.limits.receive_timeout:
                self._arm(self.limits.receive_timeout - waited, self._body_timed_out)
                return
            self._refuse(too_slow())

        # -- refusals -----------------------------------------------------------------------
        def _url_too_long(self) -> APIError:
            return APIError(
                f"The request URL is longer than {self.limits.max_url_bytes} bytes.",
                error_code=414,
                errors={"url": [f"must be at most {self.limits.max_url_bytes} bytes."]},
            )

        def _head_too_large(self) -> APIError:
            # The URL is checked as it arrives (`on_url`), so what is over is the headers.
            return _headers_too_large(f"more than {self.limits.max_header_bytes} bytes of headers")

        def _stop(self, err: APIError) -> None:
            self._refusal = err
            raise _Refused(err.error_message)

        def _refuse(self, err: APIError) -> None:
            """Answer `err` for the request in progress and close the connection after a linger."""
            if self._answered:
                return
            self._answered = True
            self._disarm()
            cycle = self.cycle
            if cycle is not None and not cycle.response_complete:
                # The app is waiting for a body that will not come: it sees a disconnect.
                cycle.disconnected = True
                cycle.message_event.set()
                if cycle.response_started:
                    self.transport.close()
                    return
            path = self.url.split(b"?", 1)[0].decode("latin-1")
            api = api_of_path(path) if path.startswith("/") else "system"
            request_id = secrets.token_hex(8)
            status, headers, body = render(err, api, request_id)
            lines = [STATUS_LINE[status]]
            lines += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
            lines += [f"{k}: {v}\r\n".encode("latin-1") for k, v in headers.items()]
            lines += [b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body), body]
            self.transport.write(b"".join(lines))
            client = self.client[0] if self.client else ""
            log.info(
                "refused a request from %s: %s %s (request %s)", client, status, err.error_message, request_id
            )
            if self.transport.can_write_eof():
                self.transport.write_eof()
            self._arm(LINGER_SECONDS, self.transport.close)

    def http_protocol() -> Any:
        return HttpProtocol

else:

    def http_protocol() -> Any:
        return "auto"


def _headers_too_large(why: str) -> APIError:
    return APIError(
        f"The request headers are too large: {why}.",
        error_code=431,
        errors={"headers": [why + "."]},
    )
