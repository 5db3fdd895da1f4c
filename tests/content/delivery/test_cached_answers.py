"""Cached delivery answers as a client sees them on the wire, over the HTTP protocol `serve` runs:
on SQLite the protocol writes a hit itself (`server.protocol`, `CacheFirst.answer_now`), on
PostgreSQL the ASGI path does; either way, and on one connection with both, a hit is the same
answer: status, headers in order, body, 304 and HEAD, keep-alive and `Connection: close`, the
request id, the access line and the cache's statistics. A hit reaches only the credentials it was
stored for."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from typing import Any
from urllib.parse import urlparse

import httpx

from stackyard.server.app import create_app
from tests.conftest import _Switch
from tests.content.delivery.conftest import Site
from tests.server.test_access_log import stream  # noqa: F401  (the access logger on a stream)

E = "/v3/content_types/article/entries"


class Wire:
    """One keep-alive connection that writes raw requests and reads whole answers."""

    def __init__(self, url: str, receive_buffer: int = 0) -> None:
        u = urlparse(url)
        self.sock = socket.socket()
        if receive_buffer:  # a fixed size: the kernel does not grow it (nor hold more answers)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(30)
        self.sock.connect((u.hostname, u.port))
        self.buf = b""

    def send(self, *heads: bytes) -> None:
        self.sock.sendall(b"".join(heads))  # several at once: pipelined

    def answer(self, *, head: bool = False) -> tuple[int, list[tuple[str, str]], bytes]:
        """The next answer; `head`: to a HEAD, so its content-length has no body behind it."""
        while b"\r\n\r\n" not in self.buf:
            self._more()
        raw, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        headers = [(k.lower(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
        length = int(dict(headers).get("content-length", "0"))
        status = int(lines[0].split()[1])
        if status == 304 or head:
            length = 0
        while len(rest) < length:
            self._more()
            rest = self.buf.partition(b"\r\n\r\n")[2]
        self.buf = rest[length:]
        return status, headers, rest[:length]

    def closed(self, wait: float = 5) -> bool:
        """Whether the server closes the connection within `wait` seconds (without answering)."""
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(1) == b""
        except TimeoutError:
            return False
        except OSError:  # reset
            return True

    def _more(self) -> None:
        chunk = self.sock.recv(65536)
        assert chunk, "the server closed the connection"
        self.buf += chunk

    def close(self) -> None:
        self.sock.close()


def ask(site: Site, path: str, *extra: str, method: str = "GET", version: str = "1.1") -> bytes:
    """A delivery request's head with the site's production credentials and `extra` header lines."""
    head = f"{method} {path} HTTP/{version}\r\nHost: test\r\napi_key: {site.api_key}\r\n"
    head += f"access_token: {site.token}\r\nenvironment: production\r\n"
    return (head + "".join(line + "\r\n" for line in extra) + "\r\n").encode()


def _comparable(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, "" if k in ("date", "x-request-id") else v) for k, v in headers]


def _stats(site: Site) -> dict[str, Any]:
    return dict(httpx.get(site.live.url + "/healthz").json()["delivery_cache"])


def _entry(site: Site, title: str) -> str:
    e = site.create("article", {"title": title})
    site.publish("article", e["uid"])
    return str(e["uid"])


def test_a_hit_is_the_same_answer_from_either_path(site: Site) -> None:
    one, two = _entry(site, "One"), _entry(site, "Two")
    w = Wire(site.live.url)
    try:
        w.send(ask(site, f"{E}/{one}"))
        status, miss_headers, miss_body = w.answer()
        assert status == 200 and ("x-cache", "MISS") in miss_headers
        # given a cached answer, when it is asked alone, then it is a hit with the miss's body
        w.send(ask(site, f"{E}/{one}", "X-Request-Id: alone-1"))
        status, alone, body = w.answer()
        assert status == 200 and body == miss_body and ("x-cache", "HIT") in alone
        assert ("x-request-id", "alone-1") in alone
        # when it is pipelined behind a miss (which the ASGI path answers), the answers keep their
        # order and the hit is the same answer
        w.send(ask(site, f"{E}/{two}"), ask(site, f"{E}/{one}", "X-Request-Id: behind-1"))
        status, _, first_body = w.answer()
        assert status == 200 and json.loads(first_body)["entry"]["uid"] == two
        status, behind, body = w.answer()
        assert status == 200 and body == miss_body
        assert _comparable(behind) == _comparable(alone)
        assert ("x-request-id", "behind-1") in behind
        names = [k for k, _ in alone]
        assert names[-3:] == ["x-cache", "content-length", "x-request-id"]
        assert {"etag", "vary", "cache-control", "x-tag", "content-type", "date"} <= set(names)
    finally:
        w.close()


def test_304_head_and_closing_connections(site: Site) -> None:
    uid = _entry(site, "Tagged")
    path = f"{E}/{uid}"
    with site.cda() as c:
        full = c.get(path)
        assert c.get(path).headers["x-cache"] == "HIT"
    etag = full.headers["etag"]
    w = Wire(site.live.url)
    try:
        w.send(ask(site, path, f'If-None-Match: W/{etag}, "other"'))
        status, headers, body = w.answer()
        assert status == 304 and body == b""
        names = dict(headers)
        assert names["etag"] == etag and names["x-cache"] == "HIT"
        assert "content-type" not in names and "content-length" not in names
        w.send(ask(site, path, method="HEAD"))
        status, headers, body = w.answer(head=True)
        assert status == 200 and body == b"" and dict(headers)["content-length"] == str(len(full.content))
        w.send(ask(site, path))  # the connection is still good after both
        assert w.answer()[2] == full.content
        w.send(ask(site, path, "Connection: close"))
        status, headers, body = w.answer()
        assert status == 200 and body == full.content and ("connection", "close") in headers
        assert w.closed()
    finally:
        w.close()
    w = Wire(site.live.url)
    try:
        w.send(ask(site, path, version="1.0"))
        status, headers, body = w.answer()
        assert status == 200 and body == full.content and ("connection", "close") in headers
        assert w.closed()
    finally:
        w.close()


def test_an_idle_connection_after_a_hit_is_closed(site: Site) -> None:
    """As after any answer: a keep-alive connection that asks nothing more is closed after uvicorn's
    keep-alive timeout (5 s), not held open."""
    uid = _entry(site, "Idle")
    with site.cda() as c:
        c.get(f"{E}/{uid}")
    w = Wire(site.live.url)
    try:
        w.send(ask(site, f"{E}/{uid}"))
        status, headers, _ = w.answer()
        assert status == 200 and ("x-cache", "HIT") in headers and ("connection", "close") not in headers
        started = time.monotonic()
        assert w.closed(wait=15)
        assert 3 < time.monotonic() - started < 15
    finally:
        w.close()


def test_statistics_count_each_request_once(site: Site) -> None:
    uid = _entry(site, "Counted")
    before = _stats(site)
    with site.cda() as c:
        for _ in range(4):
            assert c.get(f"{E}/{uid}").status_code == 200
    after = _stats(site)
    assert after["misses"] - before["misses"] == 1
    assert after["hits"] - before["hits"] == 3
    assert after["stores"] - before["stores"] == 1


def test_a_hit_reaches_only_its_own_credentials(site: Site) -> None:
    uid = _entry(site, "Private")
    path = f"{E}/{uid}"
    with site.cda() as c:
        c.get(path)
        assert c.get(path).headers["x-cache"] == "HIT"
    r = site.cma.post(
        "/v3/stacks/delivery_tokens",
        json={
            "token": {"name": "Staging", "scope": [{"module": "environment", "environments": ["staging"]}]}
        },
    )
    assert r.status_code == 201, r.text
    staging = r.json()["token"]["token"]
    # given the production answer cached, a token for staging asking for production is refused,
    # and so is a made-up token
    for token in (staging, "cs" + "0" * 32):
        with httpx.Client(base_url=site.live.url) as c:
            r = c.get(
                path, headers={"api_key": site.api_key, "access_token": token, "environment": "production"}
            )
        assert r.status_code in (401, 403, 412, 422), (r.status_code, r.text)
        assert r.headers.get("x-cache") != "HIT" and "Private" not in r.text
    # and once the token that stored it is gone, its own hit stops answering
    tokens = site.cma.get("/v3/stacks/delivery_tokens").json()["tokens"]
    gone = next(t["uid"] for t in tokens if t["name"] == "Site")
    assert site.cma.delete(f"/v3/stacks/delivery_tokens/{gone}").status_code == 200
    with site.cda() as c:
        assert c.get(path).status_code == 401


def test_a_hit_writes_its_access_line(
    site: Site,
    _shared_server: tuple[_Switch, str],
    stream: io.StringIO,  # noqa: F811
) -> None:
    front, _ = _shared_server
    front.app = create_app(site.live.settings.replace(access_log=True), site.live.db)
    uid = _entry(site, "Logged")
    with site.cda() as c:
        c.get(f"{E}/{uid}")
        hit = c.get(f"{E}/{uid}", headers={"x-request-id": "logged-hit"})
    assert hit.headers["x-cache"] == "HIT"
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    mine = [line for line in lines if line["request_id"] == "logged-hit"]
    assert len(mine) == 1, lines
    line = mine[0]
    assert line["status"] == 200 and line["api"] == "cda" and line["method"] == "GET"
    assert line["path"] == f"{E}/{uid}" and site.token not in json.dumps(line)


def test_many_pipelined_hits_come_back_in_order(site: Site, _shared_server: tuple[_Switch, str]) -> None:
    """A client that sends tens of thousands of requests before reading an answer: once the answers
    back up, the server stops answering them (rather than holding every one in memory), and when
    the client reads, every answer comes back, in order."""
    server = _shared_server[0].server
    uid = _entry(site, "Piped")
    path = f"{E}/{uid}"
    with site.cda() as c:
        body = c.get(path).content
    n = 40_000  # about 10 MB of requests and 25 MB of answers
    w = Wire(site.live.url, receive_buffer=64 * 1024)
    try:
        heads = [ask(site, path, f"X-Request-Id: piped-{i}") for i in range(n)]
        sender = threading.Thread(target=w.send, args=tuple(heads), daemon=True)
        sender.start()
        sender.join(timeout=3)
        held = max(p.transport.get_write_buffer_size() for p in list(server.server_state.connections))
        assert held < 1024 * 1024, f"{held} bytes of answers held for a client that reads none"
        for i in range(n):
            status, headers, got = w.answer()
            assert status == 200 and got == body and ("x-request-id", f"piped-{i}") in headers, i
        sender.join(timeout=30)
    finally:
        w.close()
