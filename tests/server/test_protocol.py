"""The HTTP protocol layer of the real `stackyard serve`: request heads are bounded (414, 431, 408)
and bytes that are not HTTP get a JSON 400, each in the shape of the API the path belongs to, all
answered before the whole head is read. Over plain HTTP, TLS and with `--workers 2`.

The server runs as a subprocess (the in-thread test server does not use our protocol). Limits are
given through the environment, so a server without them still starts and the tests fail on what
it answers.
"""

from __future__ import annotations

import json
import select
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.server.test_crash import Server
from tests.server.test_serve import self_signed

LIMITS = {
    "STACKYARD_MAX_URL_BYTES": "4096",
    "STACKYARD_MAX_HEADER_BYTES": "8192",
    "STACKYARD_MAX_HEADERS": "40",
    "STACKYARD_REQUEST_RECEIVE_TIMEOUT_SECONDS": "1",
}
CONTENTSTACK = {"error_message", "error_code", "errors"}
# A path of each API, and the keys its error body has.
SHAPES = {
    "/healthz": CONTENTSTACK,
    "/v3/environments": CONTENTSTACK,
    "/api/v1/actions": {"faultstring"},
    "/stack/v1/stacks": {"code", "message", "details"},
}


def start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: list[str] | None = None) -> Server:
    for name, value in LIMITS.items():
        monkeypatch.setenv(name, value)
    server = Server(f"sqlite:///{tmp_path}/protocol.db", tmp_path, extra)
    server.start()
    return server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with pytest.MonkeyPatch.context() as mp:
        s = start(tmp_path_factory.mktemp("protocol"), mp)
    try:
        yield s
    finally:
        s.stop()


class Answer:
    def __init__(self, raw: bytes, seconds: float, sent: int) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/") else 0
        self.headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        self.seconds = seconds
        self.sent = sent  # bytes the client got to send before the answer came

    def json(self) -> Any:
        return json.loads(self.body)


def connect(url: str, cafile: Path | None = None) -> socket.socket:
    parsed = urlparse(url)
    sock = socket.create_connection((parsed.hostname, parsed.port), timeout=10)
    if parsed.scheme == "https":
        context = ssl.create_default_context(cafile=str(cafile))
        sock = context.wrap_socket(sock, server_hostname=parsed.hostname)
    return sock


def exchange(
    url: str,
    head: bytes,
    *,
    filler: bytes = b"",
    filler_bytes: int = 0,
    cafile: Path | None = None,
    wait: float = 10.0,
) -> Answer:
    """Send `head`, then up to `filler_bytes` of `filler` until the server answers; read the answer."""
    started = time.monotonic()
    sent = 0
    raw = b""
    with connect(url, cafile) as sock:
        try:
            sock.sendall(head)
            sent = len(head)
            while sent < filler_bytes:
                readable, writable, _ = select.select([sock], [sock], [], wait)
                if readable:
                    early = _read_now(sock)
                    if early is not None:
                        raw = early
                        break
                elif not writable:
                    break
                else:
                    sent += sock.send(filler)
        except OSError:
            pass  # the server answered and closed while we were still sending
        sock.settimeout(wait)
        try:
            while not _complete(raw) and (chunk := sock.recv(65536)):
                raw += chunk
        except OSError:
            pass
    return Answer(raw, time.monotonic() - started, sent)


def _complete(raw: bytes) -> bool:
    head, found, body = raw.partition(b"\r\n\r\n")
    lengths = [int(line[15:]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")]
    return bool(found) and bool(lengths) and len(body) >= lengths[0]


def _read_now(sock: socket.socket) -> bytes | None:
    """What the server has sent, without waiting; None when nothing (over TLS, a readable socket
    may hold only the handshake's session tickets)."""
    sock.setblocking(False)
    try:
        return sock.recv(65536)
    except (ssl.SSLWantReadError, BlockingIOError):
        return None
    finally:
        sock.setblocking(True)


def assert_shaped(answer: Answer, status: int, path: str) -> dict[str, Any]:
    """`status`, as JSON in the shape of `path`'s API, with a request id, closing the connection."""
    assert answer.status == status, (answer.status, answer.headers, answer.body[:300])
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers.get("x-request-id")
    assert answer.headers.get("connection") == "close"
    body = answer.json()
    assert set(body) >= SHAPES[path], body
    return dict(body)


@pytest.mark.parametrize("path", SHAPES)
def test_a_huge_header_is_refused_before_it_is_read(server: Server, path: str) -> None:
    # given a client that starts a 100 MB header
    head = f"GET {path} HTTP/1.1\r\nHost: x\r\nX-Big: ".encode()
    # when it sends as fast as it can, then it gets 431 in its API's shape after a few KB, at once
    answer = exchange(server.url, head, filler=b"a" * 65536, filler_bytes=100 * 1024 * 1024)
    assert_shaped(answer, 431, path)
    assert answer.seconds < 2, answer.seconds
    assert answer.sent < 16 * 1024 * 1024, answer.sent


def test_too_many_headers_and_too_many_header_bytes(server: Server) -> None:
    many = b"".join(b"X-H%d: 1\r\n" % i for i in range(41))
    assert_shaped(
        exchange(server.url, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"), 431, "/healthz"
    )
    # forty headers of 300 bytes each: within the count, over the bytes
    wide = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 300) for i in range(30))
    answer = exchange(server.url, b"GET /api/v1/actions HTTP/1.1\r\nHost: x\r\n" + wide + b"\r\n")
    assert_shaped(answer, 431, "/api/v1/actions")
    # and a head within both limits is served
    fine = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(30))
    assert exchange(server.url, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + fine + b"\r\n").status == 200


@pytest.mark.parametrize("path", SHAPES)
def test_a_long_url_is_414(server: Server, path: str) -> None:
    head = f"GET {path}?q=".encode()
    answer = exchange(server.url, head, filler=b"a" * 1024, filler_bytes=10 * 1024 * 1024)
    assert_shaped(answer, 414, path)
    assert answer.sent < 16 * 1024 * 1024
    ok = exchange(server.url, b"GET /healthz?q=" + b"a" * 3000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert ok.status == 200


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/actions", "/stack/v1/stacks"])
def test_a_slow_head_is_408(server: Server, path: str) -> None:
    # given a client that sends half a head and then nothing (slowloris)
    answer = exchange(server.url, f"GET {path} HTTP/1.1\r\nHost: x\r\nX-Slow: ".encode(), wait=10)
    # then after the receive timeout (1 s here) it gets 408 and the connection is closed
    assert_shaped(answer, 408, path)
    assert 0.8 < answer.seconds < 4, answer.seconds


def test_a_stalled_body_is_408(server: Server) -> None:
    head = b"POST /v3/user-session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    answer = exchange(server.url, head + b'{"user": ', wait=10)
    assert_shaped(answer, 408, "/v3/environments")
    assert 0.8 < answer.seconds < 4, answer.seconds


def test_a_connection_that_sends_nothing_is_closed(server: Server) -> None:
    started = time.monotonic()
    with connect(server.url) as sock:
        sock.settimeout(10)
        assert sock.recv(100) == b""
    assert time.monotonic() - started < 4


BAD_HTTP = {
    "nul in a header": b"GET {path} HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
    "negative length": b"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    "two lengths": b"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "bad request line": b"GET {path} HTTP/9\r\n\r\n",
    "bad header name": b"GET {path} HTTP/1.1\r\nHo st: x\r\n\r\n",
}


@pytest.mark.parametrize("path", SHAPES)
@pytest.mark.parametrize("kind", BAD_HTTP)
def test_bytes_that_are_not_http_get_a_json_400(server: Server, path: str, kind: str) -> None:
    answer = exchange(server.url, BAD_HTTP[kind].replace(b"{path}", path.encode()))
    assert_shaped(answer, 400, path)


def test_garbage_gets_a_json_400(server: Server) -> None:
    answer = exchange(server.url, b"\x16\x03\x01 not http at all\r\n\r\n")
    assert answer.status == 400 and set(answer.json()) >= CONTENTSTACK


def test_a_url_over_64_kib_is_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a server that allows longer URLs than httptools itself can parse (64 KiB)
    monkeypatch.setenv("STACKYARD_MAX_URL_BYTES", str(200 * 1024))
    monkeypatch.setenv("STACKYARD_MAX_HEADER_BYTES", str(200 * 1024))
    server = Server(f"sqlite:///{tmp_path}/long.db", tmp_path)
    server.start()
    try:
        head = b"GET /api/v1/actions?q=" + b"a" * 70 * 1024 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        assert_shaped(exchange(server.url, head), 400, "/api/v1/actions")
    finally:
        server.stop()


def test_limits_hold_over_tls_and_with_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = self_signed(tmp_path)
    tls = start(tmp_path, monkeypatch, ["--tls-cert", str(cert), "--tls-key", str(key), "--workers", "2"])
    try:
        head = b"GET /stack/v1/stacks HTTP/1.1\r\nHost: x\r\nX-Big: "
        answer = exchange(tls.url, head, filler=b"a" * 65536, filler_bytes=50 * 1024 * 1024, cafile=cert)
        assert_shaped(answer, 431, "/stack/v1/stacks")
        assert answer.sent < 16 * 1024 * 1024
        slow = exchange(tls.url, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", cafile=cert)
        assert_shaped(slow, 408, "/healthz")
        bad = exchange(tls.url, b"GET /healthz HTTP/1.1\r\nContent-Length: -1\r\n\r\n", cafile=cert)
        assert_shaped(bad, 400, "/healthz")
        ok = exchange(tls.url, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", cafile=cert)
        assert ok.status == 200
    finally:
        tls.stop()


def test_a_client_gone_mid_body_is_one_quiet_log_line(server: Server) -> None:
    log = server.data_dir / "server.log"
    before = log.read_text()
    # given clients that promise a body and hang up halfway, on two JSON routes
    for path in ("/v3/user-session", "/v3/environments"):
        with connect(server.url) as sock:
            sock.sendall(
                f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n".encode() + b"{" * 10
            )
            time.sleep(0.2)
    time.sleep(0.5)
    # then the log has a line for each, and no traceback
    added = log.read_text()[len(before) :]
    assert "Traceback" not in added, added
    assert "unhandled" not in added, added
    assert added.count("disconnected") == 2, added
