"""The cache-first path of delivery reads (DESIGN §8): a cached answer is sent before routing, token
lookup, schema loads or a thread hop; only misses go on to the routes, which store their answers.

The key is the path, the query string (parameters sorted by name, stably: repeated ones keep their order)
and the credential headers (`api_key`, `access_token`, `environment`, `branch`). Requests that
ask for something the key does not hold (variants, live preview) bypass the cache. `If-None-Match`
with the answer's ETag gets 304.

On SQLite, where the event clock is read in place, `answer_now` gives a hit without the ASGI layer:
the HTTP protocol (`server.protocol`) asks it, through `RequestContext.answer_now`, as soon as a
GET's head is complete, and writes the answer itself. Both paths build the answer with `reply`, so
a hit is the same bytes either way; a miss, or anything `answer_now` cannot settle at once, goes
on to the ASGI path unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

from stackyard.api import routing
from stackyard.api.cda.common import CACHE_KEY, not_modified
from stackyard.api.dispatch import Reply
from stackyard.content.delivery import cache as response_cache
from stackyard.store.engine import Database

_CREDENTIALS = (b"api_key", b"access_token", b"environment", b"branch")
_BYPASS = (b"x-cs-variant-uid", b"preview_token", b"authorization", b"authtoken", b"live_preview")
_HIT = (b"x-cache", b"HIT")
# Set in the scope's state when `answer_now` counted the miss the ASGI path then answers.
_MISS_COUNTED = "stackyard.cda_miss_counted"


# Paths whose answers change with every event, not with what a tag names.
_UNCACHED = ("/v3/stacks/sync",)


def _name(pair: str) -> str:
    return pair.partition("=")[0]


def _settle(target: asyncio.Future[None], done: asyncio.Future[None]) -> None:
    if target.done():
        return
    if done.cancelled():
        target.cancel()
    elif done.exception() is not None:
        target.set_exception(done.exception())  # type: ignore[arg-type]
    else:
        target.set_result(None)


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
    raw = bytes(scope.get("query_string", b""))
    if b"live_preview" in raw:
        return None
    query = raw.decode("latin-1")
    if "&" in query:
        # Parameters in name order, as sent (not decoded: two spellings of one request are two
        # keys, never one key for two requests); stable, so repeated ones keep their order.
        query = "&".join(sorted(query.split("&"), key=_name))
    scope.setdefault("state", {})["cda_if_none_match"] = inm
    return (
        scope["path"],
        query,
        *(found.get(k, b"").decode("latin-1") for k in _CREDENTIALS),
    )


def reply(hit: response_cache.Answer, scope: dict[str, Any]) -> Reply:
    """The answer to a request the cache holds: 304 when its `If-None-Match` names the ETag."""
    inm = scope["state"].get("cda_if_none_match")
    if inm is not None and not_modified(inm.decode("latin-1"), hit.etag):
        return 304, [*(h for h in hit.headers if h[0] != b"content-type"), _HIT], b""
    body = hit.body
    headers = [*hit.headers, _HIT, (b"content-length", str(len(body)).encode())]
    return hit.status, headers, b"" if scope["method"] == "HEAD" else body


class CacheFirst:
    """ASGI layer in front of the routes; inside `RequestContext` (request id, access log)."""

    def __init__(self, app: Any, db: Database, *, enabled: bool) -> None:
        self.app = app
        self.db = db
        self.enabled = enabled
        self.cache = response_cache.of(db)
        self.local = db.dialect == "sqlite"
        # `answer_now` can say more than None: hits on SQLite, and what the routes answer at once
        self.answers_now = (enabled and self.local) or bool(getattr(app, "answers_now", False))
        self._inner_now = app.answer_now if getattr(app, "answers_now", False) else None
        self._running: asyncio.Future[None] | None = None  # the catch-up in flight
        self._queued: asyncio.Future[None] | None = None  # the one to start after it

    async def _caught_up(self) -> None:
        """Wait for a catch-up that started after this call (so it sees every commit acknowledged
        before the request came): the one in flight started too early, so join the next, which
        starts when it ends and serves everyone who arrived meanwhile. One clock read per round
        trip, however many requests wait, instead of one each."""
        if self._running is None:
            self._running = asyncio.ensure_future(self._catch_up())
            await asyncio.shield(self._running)
            return
        if self._queued is None:
            self._queued = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._queued)

    async def _catch_up(self) -> None:
        try:
            await asyncio.to_thread(self.cache.catch_up, self.db)
        finally:
            queued, self._queued = self._queued, None
            self._running = None
            if queued is not None:
                self._running = asyncio.ensure_future(self._catch_up())
                self._running.add_done_callback(lambda f: _settle(queued, f))

    def _key(self, scope: dict[str, Any]) -> tuple[str, ...] | None:
        if (
            not self.enabled
            or scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or scope.get("state", {}).get("api") != "cda"
        ):
            return None
        return key_of(scope)

    def answer_now(self, scope: dict[str, Any]) -> Reply | None:
        """The cached answer to `scope` if the cache holds one and can tell at once (SQLite), else
        the routes' own `answer_now` (a miss is stored as on the ASGI path); None sends the request
        on to the ASGI path, which answers any trouble."""
        key = self._key(scope)
        if key is None:
            return self._inner_now(scope) if self._inner_now is not None else None
        if not self.local:
            return None
        try:
            self.cache.catch_up(self.db)
        except Exception:
            return None
        hit = self.cache.get(key, count_miss=self._inner_now is not None)
        if hit is not None:
            return reply(hit, scope)
        if self._inner_now is None:
            return None
        scope["state"][_MISS_COUNTED] = True
        token = CACHE_KEY.set(key)
        try:
            return self._inner_now(scope)
        finally:
            CACHE_KEY.reset(token)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        key = None if routing.prepared(scope) else self._key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        if self.local:
            self.cache.catch_up(self.db)
        else:
            try:
                await self._caught_up()
            except Exception:  # the database is in trouble: the routes will say so
                await self.app(scope, receive, send)
                return
        hit = self.cache.get(key, count_miss=not scope["state"].pop(_MISS_COUNTED, False))
        if hit is None:
            token = CACHE_KEY.set(key)
            try:
                await self.app(scope, receive, send)
            finally:
                CACHE_KEY.reset(token)
            return
        status, headers, body = reply(hit, scope)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
