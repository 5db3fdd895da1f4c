"""The edge's HTTP/1.1 wire pieces: a parsed request (`Request`) and the heads and plain answers
the data plane writes (`simple`, `build_head`)."""

from __future__ import annotations

_REASONS = {
    200: "OK",
    203: "Non-Authoritative Information",
    204: "No Content",
    206: "Partial Content",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    410: "Gone",
    416: "Range Not Satisfiable",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    501: "Not Implemented",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class Request:
    __slots__ = (
        "body",
        "client_ip",
        "headers",
        "host",
        "keep_alive",
        "method",
        "path",
        "proto",
        "raw_headers",
        "target",
    )

    def __init__(
        self,
        method: str,
        target: str,
        raw_headers: list[tuple[str, str]],
        body: bytes,
        keep_alive: bool,
        client_ip: str = "",
        proto: str = "http",
    ) -> None:
        self.method = method
        self.target = target if target.startswith("/") else "/" + target
        self.path = self.target.partition("?")[0]
        self.raw_headers = raw_headers
        self.headers = dict(raw_headers)
        self.body = body
        self.keep_alive = keep_alive
        self.client_ip = client_ip
        self.proto = proto
        host = self.headers.get("host", "")
        # drop the port; an IPv6 literal keeps its brackets
        self.host = (host.rpartition(":")[0] if ":" in host and not host.endswith("]") else host).lower()


def reason(status: int) -> str:
    return _REASONS.get(status, "Status")


def simple(status: int, text: str, keep_alive: bool, extra: str = "") -> bytes:
    body = text.encode()
    head = (
        f"HTTP/1.1 {status} {reason(status)}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n{extra}{'' if keep_alive else 'Connection: close' + chr(13) + chr(10)}\r\n"
    )
    return head.encode("latin-1") + body


def build_head(status: int, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason(status)}\r\n"]
    lines += [f"{n}: {v}\r\n" for n, v in headers]
    return "".join(lines).encode("latin-1", "replace")
