"""Keep-alive connections for `OutboundClient(keepalive=N)`: HTTP/1.1 over asyncio and httptools.

The pool only does the I/O of a hop the outbound client has already judged (`outbound._Call`): it
is handed the checked address and never looks a name up or chooses where to connect. A connection
is kept under the scheme, name, port *and* address it was opened to, so

- a TLS connection is only reused for the name its certificate was checked against;
- the lookup and the address rule still run on every call, and a name that resolves elsewhere on a
  later lookup gets a new connection to the new, checked, address.

One pool serves one event loop (the first it ran on; `OutboundClient` sends calls from any other
loop without it). Per key at most `keepalive` idle connections are kept, each for at most
`idle_seconds`; a connection the origin closed while idle is dropped when next taken, and a GET or
HEAD whose reused connection closed before any byte of the answer came back is sent once more on a
new one. Bodies are decoded (gzip, deflate) as they arrive, and each decoded piece goes through the
call's own size and time checks before the next is read.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import httptools

Key = tuple[str, str, int, str]  # scheme, name, port, the checked address
MAX_KEYS = 256
MAX_HEAD_BYTES = 64 * 1024  # an answer's status line and headers (h11, under httpx, allows 100 kB)
_RETRYABLE = frozenset({"GET", "HEAD", "OPTIONS"})


class PoolError(Exception):
    """The connection failed; `retry` when a reused connection closed before any byte of an answer."""

    def __init__(self, message: str, *, retry: bool = False) -> None:
        super().__init__(message)
        self.retry = retry


class Answer:
    __slots__ = ("headers", "status")

    def __init__(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.status, self.headers = status, headers


class _Decoder:
    """Decodes a body as it arrives, never more than `piece` bytes at a time (a gzip bomb is
    stopped by the size check after the first oversized piece, not after inflating it all)."""

    def __init__(self, encoding: str) -> None:
        wbits = {"gzip": 31, "x-gzip": 31, "deflate": 15}.get(encoding)
        if wbits is None:
            raise PoolError(f"the origin sent content-encoding {encoding!r}, which is not decoded here")
        self._z = zlib.decompressobj(wbits)
        self._deflate = encoding == "deflate"

    def feed(self, data: bytes, take: Callable[[bytes], None], piece: int = 65536) -> None:
        try:
            while data:
                out = self._z.decompress(data, piece)
                data = self._z.unconsumed_tail
                if out:
                    take(out)
        except zlib.error as e:
            if self._deflate and not hasattr(self, "_raw"):
                self._raw = True  # a raw deflate stream without its zlib header, as some servers send
                self._z = zlib.decompressobj(-15)
                self.feed(data, take, piece)
                return
            raise PoolError(f"the origin's body could not be decoded: {e}") from e


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: Any = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self.waiter: asyncio.Future[Answer] | None = None
        self.take: Callable[[bytes], None] = lambda _: None
        self.begin: Callable[[list[tuple[str, str]]], None] = lambda _: None
        self.head_only = False
        self.reused = False
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.head_bytes = 0
        self.decoder: _Decoder | None = None
        self.headers_done = False
        self.until_close = False
        self.received = False
        self.error: BaseException | None = None
        self.activity = 0

    # -- asyncio --------------------------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        w = self.waiter
        if w is None or w.done():
            return
        if self.headers_done and self.until_close and self.error is None:
            # a body that ends with the connection (no length, no chunks)
            self._complete()
            return
        retry = self.reused and not self.received
        w.set_exception(
            PoolError(f"the origin closed the connection{': ' + str(exc) if exc else ''}", retry=retry)
        )

    def data_received(self, data: bytes) -> None:
        self.received = True
        self.activity += 1
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as e:
            error = self.error or PoolError(f"the origin's answer is not valid HTTP/1.1: {e}")
            self.fail(error)

    def fail(self, error: BaseException) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)

    # -- httptools ------------------------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_bytes += len(name) + len(value) + 4
        if self.head_bytes > MAX_HEAD_BYTES:
            self.error = PoolError(f"the origin's headers passed {MAX_HEAD_BYTES} bytes")
            raise self.error
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        if self.status < 200:
            return  # an interim answer (100 Continue): its headers go, the final answer follows
        self.headers_done = True
        self.until_close = not any(
            n.lower() in ("content-length", "transfer-encoding") for n, _ in self.headers
        )
        try:
            self.begin(self.headers)
            encoding = next(
                (v.strip().lower() for n, v in self.headers if n.lower() == "content-encoding"), ""
            )
            if encoding and encoding != "identity":
                self.decoder = _Decoder(encoding)
        except BaseException as e:
            self.error = e
            raise
        if self.head_only:
            self.closed = True  # the parser would wait for a body a HEAD answer does not have
            self._complete()

    def on_body(self, body: bytes) -> None:
        try:
            if self.decoder is not None:
                self.decoder.feed(body, self.take)
            else:
                self.take(body)
        except BaseException as e:
            self.error = e
            raise

    def on_message_complete(self) -> None:
        if self.status < 200:
            self.headers = []
            return
        self._complete()

    def _complete(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            if not self.parser.should_keep_alive():
                self.closed = True
            self.waiter.set_result(Answer(self.status, self.headers))

    # -- one exchange -----------------------------------------------------------------------------
    async def exchange(
        self,
        request: bytes,
        *,
        head_only: bool,
        begin: Callable[[list[tuple[str, str]]], None],
        take: Callable[[bytes], None],
        read_timeout: Callable[[], float],
        on_timeout: Callable[[], BaseException],
    ) -> Answer:
        """Send `request` and wait for the whole answer; the read timeout is a wait with nothing
        arriving (`read_timeout()` answers how long, or raises once the call's total is spent)."""
        loop = asyncio.get_running_loop()
        self._reset()
        waiter = self.waiter = loop.create_future()
        self.head_only, self.begin, self.take = head_only, begin, take
        timer: list[asyncio.TimerHandle] = []

        def arm() -> None:
            seen = self.activity

            def fire() -> None:
                if waiter.done():
                    return
                if self.activity != seen:
                    arm()
                    return
                self.fail(on_timeout())

            try:
                timer[:] = [loop.call_later(read_timeout(), fire)]
            except BaseException as e:  # the total timeout passed
                self.fail(e)

        self.transport.write(request)
        arm()
        try:
            return await waiter
        except asyncio.CancelledError:
            self.fail(PoolError("the exchange was abandoned"))
            raise
        finally:
            if timer:
                timer[0].cancel()
            self.waiter = None


class Pool:
    """Idle keep-alive connections by key; `send` makes one exchange on one of them (or a new one)."""

    def __init__(self, keepalive: int, ssl_context: ssl.SSLContext, idle_seconds: float = 4.0) -> None:
        self.keepalive = keepalive
        self.idle_seconds = idle_seconds
        self._ssl = ssl_context
        self._idle: OrderedDict[Key, list[_Connection]] = OrderedDict()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.opened = 0  # connections opened, for tests and counters

    def serves(self, loop: asyncio.AbstractEventLoop) -> bool:
        if self.loop is None or self.loop.is_closed():
            self.loop = loop
            self._idle.clear()
        return self.loop is loop

    async def send(
        self,
        key: Key,
        method: str,
        request: bytes,
        *,
        connect_timeout: float,
        read_timeout: Callable[[], float],
        on_timeout: Callable[[], BaseException],
        begin: Callable[[list[tuple[str, str]]], None],
        take: Callable[[bytes], None],
    ) -> Answer:
        for attempt in range(2):
            conn = self._take(key) if attempt == 0 else None
            if conn is None:
                conn = await self._open(key, connect_timeout, on_timeout)
            try:
                answer = await conn.exchange(
                    request,
                    head_only=method == "HEAD",
                    begin=begin,
                    take=take,
                    read_timeout=read_timeout,
                    on_timeout=on_timeout,
                )
            except PoolError as e:
                if e.retry and method in _RETRYABLE and attempt == 0:
                    continue
                raise
            self._give_back(key, conn)
            return answer
        raise AssertionError("unreachable")

    def _take(self, key: Key) -> _Connection | None:
        idle = self._idle.get(key)
        assert self.loop is not None
        now = self.loop.time()
        while idle:
            conn = idle.pop()
            if not conn.closed and now - conn.idle_since < self.idle_seconds:
                conn.reused = True
                return conn
            conn.transport.close()
        return None

    async def _open(self, key: Key, timeout: float, on_timeout: Callable[[], BaseException]) -> _Connection:
        scheme, name, port, address = key
        loop = asyncio.get_running_loop()
        secure = scheme == "https"
        try:
            async with asyncio.timeout(timeout):
                _, conn = await loop.create_connection(
                    _Connection,
                    address,
                    port,
                    ssl=self._ssl if secure else None,
                    server_hostname=name if secure else None,
                )
        except TimeoutError:
            raise on_timeout() from None
        except ssl.SSLError as e:
            raise PoolError(f"TLS with {name} failed: {e}") from e
        except OSError as e:
            raise PoolError(f"could not connect to {name} ({address}:{port}): {e}") from e
        self.opened += 1
        return conn

    def _give_back(self, key: Key, conn: _Connection) -> None:
        if conn.closed or self.keepalive <= 0:
            conn.transport.close()
            return
        assert self.loop is not None
        conn.idle_since = self.loop.time()
        idle = self._idle.setdefault(key, [])
        self._idle.move_to_end(key)
        idle.append(conn)
        while len(idle) > self.keepalive:
            idle.pop(0).transport.close()
        while len(self._idle) > MAX_KEYS:
            _, dropped = self._idle.popitem(last=False)
            for c in dropped:
                c.transport.close()

    def close(self) -> None:
        """Close every idle connection (call it on the pool's loop). Aborted: nothing is in flight
        on them, and a TLS connection closed politely would wait for the peer's close_notify on a
        loop that is about to stop (its callbacks then fail on the closed loop)."""
        for conns in self._idle.values():
            for c in conns:
                if c.transport is not None:
                    c.transport.abort()
        self._idle.clear()
