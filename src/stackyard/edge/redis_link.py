"""A data-plane node's own connections to Redis, as asyncio protocols speaking RESP2 on its loop.

    link = await Link.open("redis://127.0.0.1:6379/0", timeout=3)
    await link.subscribe([b"stackyard:edge:purge"], on_message)   # on_message(channel, data)
    await link.call("ZADD", key, score, member)                    # a reply, or RedisLinkError
    link.send("SADD", key, member)                                 # written now, reply checked later
    await link.wait(1.0)                                           # a pause; raises once a connection is lost

A published message is handled in the loop's read callback, the moment its bytes arrive: a purge
is applied and its acknowledgement written without a task wake-up between them (under load each
wake-up is a whole turn of a busy loop). Two connections, as RESP2 wants: one subscribed, one for
commands. A command sent with `send` whose reply is an error breaks the link (the hub then treats
the node as away), so no acknowledgement fails unnoticed.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import ssl
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger("stackyard.edge")

OnMessage = Callable[[bytes, bytes], None]
INCOMPLETE = object()


class RedisLinkError(ConnectionError):
    """Redis answered an error, or a connection broke or timed out."""


def encode(*args: object) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        raw = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(parts)


def parse(buf: bytearray, pos: int) -> Any:
    """One reply from `buf` at `pos`: (value, next position), or `INCOMPLETE`."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        return INCOMPLETE
    kind, line = buf[pos], bytes(buf[pos + 1 : end])
    if kind == 0x2B:  # +
        return line, end + 2
    if kind == 0x2D:  # -
        return RedisLinkError(line.decode("utf-8", "replace")), end + 2
    if kind == 0x3A:  # :
        return int(line), end + 2
    if kind == 0x24:  # $
        n = int(line)
        if n < 0:
            return None, end + 2
        start = end + 2
        if len(buf) < start + n + 2:
            return INCOMPLETE
        return bytes(buf[start : start + n]), start + n + 2
    if kind == 0x2A:  # *
        n = int(line)
        items: list[Any] = []
        at = end + 2
        for _ in range(max(n, 0)):
            found = parse(buf, at)
            if found is INCOMPLETE:
                return INCOMPLETE
            items.append(found[0])
            at = found[1]
        return (items if n >= 0 else None), at
    raise RedisLinkError(f"not a RESP reply: {bytes(buf[pos : pos + 20])!r}")


class _Connection(asyncio.Protocol):
    def __init__(self, lost: asyncio.Future[None], on_message: OnMessage | None) -> None:
        self.transport: Any = None
        self.buf = bytearray()
        self.waiting: collections.deque[asyncio.Future[Any] | None] = collections.deque()
        self.lost = lost
        self.on_message = on_message

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(RedisLinkError(f"the connection to Redis was lost{': ' + str(exc) if exc else ''}"))

    def fail(self, error: RedisLinkError) -> None:
        if not self.lost.done():
            self.lost.set_exception(error)
        while self.waiting:
            f = self.waiting.popleft()
            if f is not None and not f.done():
                f.set_exception(error)
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        self.buf += data
        pos = 0
        try:
            while pos < len(self.buf):
                found = parse(self.buf, pos)
                if found is INCOMPLETE:
                    break
                value, pos = found
                self._reply(value)
        except RedisLinkError as e:
            self.fail(e)
        del self.buf[:pos]

    def _reply(self, value: Any) -> None:
        if self.on_message is not None and isinstance(value, list) and value and value[0] == b"message":
            try:
                self.on_message(value[1], value[2])
            except Exception:
                log.exception("edge: handling a message from Redis failed")
            return
        waiter = self.waiting.popleft() if self.waiting else None
        if isinstance(value, RedisLinkError):
            if waiter is None:
                raise value  # a command nobody waits for failed: the link is broken
            waiter.set_exception(value)
        elif waiter is not None and not waiter.done():
            waiter.set_result(value)

    def send(self, args: tuple[object, ...], waiter: asyncio.Future[Any] | None, replies: int = 1) -> None:
        if self.lost.done() or self.transport is None:
            raise RedisLinkError("the connection to Redis is closed")
        self.transport.write(encode(*args))
        self.waiting.extend([waiter] + [None] * (replies - 1))


class Link:
    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self.loop = loop
        self.timeout = timeout
        self.lost: asyncio.Future[None] = loop.create_future()
        self.lost.add_done_callback(lambda f: f.cancelled() or f.exception())  # read: never "unretrieved"
        self.commands: _Connection | None = None
        self.subscriber: _Connection | None = None
        self._messages: list[OnMessage] = []

    @classmethod
    async def open(cls, url: str, *, timeout: float) -> Link:
        """Connect both connections (`redis://`, `rediss://` or `unix://`; password and db honoured)."""
        from redis.connection import parse_url

        options = parse_url(url)
        link = cls(asyncio.get_running_loop(), timeout)
        try:
            link.commands = await link._connect(options, None)
            link.subscriber = await link._connect(options, link._dispatch)
            if options.get("db"):
                await link.call("SELECT", options["db"])
        except BaseException:
            link.close()
            raise
        return link

    async def _connect(self, options: dict[str, Any], on_message: OnMessage | None) -> _Connection:
        def factory() -> _Connection:
            return _Connection(self.lost, on_message)

        try:
            async with asyncio.timeout(self.timeout):
                if options.get("path"):
                    _, conn = await self.loop.create_unix_connection(factory, options["path"])
                else:
                    secure = "SSL" in getattr(options.get("connection_class"), "__name__", "")
                    _, conn = await self.loop.create_connection(
                        factory,
                        options.get("host", "localhost"),
                        int(options.get("port", 6379)),
                        ssl=ssl.create_default_context() if secure else None,
                    )
                if options.get("password"):
                    auth = [options["username"]] if options.get("username") else []
                    waiter: asyncio.Future[Any] = self.loop.create_future()
                    conn.send(("AUTH", *auth, options["password"]), waiter)
                    await waiter
        except TimeoutError:
            raise RedisLinkError(f"Redis did not answer within {self.timeout}s") from None
        except OSError as e:
            raise RedisLinkError(f"could not connect to Redis: {e}") from e
        return conn

    def _dispatch(self, channel: bytes, data: bytes) -> None:
        for handler in self._messages:
            handler(channel, data)

    async def subscribe(self, channels: Iterable[str], on_message: OnMessage) -> None:
        assert self.subscriber is not None
        names = list(channels)
        self._messages.append(on_message)
        waiter: asyncio.Future[Any] = self.loop.create_future()
        self.subscriber.send(("SUBSCRIBE", *names), waiter, replies=len(names))
        await self._answer(waiter)

    async def call(self, *args: object) -> Any:
        assert self.commands is not None
        waiter: asyncio.Future[Any] = self.loop.create_future()
        self.commands.send(args, waiter)
        return await self._answer(waiter)

    def send(self, *args: object) -> None:
        assert self.commands is not None
        self.commands.send(args, None)

    async def _answer(self, waiter: asyncio.Future[Any]) -> Any:
        try:
            async with asyncio.timeout(self.timeout):
                return await waiter
        except TimeoutError:
            raise RedisLinkError(f"Redis did not answer within {self.timeout}s") from None

    async def wait(self, seconds: float) -> None:
        """Sleep `seconds`, or raise at once when a connection is lost."""
        await asyncio.wait((self.lost,), timeout=seconds)
        if self.lost.done():
            self.lost.result()

    def close(self) -> None:
        for conn in (self.commands, self.subscriber):
            if conn is not None and conn.transport is not None:
                conn.transport.close()
