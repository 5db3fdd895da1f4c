"""A small HTTP/1.1 keep-alive load generator, run as its own process so it never shares the server's GIL.

It reads a JSON plan on stdin and writes a JSON result on stdout:

    plan   = {"host", "port", "connections", "warmup", "seconds", "expect": 200,
              "requests": [{"method", "path", "headers": {...}, "body": "..."}]}
    result = {"completed", "errors", "statuses": {...}, "latencies_us": [...], "elapsed"}

Each connection sends one request, waits for the whole response, records the latency and sends the
next one (closed loop, as `wrk` does). Requests are cycled per connection; a body may contain `{n}`,
replaced by a number unique across all processes and connections, for writes that must differ.
Protocol callbacks on uvloop, pre-encoded requests and a byte-level response parser keep the
generator cheap: on this kind of machine it drives well over 10,000 req/s from one core.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any


def encode(host: str, port: int, req: dict[str, Any], n: str | None = None) -> bytes:
    body = req.get("body") or ""
    if n is not None:
        body = body.replace("{n}", n)
    raw = body.encode()
    headers = req.get("headers") or {}
    lines = [f"{req['method']} {req['path']} HTTP/1.1"]
    if not any(k.lower() == "host" for k in headers):  # a request may name its own Host (the edge's sites)
        lines.append(f"Host: {host}:{port}")
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if raw or req["method"] in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(raw)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + raw


class Run:
    """State shared by the connections of one process."""

    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.host, self.port = plan["host"], int(plan["port"])
        self.requests: list[dict[str, Any]] = plan["requests"]
        self.templated = any("{n}" in (r.get("body") or "") for r in self.requests)
        self.fixed = [encode(self.host, self.port, r) for r in self.requests]
        self.expect = int(plan.get("expect", 200))
        self.tag = plan.get("tag", str(os.getpid()))
        self.counter = 0
        self.start = 0.0
        self.measure_from = 0.0
        self.measure_to = 0.0
        self.stopping = False
        self.latencies: list[int] = []
        self.statuses: dict[int, int] = {}
        self.errors = 0
        self.samples: list[str] = []

    def request(self, i: int) -> bytes:
        k = i % len(self.requests)
        if not self.templated:
            return self.fixed[k]
        self.counter += 1
        return encode(self.host, self.port, self.requests[k], f"{self.tag}-{self.counter}")

    def record(self, status: int, sent: float, done: float, body: bytes) -> None:
        if self.measure_from <= done <= self.measure_to:
            self.latencies.append(int((done - sent) * 1_000_000))
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status != self.expect:
                self.errors += 1
                if len(self.samples) < 5:
                    self.samples.append(body[:300].decode("utf-8", "replace"))


class Conn(asyncio.Protocol):
    def __init__(self, run: Run, index: int, finished: asyncio.Future[None]) -> None:
        self.run = run
        self.i = index
        self.finished = finished
        self.buf = bytearray()
        self.sent = 0.0
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.send()

    def send(self) -> None:
        if self.run.stopping:
            self.transport.close()
            return
        payload = self.run.request(self.i)
        self.i += 1
        self.sent = time.perf_counter()
        self.transport.write(payload)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(buf[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            self.run.errors += 1
            self.transport.close()
            return
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : stop if stop > 0 else len(head)])
        total = end + 4 + length
        if len(buf) < total:
            return
        status = int(buf[9:12])
        body = bytes(buf[end + 4 : total]) if status != self.run.expect else b""
        del buf[:total]
        self.run.record(status, self.sent, time.perf_counter(), body)
        self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.run.stopping:
            self.run.errors += 1
        if not self.finished.done():
            self.finished.set_result(None)


async def main(plan: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    run = Run(plan)
    warmup, seconds = float(plan.get("warmup", 1.0)), float(plan["seconds"])
    run.start = time.perf_counter()
    run.measure_from = run.start + warmup
    run.measure_to = run.measure_from + seconds
    offset = int(plan.get("offset", 0))
    waits = []
    for c in range(int(plan["connections"])):
        fut: asyncio.Future[None] = loop.create_future()
        waits.append(fut)
        await loop.create_connection(lambda c=c, fut=fut: Conn(run, offset + c, fut), run.host, run.port)
    await asyncio.sleep(max(0.0, run.measure_to - time.perf_counter()))
    run.stopping = True
    await asyncio.wait(waits, timeout=10)
    return {
        "completed": len(run.latencies),
        "errors": run.errors,
        "statuses": {str(k): v for k, v in run.statuses.items()},
        "latencies_us": run.latencies,
        "elapsed": seconds,
        "error_samples": run.samples,
    }


if __name__ == "__main__":
    plan = json.load(sys.stdin)
    try:
        import uvloop

        result = uvloop.run(main(plan))
    except ImportError:  # plain asyncio still works, just slower
        result = asyncio.run(main(plan))
    json.dump(result, sys.stdout)
