"""The floor under "purge to fresh": the same hops as an edge purge, with nothing of Stackyard's.

    python bench/purge_floor.py node REDIS_URL CHANNEL      # one subscriber (the bench starts them)

A sender publishes a message and blocks in Redis on a list; each of `nodes` subscriber processes
(a raw asyncio protocol on uvloop speaking RESP) answers every message with one EVAL that counts
its acknowledgement and, from the last one, pushes the mark the sender waits for. That is the
path of `RedisHub.publish_purge(wait=...)`: sender -> Redis -> every node -> Redis -> sender, four
wake-ups in a row, minus the purge's own work (decoding the message, dropping cached entries,
counting progress per live node). `bench_edge.py` runs it beside the edge's purge for a ratio.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from typing import Any

ACK = (
    "if redis.call('INCR', KEYS[1]) == tonumber(ARGV[1]) then redis.call('RPUSH', KEYS[2], '1') end return 1"
)


def _command(*args: str) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args)


class _Subscriber(asyncio.Protocol):
    """Reads pushed messages (`*3 message CHANNEL ID`) and acknowledges each on `ack`'s connection."""

    def __init__(self, ack: asyncio.Transport, nodes: int) -> None:
        self.ack, self.nodes, self.buf = ack, nodes, b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while b"message" in self.buf:
            _, _, rest = self.buf.partition(b"message\r\n")
            parts = rest.split(b"\r\n")
            if len(parts) < 5:  # $len, channel, $len, id, and what follows
                return
            purge_id = parts[3].decode()
            self.buf = b"\r\n".join(parts[4:])
            self.ack.write(_command("EVAL", ACK, "2", f"{purge_id}:n", f"{purge_id}:done", str(self.nodes)))


class _Sink(asyncio.Protocol):
    def data_received(self, data: bytes) -> None:
        pass


def node_main(url: str, channel: str, nodes: int) -> None:
    import uvloop

    host, _, port = url.split("//", 1)[1].split("/", 1)[0].partition(":")

    async def run() -> None:
        loop = asyncio.get_running_loop()
        ack, _ = await loop.create_connection(_Sink, host, int(port or 6379))
        sub, _ = await loop.create_connection(lambda: _Subscriber(ack, nodes), host, int(port or 6379))
        sub.write(_command("SUBSCRIBE", channel))
        await asyncio.sleep(0.2)
        print("ready", flush=True)
        await asyncio.Event().wait()

    uvloop.run(run())


def measure(url: str, nodes: int, rounds: int, pause: float = 0.003) -> list[float]:
    """Milliseconds from PUBLISH until the sender holds the last node's mark, per round (the
    rounds `pause` apart, about as far apart as the bench's purge rounds)."""
    import redis

    channel = "purge-floor:" + uuid.uuid4().hex[:8]
    procs = [
        subprocess.Popen([sys.executable, __file__, "node", url, channel, str(nodes)], stdout=subprocess.PIPE)
        for _ in range(nodes)
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            if b"ready" not in p.stdout.readline():
                raise RuntimeError("a purge-floor node did not start")
        r: Any = redis.Redis.from_url(url)
        took = []
        for i in range(rounds):
            purge_id = f"{channel}:{i}"
            pipe = r.pipeline(transaction=False)
            t0 = time.perf_counter()
            pipe.publish(channel, purge_id)
            pipe.blpop(f"{purge_id}:done", 5)
            if pipe.execute()[-1] is None:
                raise RuntimeError("the purge floor's nodes did not answer within 5 s")
            took.append((time.perf_counter() - t0) * 1000)
            r.delete(f"{purge_id}:n")
            time.sleep(pause)
        r.close()
        return took
    finally:
        for p in procs:
            p.kill()
            p.wait()


if __name__ == "__main__":
    if sys.argv[1:2] == ["node"]:
        node_main(sys.argv[2], sys.argv[3], int(sys.argv[4]))
