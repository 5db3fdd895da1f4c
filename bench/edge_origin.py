"""The origin the edge bench puts nginx and the edge in front of: an asyncio protocol over httptools.

python bench/edge_origin.py PORT TAG

/small      1,400 bytes, max-age=3600          /large     40,000 bytes, max-age=3600
/nostore    1,400 bytes, no-store (a miss every time through a cache)
/versioned  "v<N>" with a strong ETag and X-Tag: TAG, max-age=3600; /bump makes it N+1
/slow?...   like /small after 100 ms         /stats     requests seen per path (JSON)
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from typing import Any

import httptools

SMALL = b"s" * 1400
LARGE = b"L" * 40000


class Origin(asyncio.Protocol):
    state: dict[str, Any] = {"version": 1, "seen": Counter(), "tag": ""}

    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_message_begin(self) -> None:
        self.url = b""

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_message_complete(self) -> None:
        path = self.url.decode().partition("?")[0]
        self.state["seen"][path] += 1
        if path == "/slow":
            asyncio.get_running_loop().call_later(0.1, self.answer, path)
        else:
            self.answer(path)

    def answer(self, path: str) -> None:
        cc, extra, body = "max-age=3600", "", SMALL
        if path == "/large":
            body = LARGE
        elif path == "/nostore":
            cc = "no-store"
        elif path == "/versioned":
            v = self.state["version"]
            body = f"v{v}".encode()
            extra = f'ETag: "v{v}"\r\nX-Tag: {self.state["tag"]}\r\n'
        elif path == "/bump":
            self.state["version"] += 1
            cc, body = "no-store", str(self.state["version"]).encode()
        elif path == "/stats":
            cc, body = "no-store", json.dumps(self.state["seen"]).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: {cc}\r\n{extra}Content-Length: {len(body)}\r\n\r\n"
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(head.encode() + body)


async def main(port: int, tag: str) -> None:
    Origin.state["tag"] = tag
    server = await asyncio.get_running_loop().create_server(Origin, "127.0.0.1", port, backlog=2048)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    import uvloop

    uvloop.run(main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else ""))
