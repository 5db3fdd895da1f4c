"""The CDN configuration blocks a scope sets (`edge.configuration`), applied to one request path.

Pure functions of the configuration dict; `pathFilter` is a glob (`fnmatch`) over the path, and an
entry with `enabled: false` is skipped. The first matching entry of a block wins.
"""

from __future__ import annotations

import fnmatch
from dataclasses import replace
from typing import Any

from stackyard.edge.proxy.rules import Freshness

NEVER = 10 * 365 * 86400.0


def _entries(config: dict[str, Any], block: str, path: str) -> list[dict[str, Any]]:
    out = []
    for entry in config.get(block) or []:
        if not isinstance(entry, dict) or entry.get("enabled") is False:
            continue
        pattern = entry.get("pathFilter") or "*"
        if fnmatch.fnmatchcase(path, pattern) or (pattern.endswith("/*") and path == pattern[:-2]):
            out.append(entry)
    return out


def bypass(config: dict[str, Any], path: str) -> bool:
    """`bypassCache`: fetch from the origin every time."""
    return any(e.get("bypassCache", True) for e in _entries(config, "bypassCache", path))


def honoured(config: dict[str, Any], path: str) -> tuple[bool, bool, bool]:
    """(honour no-store, honour private, honour no-cache) per `originPullPolicy`."""
    for e in _entries(config, "originPullPolicy", path):
        return e.get("honorNoStore", True), e.get("honorPrivate", True), e.get("honorNoCache", True)
    return True, True, True


def lifetime(config: dict[str, Any], path: str, fresh: Freshness, explicit: bool) -> Freshness:
    """The freshness after `originPullPolicy` and `cacheControl`; `explicit`: the origin gave one."""
    for e in _entries(config, "originPullPolicy", path):
        policy = e.get("expirePolicy", "INCOMING_TTL")
        if policy == "DO_NOT_CACHE":
            return Freshness(False, reason="originPullPolicy DO_NOT_CACHE")
        if policy == "NEVER_EXPIRE":
            return replace(fresh, storable=True, ttl=NEVER, revalidate_always=False)
        if policy == "SPECIFY_CDN_TTL":
            return replace(
                fresh, storable=True, ttl=float(e.get("expireSeconds", 0)), revalidate_always=False
            )
        break
    for e in _entries(config, "cacheControl", path):
        if e.get("override") or not explicit:
            return replace(fresh, storable=True, ttl=float(e.get("maxAge", 0)))
        break
    return fresh


def _lines(text: str) -> list[tuple[str, str]]:
    out = []
    for line in (text or "").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            out.append((name.strip(), value.strip()))
    return out


def response_headers(config: dict[str, Any], path: str) -> list[tuple[str, str]]:
    """`staticHeader[].http`: headers added to answers."""
    return [h for e in _entries(config, "staticHeader", path) for h in _lines(e.get("http", ""))]


def origin_headers(config: dict[str, Any], path: str) -> list[tuple[str, str]]:
    """`staticHeader[].originPull`: headers added to origin requests."""
    return [h for e in _entries(config, "staticHeader", path) for h in _lines(e.get("originPull", ""))]


def gzip_origin(config: dict[str, Any]) -> bool:
    block = config.get("gzipOriginPull")
    return isinstance(block, dict) and block.get("enabled", True) is True


def pull_scheme(config: dict[str, Any], client_proto: str) -> str | None:
    """`originPullProtocol`: "http" or "https" for the origin, None for the default (`url_for`'s)."""
    block = config.get("originPullProtocol")
    protocol = block.get("protocol") if isinstance(block, dict) else None
    if protocol == "MATCH":
        return "https" if client_proto == "https" else "http"
    return {"HTTP": "http", "HTTPS": "https"}.get(str(protocol))
