"""An outbound client that keeps connections alive (`keepalive`) still applies every rule on every
call: proven against a real HTTP/1.1 server on 127.0.0.1 that counts the connections it accepts.
(`test_outbound.py` runs each of its rule tests through this path too.)"""

from __future__ import annotations

import asyncio
import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from stackyard.core.outbound import (
    OutboundClient,
    OutboundError,
    OutboundPolicy,
    OutboundRefused,
    OutboundTooLarge,
)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.connections = 0
        self.hosts: list[str] = []

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.connections += 1
        return True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up mid-answer (the caps) is expected here


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive: /ok answers "hello"; /close answers and closes; /gzip and /bomb
    answer gzip bodies (5 bytes and 1 MB decoded); /fat sends 100 kB of headers."""

    protocol_version = "HTTP/1.1"
    server: Server

    def do_GET(self) -> None:
        self.server.hosts.append(self.headers.get("host", ""))
        body, extra = b"hello", {}
        if self.path == "/gzip":
            body, extra = gzip.compress(b"hello"), {"Content-Encoding": "gzip"}
        elif self.path == "/bomb":
            body, extra = gzip.compress(b"\0" * 1_000_000), {"Content-Encoding": "gzip"}
        elif self.path == "/close":
            extra = {"Connection": "close"}
        elif self.path == "/fat":
            extra = {f"X-Fat-{i}": "f" * 1000 for i in range(100)}
        self.send_response(200)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.path == "/close":
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    threading.Thread(target=s.serve_forever, args=(0.05,), daemon=True).start()
    yield s
    s.shutdown()
    s.server_close()


class Names:
    """A resolver whose answers the test changes, counting the lookups."""

    def __init__(self, **names: str) -> None:
        self.names = {k.replace("_", "."): v for k, v in names.items()}
        self.lookups = 0

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups += 1
        return [self.names[host]]


def run(client: OutboundClient, *urls: str) -> list[Any]:
    async def calls() -> list[Any]:
        try:
            return [await client.arequest("GET", u) for u in urls]
        finally:
            await client.aclose()

    return asyncio.run(calls())


def test_calls_to_one_name_share_a_connection_and_each_is_looked_up_and_checked(server: Server) -> None:
    names = Names(a_example_test="127.0.0.1")
    policy = OutboundPolicy(exempt_hosts=frozenset({"a.example.test"}))
    url = f"http://a.example.test:{server.server_address[1]}/ok"
    answers = run(OutboundClient(policy, names, keepalive=4), url, url, url)
    assert [a.body for a in answers] == [b"hello"] * 3
    assert (server.connections, names.lookups) == (1, 3)
    assert server.hosts == [f"a.example.test:{server.server_address[1]}"] * 3


def test_two_names_on_one_address_never_share_a_connection(server: Server) -> None:
    names = Names(a_example_test="127.0.0.1", b_example_test="127.0.0.1")
    policy = OutboundPolicy(exempt_hosts=frozenset({"a.example.test", "b.example.test"}))
    port = server.server_address[1]
    run(OutboundClient(policy, names, keepalive=4), *(f"http://{n}.example.test:{port}/ok" for n in "abab"))
    assert server.connections == 2


def test_a_name_that_now_resolves_to_a_private_address_is_refused_despite_a_kept_connection(
    server: Server,
) -> None:
    # the first call goes to an exempt name; then the same client is asked for a name that
    # resolves to the very address an idle connection is open to
    names = Names(ok_example_test="127.0.0.1", evil_example_test="127.0.0.1")
    client = OutboundClient(OutboundPolicy(exempt_hosts=frozenset({"ok.example.test"})), names, keepalive=4)
    port = server.server_address[1]

    async def calls() -> None:
        await client.arequest("GET", f"http://ok.example.test:{port}/ok")
        with pytest.raises(OutboundRefused, match="loopback"):
            await client.arequest("GET", f"http://evil.example.test:{port}/ok")
        await client.aclose()

    asyncio.run(calls())
    assert server.connections == 1 and len(server.hosts) == 1


def test_a_connection_the_server_closed_is_replaced(server: Server) -> None:
    client = OutboundClient(OutboundPolicy(allow_private=True), keepalive=4)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    answers = run(client, f"{base}/close", f"{base}/ok", f"{base}/ok")
    assert [a.body for a in answers] == [b"hello"] * 3
    assert server.connections == 2


def test_gzip_is_decoded_and_the_cap_counts_decoded_bytes(server: Server) -> None:
    base = f"http://127.0.0.1:{server.server_address[1]}"
    (answer,) = run(OutboundClient(OutboundPolicy(allow_private=True), keepalive=4), f"{base}/gzip")
    assert answer.body == b"hello"
    capped = OutboundClient(OutboundPolicy(allow_private=True, max_response_bytes=100_000), keepalive=4)
    with pytest.raises(OutboundTooLarge):
        run(capped, f"{base}/bomb")


def test_headers_past_the_cap_fail_the_call(server: Server) -> None:
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with pytest.raises(OutboundError, match="headers passed"):
        run(OutboundClient(OutboundPolicy(allow_private=True), keepalive=4), f"{base}/fat")


def test_a_method_or_header_that_would_split_the_request_is_refused_unsent(server: Server) -> None:
    client = OutboundClient(OutboundPolicy(allow_private=True), keepalive=4)
    url = f"http://127.0.0.1:{server.server_address[1]}/ok"

    async def calls() -> None:
        with pytest.raises(OutboundRefused, match="not an HTTP method"):
            await client.arequest("GET /ok HTTP/1.1\r\nX: y\r\n\r\nGET", url)
        with pytest.raises(OutboundRefused, match="line break"):
            await client.arequest("GET", url, headers={"X-Bad": "a\r\nX-Injected: 1"})
        await client.aclose()

    asyncio.run(calls())
    assert server.connections == 0
