"""The cache-first path of delivery reads (DESIGN §8): a cached answer is sent before routing, token
lookup, schema loads or a thread hop; only misses go on to the routes, which store their answers.

The key is the path, the query string (parameters in a stable order: repeated ones keep theirs)
and the credential headers (`api_key`, `access_token`, `environment`, `branch`). Requests that
ask for something the key does not hold (variants, live preview) bypass the cache. `If-None-Match`
with the answer's ETag gets 304.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qsl, urlencode

from stackyard.api.cda.common import CACHE_KEY, not_modified
from stackyard.content.delivery import cache as response_cache
from stackyard.store.engine import Database

_CREDENTIALS = (b"api_key", b"access_token", b"environment", b"branch")
_BYPASS = (b"x-cs-variant-uid", b"preview_token", b"authorization", b"authtoken", b"live_preview")
_HIT = (b"x-cache", b"HIT")


# Paths whose answers change with every event, not with what a tag names.
_UNCACHED = ("/v3/stacks/sync",)


def key_of(scope: dict[str, Any]) -> tuple[str, ...] | None:
    if scope["path"] in _UNCACHED:
        return None
    found: dict[bytes, bytes] = {}
    inm = None
    for k, v in scope["headers"]:
        if k in _CREDENTIALS:
            found[k] = v
        elif k in _BYPASS:
            return None
        elif k == b"if-none-match":
            inm = v
    raw = scope.get("query_string", b"")
    if b"live_preview" in raw:
        return None
    query = raw.decode("latin-1")
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        pairs.sort(key=lambda p: p[0])  # stable: repeated parameters keep their order
        query = urlencode(pairs)
    scope.setdefault("state", {})["cda_if_none_match"] = inm
    return (
        scope["path"],
        query,
        *(found.get(k, b"").decode("latin-1") for k in _CREDENTIALS),
    )


class CacheFirst:
    """ASGI layer in front of the routes; inside `RequestContext` (request id, access log)."""

    def __init__(self, app: Any, db: Database, *, enabled: bool) -> None:
        self.app = app
        self.db = db
        self.enabled = enabled
        self.cache = response_cache.of(db)
        self.local = db.dialect == "sqlite"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (
            not self.enabled
            or scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or scope.get("state", {}).get("api") != "cda"
        ):
            await self.app(scope, receive, send)
            return
        key = key_of(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        if self.local:
            self.cache.catch_up(self.db)
        else:
            await asyncio.to_thread(self.cache.catch_up, self.db)
        hit = self.cache.get(key)
        if hit is None:
            token = CACHE_KEY.set(key)
            try:
                await self.app(scope, receive, send)
            finally:
                CACHE_KEY.reset(token)
            return
        inm = scope["state"].get("cda_if_none_match")
        if inm is not None and not_modified(inm.decode("latin-1"), hit.etag):
            headers = [h for h in hit.headers if h[0] != b"content-type"]
            await send({"type": "http.response.start", "status": 304, "headers": [*headers, _HIT]})
            await send({"type": "http.response.body", "body": b""})
            return
        body = hit.body
        headers = [*hit.headers, _HIT, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": hit.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
