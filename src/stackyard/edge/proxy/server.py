"""The data plane's HTTP/1.1 server: an asyncio protocol over httptools, no ASGI on the hit path.

Each connection parses requests with httptools and hands them to `Handler.answer`: a cache hit
comes back as bytes and is written at once; a miss is a coroutine, run as a task, and requests
pipelined behind it wait their turn (answers keep request order). Bodies are limited to
`max_body_bytes`; heads to `max_header_bytes`.

Keep-alive clients send the same bytes again and again (a browser's or a load balancer's headers
do not change between requests). A chunk that held exactly one bodiless GET or HEAD, read at a
message boundary, is remembered with its parsed request (`Parsed`, shared by a node's
connections); the same bytes again skip the parser and go to `Handler.hit`, which answers only
from a fresh cached entry, checked as for any request. Anything else (a miss, a stale entry, a
disabled site) is parsed as usual, so only the parsing is skipped, never a decision.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Any

import httptools

from stackyard.edge.proxy.handler import Handler
from stackyard.edge.proxy.wire import Request, simple

log = logging.getLogger("stackyard.edge")
MAX_PIPELINE = 64
MAX_PARSED = 4096  # remembered request chunks per node; all forgotten when full


class Parsed(dict[bytes, Request]):
    """Request chunks seen whole (one bodiless keep-alive GET or HEAD) and what they parsed to."""

    def remember(self, raw: bytes, req: Request) -> None:
        if len(self) >= MAX_PARSED:
            self.clear()
        self[raw] = req


class EdgeProtocol(asyncio.Protocol):
    __slots__ = (
        "at_boundary",
        "body",
        "busy",
        "client_ip",
        "completed",
        "handler",
        "head_bytes",
        "headers",
        "max_body",
        "max_head",
        "parsed",
        "parser",
        "proto",
        "queue",
        "transport",
        "url",
    )

    def __init__(
        self,
        handler: Handler,
        *,
        max_body: int,
        max_head: int,
        proto: str = "http",
        parsed: Parsed | None = None,
    ) -> None:
        self.handler = handler
        self.parsed = Parsed() if parsed is None else parsed
        self.at_boundary = True  # the parser holds no part of a request
        self.completed: list[Request] = []
        self.max_body = max_body
        self.max_head = max_head
        self.proto = proto
        self.parser = httptools.HttpRequestParser(self)
        self.transport: Any = None
        self.url = b""
        self.headers: list[tuple[str, str]] = []
        self.body: list[bytes] = []
        self.head_bytes = 0
        self.queue: collections.deque[Request] = collections.deque()
        self.busy = False
        self.client_ip = ""

    # -- asyncio ------------------------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.client_ip = str(peer[0]) if peer else ""

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        if self.at_boundary and not self.busy:
            known = self.parsed.get(data)
            if known is not None and known.proto == self.proto and self.transport is not None:
                out = self.handler.hit(known)
                if out is not None:
                    self.transport.write(out)
                    return
        whole = self.at_boundary
        self.completed = []
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(400, "Upgrades are not served here.\n")
        except httptools.HttpParserError:
            self._fail(400, "Malformed HTTP request.\n")
        except _TooLarge as e:
            self._fail(e.status, e.text)
        else:
            if whole and self.at_boundary and len(self.completed) == 1:
                req = self.completed[0]
                if req.keep_alive and not req.body and req.method in ("GET", "HEAD"):
                    self.parsed.remember(data, req)
        self.completed = []

    def _fail(self, status: int, text: str) -> None:
        if self.transport is not None:
            self.transport.write(simple(status, text, False))
            self.transport.close()

    # -- httptools callbacks --------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.at_boundary = False
        self.url = b""
        self.headers = []
        self.body = []
        self.head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self.url += url
        self.head_bytes += len(url)
        if self.head_bytes > self.max_head:
            raise _TooLarge(414, "The request URL is too long.\n")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_bytes += len(name) + len(value)
        if self.head_bytes > self.max_head:
            raise _TooLarge(431, "The request headers are too large.\n")
        self.headers.append((name.decode("latin-1").lower(), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)
        if sum(map(len, self.body)) > self.max_body:
            raise _TooLarge(413, "The request body is too large.\n")

    def on_message_complete(self) -> None:
        p = self.parser
        req = Request(
            p.get_method().decode("latin-1"),
            self.url.decode("latin-1"),
            self.headers,
            b"".join(self.body) if self.body else b"",
            p.should_keep_alive(),
            self.client_ip,
            self.proto,
        )
        self.at_boundary = True
        self.completed.append(req)
        if self.busy:
            self.queue.append(req)
            if len(self.queue) >= MAX_PIPELINE and self.transport is not None:
                self.transport.pause_reading()
            return
        self._dispatch(req)

    # -- answering --------------------------------------------------------------------------------
    def _dispatch(self, req: Request) -> None:
        while True:
            try:
                out = self.handler.answer(req)
            except Exception:
                log.exception("edge: answering a request failed")
                out = simple(500, "The edge failed to answer.\n", False)
            if isinstance(out, bytes):
                if self.transport is None:
                    return
                self.transport.write(out)
                if not req.keep_alive:
                    self.transport.close()
                    return
                if not self.queue:
                    return
                req = self.queue.popleft()
                continue
            self.busy = True
            task = asyncio.ensure_future(out)
            task.add_done_callback(lambda t, r=req: self._finished(t, r))
            return

    def _finished(self, task: asyncio.Future[bytes], req: Request) -> None:
        self.busy = False
        try:
            out = task.result()
        except Exception:
            log.exception("edge: answering a request failed")
            out = simple(502, "The edge failed to answer.\n", False)
        if self.transport is None:
            return
        self.transport.write(out)
        if not req.keep_alive or b"\r\nConnection: close\r\n" in out.split(b"\r\n\r\n", 1)[0] + b"\r\n":
            self.transport.close()
            return
        if self.queue:
            if len(self.queue) < MAX_PIPELINE:
                self.transport.resume_reading()
            self._dispatch(self.queue.popleft())


class _TooLarge(Exception):
    def __init__(self, status: int, text: str) -> None:
        self.status, self.text = status, text
