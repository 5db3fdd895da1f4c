"""The data plane's HTTP/1.1 server on one kept-alive connection: the same request bytes again are
answered from the cache only while the entry is fresh, and every decision is taken as for a first
request (a purge, a disabled site, a stale entry, pipelining)."""

from __future__ import annotations

import re
import socket

from stackyard.edge import sites
from tests.edge.conftest import DOMAIN, Edge

REQUEST = f"GET /same HTTP/1.1\r\nHost: {DOMAIN}\r\nUser-Agent: t\r\n\r\n".encode()


class Conn:
    """One kept-alive client connection, reading whole answers (Content-Length bodies)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def ask(self, raw: bytes = REQUEST, answers: int = 1) -> list[tuple[int, dict[str, str], bytes]]:
        self.sock.sendall(raw)
        return [self.answer() for _ in range(answers)]

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            self.buf += self.sock.recv(65536)
        body, self.buf = self.buf[:length], self.buf[length:]
        return int(lines[0].split()[1]), headers, body

    def close(self) -> None:
        self.sock.close()


def test_the_same_bytes_again_are_a_hit_until_a_purge(edge: Edge) -> None:
    version = {"n": 1}
    edge.origin.routes["/same"] = lambda seen: (200, {"Cache-Control": "max-age=600"}, b"v%d" % version["n"])
    conn = Conn(edge.plane.port)
    try:
        # Given a cached answer, asked for with the same bytes on one connection
        statuses = [conn.ask()[0] for _ in range(3)]
        assert [(s, h["x-cache"], b) for s, h, b in statuses] == [
            (200, "MISS", b"v1"),
            (200, "HIT", b"v1"),
            (200, "HIT", b"v1"),
        ]
        # When it is purged: the same bytes fetch the new version
        version["n"] = 2
        edge.purge({"url": "/same"})
        status, headers, body = conn.ask()[0]
        assert (status, headers["x-cache"], body) == (200, "MISS", b"v2")
        assert conn.ask()[0][2] == b"v2"
        assert edge.origin.count("/same") == 2
        # When the site is disabled: the same bytes are refused
        with edge.db.write() as tx:
            sites.set_enabled(tx, edge.caller, edge.stack_id, edge.site_id, False)
        edge.plane.reload_now()
        assert conn.ask()[0][0] == 403
    finally:
        conn.close()


def test_a_stale_entry_is_revalidated_and_pipelined_requests_keep_their_order(edge: Edge) -> None:
    edge.origin.routes["/same"] = lambda seen: (200, {"Cache-Control": "max-age=0", "ETag": '"e"'}, b"x")
    edge.origin.route("/other", body=b"other", Cache_Control="max-age=600")
    conn = Conn(edge.plane.port)
    try:
        conn.ask(), conn.ask()
        assert edge.origin.count("/same") == 2  # never fresh: asked of the origin every time
        other = REQUEST.replace(b"/same", b"/other")
        answers = conn.ask(other + REQUEST + other, answers=3)
        assert [b for _, _, b in answers] == [b"other", b"x", b"other"]
        assert re.fullmatch(r"\d+", answers[2][1]["age"])
    finally:
        conn.close()
