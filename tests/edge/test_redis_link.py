"""A node's own Redis link (`edge.redis_link`) against the real Redis: replies split across reads,
messages handled as they arrive, and a failed command nobody waited for breaking the link."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from stackyard.edge.redis_link import INCOMPLETE, Link, RedisLinkError, encode, parse

REDIS = "redis://127.0.0.1:6379/0"


def test_replies_parse_only_once_whole() -> None:
    wire = b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n:42\r\n-ERR no\r\n$-1\r\n"
    values, pos = [], 0
    buf = bytearray()
    for byte in wire:  # one byte at a time: every cut of the stream
        buf.append(byte)
        while (found := parse(buf, pos)) is not INCOMPLETE:
            value, pos = found
            values.append(value)
    assert values[:2] == [[b"message", b"ch", b"hello"], 42]
    assert isinstance(values[2], RedisLinkError) and str(values[2]) == "ERR no"
    assert values[3] is None
    assert encode("SET", b"k", 1) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n"


def test_messages_arrive_and_a_failed_unwaited_command_breaks_the_link() -> None:
    async def main() -> None:
        try:
            link = await Link.open(REDIS, timeout=2)
        except RedisLinkError as e:
            pytest.skip(f"no Redis at {REDIS}: {e}")
        channel = "stackyard-test:" + secrets.token_hex(4)
        got: list[tuple[bytes, bytes]] = []
        await link.subscribe([channel], lambda c, d: got.append((c, d)))
        assert await link.call("PUBLISH", channel, "x" * 100_000) == 1
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.01)
        assert got == [(channel.encode(), b"x" * 100_000)]
        with pytest.raises(RedisLinkError, match="wrong number"):
            await link.call("GET")
        link.send("GET")  # nobody waits for this one: its error must not pass unnoticed
        with pytest.raises(RedisLinkError):
            await link.wait(2)
        link.close()

    asyncio.run(main())
