"""Fetching from a site's origin through the hardened outbound client (`core.outbound`).

What goes to the origin: the client's end-to-end headers, less hop-by-hop ones, the client's own
validators and Range (the edge fetches whole objects and validates with its own), Host (the
origin's name is sent), and any credential of the edge itself (an edge API bearer token is never
passed on). Added: `X-Forwarded-For/-Host/-Proto` and the scope's `staticHeader[].originPull`
lines. The outbound client decodes gzip, so the edge stores identity bodies.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from stackyard.core.outbound import OutboundClient, OutboundError
from stackyard.edge.proxy.rules import HOP_BY_HOP, initial_age
from stackyard.edge.proxy.sites import Origin

_DROP_REQUEST = HOP_BY_HOP | {
    "host",
    "content-length",
    "accept-encoding",
    "range",
    "if-range",
    "if-none-match",
    "if-modified-since",
    "if-match",
    "if-unmodified-since",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
}
_DROP_RESPONSE = HOP_BY_HOP | {"content-length", "content-encoding", "age", "x-cache", "date"}


@dataclass
class Fetched:
    status: int
    headers: list[tuple[str, str]]  # end-to-end headers, names as the origin sent them
    lheaders: dict[str, str]  # lowercase names, repeated values joined with ", "
    body: bytes
    date: str | None
    age: float = 0.0  # the corrected initial age (RFC 9111 §4.2.3)


def url_for(origin: Origin, target: str, scheme: str | None = None) -> str:
    """The origin's URL for `target`: over `scheme` ("http" to its port, "https" to its secure
    port), by default HTTPS only when its port is 443."""
    if scheme is None:
        scheme = "https" if origin.port == 443 else "http"
    port = origin.secure_port if scheme == "https" else origin.port
    host = (
        origin.hostname
        if ":" not in origin.hostname or origin.hostname.startswith("[")
        else f"[{origin.hostname}]"
    )
    base = origin.path.rstrip("/")
    return f"{scheme}://{host}:{port}{base}{target}"


def request_headers(
    headers: list[tuple[str, str]],
    *,
    client_ip: str,
    host: str,
    proto: str,
    extra: list[tuple[str, str]],
    gzip: bool,
    is_edge_credential: Callable[[str], bool],
) -> dict[str, str]:
    connection_tokens = {t.strip().lower() for n, v in headers if n == "connection" for t in v.split(",")}
    out: dict[str, str] = {}
    forwarded_for = ""
    for name, value in headers:
        if name == "x-forwarded-for":
            forwarded_for = value
        if name in _DROP_REQUEST or name in connection_tokens:
            continue
        if name == "authorization" and is_edge_credential(value):
            continue
        out[name] = f"{out[name]}, {value}" if name in out else value
    out["x-forwarded-for"] = f"{forwarded_for}, {client_ip}" if forwarded_for else client_ip
    out["x-forwarded-host"] = host
    out["x-forwarded-proto"] = proto
    out["accept-encoding"] = "gzip" if gzip else "identity"
    for name, value in extra:
        out[name.lower()] = value
    return out


async def fetch(
    client: OutboundClient, method: str, url: str, headers: dict[str, str], body: bytes | None
) -> Fetched:
    """One origin request; raises OutboundError (refused, timeout, too large, broken)."""
    requested = time.time()
    response = await client.arequest(method, url, headers=headers, content=body or None)
    age = initial_age(
        {"age": response.headers.get("age", "0"), "date": response.headers.get("date", "")},
        requested,
        time.time(),
    )
    out: list[tuple[str, str]] = []
    lower: dict[str, str] = {}
    connection_tokens = {t.strip().lower() for t in response.headers.get("connection", "").split(",")}
    for name, value in response.headers.multi_items():
        ln = name.lower()
        if ln in _DROP_RESPONSE or ln in connection_tokens or "\r" in value or "\n" in value:
            continue
        out.append((name, value))
        lower[ln] = f"{lower[ln]}, {value}" if ln in lower else value
    return Fetched(response.status, out, lower, response.body, response.headers.get("date"), age)


__all__ = ["Fetched", "OutboundError", "fetch", "request_headers", "url_for"]
