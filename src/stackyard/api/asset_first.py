"""The fast path of public asset URLs: a derived image already made is sent before routing.

    GET /v3/assets/{api_key}/{uid}/{upload_uid}/{filename}?width=400&format=webp

The route (`api.cma.asset_files`) answers the first request of a (path, query, what `Accept`
negotiates) and leaves the answer here; later requests for the same key are answered by this ASGI
layer after one indexed read that proves the upload still belongs to a live asset version (so a
deleted asset's URLs stop at once, in every process, and nothing is served from a stale memory).
On SQLite that read runs on the event loop (microseconds, no thread hop); on PostgreSQL on a thread.
Requests with credentials, `If-Modified-Since` or a method other than GET/HEAD go the normal way.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from stackyard.api.dispatch import Reply
from stackyard.store.engine import Database

# The fast-path key of the request being answered by the route, when it may be remembered.
KEY: ContextVar[tuple[str, ...] | None] = ContextVar("stackyard_asset_key", default=None)
_CREDENTIALS = (b"authtoken", b"authorization", b"access_token")


@dataclass(frozen=True)
class Answer:
    api_key: str
    uid: str
    upload_uid: str
    etag: str
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...]


class Memory:
    """Answers by key, least recently used dropped first."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[tuple[str, ...], Answer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> Answer | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, ...], answer: Answer) -> None:
        if self.capacity <= 0:
            return
        with self._lock:
            self._items[key] = answer
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def drop(self, key: tuple[str, ...]) -> None:
        with self._lock:
            self._items.pop(key, None)


_MEMORIES: WeakKeyDictionary[Database, Memory] = WeakKeyDictionary()


def memory(db: Database, capacity: int = 512) -> Memory:
    found = _MEMORIES.get(db)
    if found is None:
        found = _MEMORIES[db] = Memory(capacity)
    return found


def key_of(scope: dict[str, Any]) -> tuple[str, ...] | None:
    """The key of a public asset URL request, or None when it must take the normal path."""
    path: str = scope["path"]
    if not path.startswith("/v3/assets/") or path.count("/") != 6 or scope["method"] not in ("GET", "HEAD"):
        return None
    accept = b""
    for k, v in scope["headers"]:
        if k in _CREDENTIALS or k == b"if-modified-since":
            return None
        if k == b"accept":
            accept = v
    kinds = ",".join(t for t in ("image/avif", "image/webp") if t.encode() in accept)
    return (path, scope.get("query_string", b"").decode("latin-1"), kinds)


def _alive(db: Database, a: Answer) -> bool:
    with db.read() as tx:
        return (
            tx.one(
                "SELECT 1 AS x FROM asset_versions WHERE api_key = ? AND uid = ? AND upload_uid = ? LIMIT 1",
                a.api_key,
                a.uid,
                a.upload_uid,
            )
            is not None
        )


class AssetFirst:
    """ASGI layer in front of the routes (inside the request id and access log middleware)."""

    def __init__(self, app: Any, db: Database, capacity: int) -> None:
        self.app = app
        self.db = db
        self.memory = memory(db, capacity)
        self.local = db.reads_are_local
        self.answers_now = bool(getattr(app, "answers_now", False))  # `answer_now` can say more than None

    def answer_now(self, scope: dict[str, Any]) -> Reply | None:
        """The app's `answer_now` for anything but a public asset URL (those take `__call__`)."""
        if key_of(scope) is not None:
            return None
        answer: Reply | None = self.app.answer_now(scope)
        return answer

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        key = key_of(scope) if scope["type"] == "http" else None
        if key is None:
            await self.app(scope, receive, send)
            return
        hit = self.memory.get(key)
        if hit is not None:
            alive = _alive(self.db, hit) if self.local else await asyncio.to_thread(_alive, self.db, hit)
            if alive:
                await _send(scope, send, hit)
                return
            self.memory.drop(key)
        token = KEY.set(key)
        try:
            await self.app(scope, receive, send)
        finally:
            KEY.reset(token)


async def _send(scope: dict[str, Any], send: Any, hit: Answer) -> None:
    inm = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
    if inm is not None and hit.etag.encode() in [t.strip() for t in inm.split(b",")]:
        headers = [h for h in hit.headers if h[0] not in (b"content-type", b"content-length")]
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    headers = [*hit.headers, (b"content-length", str(len(hit.body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else hit.body})


def remember(
    db: Database, api_key: str, uid: str, upload_uid: str, etag: str, body: bytes, headers: dict[str, str]
) -> None:
    """Called by the route with the answer to a public asset URL (only within a fast-path request)."""
    key = KEY.get()
    if key is None:
        return
    encoded = tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())
    memory(db).put(key, Answer(api_key, uid, upload_uid, etag, body, encoded))
