"""Answering one request at the edge: from the cache when it can, from the origin when it must.

    HIT     a fresh entry (or one revalidated with a 304)
    STALE   a stale entry within stale-while-revalidate (refreshed in the background) or
            stale-if-error (the origin failed)
    MISS    fetched from the origin (concurrent misses of one key share one fetch)

Unknown hosts answer 404 and disabled sites 403, with nothing fetched. A request the cache may
not serve to everyone is keyed by its credential headers (`CREDENTIAL_HEADERS`), so a delivery
token's answer is never served to another token, environment or branch. While the node is not
trusted (away from the fan-out, see `fanout`), nothing is served from or stored in the cache.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from stackyard.core.outbound import OutboundClient
from stackyard.edge.proxy import policy, rules
from stackyard.edge.proxy.origin import Fetched, OutboundError, fetch, request_headers, url_for
from stackyard.edge.proxy.sites import Origin, Site
from stackyard.edge.proxy.store import Cache, Entry
from stackyard.edge.proxy.wire import Request, build_head, simple
from stackyard.settings import Settings


class Node(Protocol):
    """What answering needs of its node (`plane.DataPlane`)."""

    sites: dict[str, Site]
    cache: Cache
    trusted: bool
    settings: Settings
    outbound: OutboundClient
    background: set[asyncio.Task[Any]]

    def count(self, site_id: str, hit: bool, size: int) -> None: ...

    def count_origin(self, site_id: str, size: int) -> None: ...

    def is_edge_credential(self, authorization: str) -> bool: ...

    def client_for(self, origin: Origin) -> OutboundClient: ...


log = logging.getLogger("stackyard.edge")

CREDENTIAL_HEADERS = (
    "api_key",
    "access_token",
    "authorization",
    "authtoken",
    "environment",
    "branch",
    "cookie",
)
GZIP_MIN = 860


def base_key(site: Site, req: Request) -> str:
    h = req.headers
    creds = "\x01".join([h.get(n, "") for n in CREDENTIAL_HEADERS]) if not _CREDENTIALS.isdisjoint(h) else ""
    return f"{site.id}\x02{req.target}\x02{creds}"


_CREDENTIALS = frozenset(CREDENTIAL_HEADERS)


class Handler:
    """The request logic of one node (its cache, sites and counters live on `plane`)."""

    def __init__(self, plane: Node) -> None:
        self.plane = plane
        self.inflight: dict[str, asyncio.Future[Entry | None]] = {}
        self.tag_header = plane.settings.edge_tag_header.lower()

    # -- the fast path -------------------------------------------------------------------------
    def hit(self, req: Request) -> bytes | None:
        """The answer from a fresh cached entry, or None (`answer` then decides what to do)."""
        plane = self.plane
        site = plane.sites.get(req.host)
        if site is None or not site.enabled or req.method not in ("GET", "HEAD") or not plane.trusted:
            return None
        entry = plane.cache.get(base_key(site, req), req.headers.get)
        if entry is None:
            return None
        now = time.monotonic()
        if not entry.fresh(now):
            return None
        plane.count(site.id, True, entry.size)
        return self.render(entry, req, now, "HIT")

    def answer(self, req: Request) -> bytes | Any:
        """The response bytes when the cache answers; otherwise a coroutine that fetches."""
        found = self.hit(req)
        if found is not None:
            return found
        plane = self.plane
        site = plane.sites.get(req.host)
        if site is None:
            return simple(404, f"No site is served for {req.host or 'this host'} here.\n", req.keep_alive)
        if not site.enabled:
            return simple(403, "This site is disabled.\n", req.keep_alive)
        if req.method not in ("GET", "HEAD"):
            return self.pass_through(site, req)
        base = base_key(site, req)
        if plane.trusted:
            entry = plane.cache.get(base, req.headers.get)
            if entry is not None:  # not fresh, or `hit` would have answered
                now = time.monotonic()
                if (
                    not entry.invalid
                    and not entry.revalidate_always
                    and entry.swr
                    and entry.staleness(now) <= entry.swr
                ):
                    self.refresh_in_background(site, req, base, entry)
                    plane.count(site.id, True, entry.size)
                    return self.render(entry, req, now, "STALE")
                return self.miss(site, req, base, entry)
        return self.miss(site, req, base, None)

    def render(self, entry: Entry, req: Request, now: float, state: str) -> bytes:
        h = req.headers
        inm = h.get("if-none-match")
        etag = entry.lheaders.get("etag")
        if (
            inm
            and etag
            and (
                inm.strip() == "*"
                or etag.removeprefix("W/") in {t.strip().removeprefix("W/") for t in inm.split(",")}
            )
        ):
            return b"%s%b" % (
                build_head(
                    304,
                    [
                        (n, v)
                        for n, v in entry.headers
                        if n.lower() in ("etag", "cache-control", "vary", "expires", "date", "last-modified")
                    ],
                ),
                b"Age: %d\r\nX-Cache: %s\r\n%s\r\n"
                % (int(entry.age(now)), state.encode(), b"" if req.keep_alive else b"Connection: close\r\n"),
            )
        use_gzip = entry.gzip is not None and rules.accepts_gzip(h.get("accept-encoding"))
        body = entry.gzip if use_gzip else entry.body
        assert body is not None
        head = entry.ghead if use_gzip else entry.head
        rng = h.get("range")
        if rng and entry.status == 200 and not use_gzip:
            return self.render_range(entry, req, now, state, rng)
        tail = b"Age: %d\r\nX-Cache: %s\r\nContent-Length: %d\r\n%s\r\n" % (
            int(entry.age(now)),
            state.encode(),
            len(body),
            b"" if req.keep_alive else b"Connection: close\r\n",
        )
        if req.method == "HEAD":
            return head + tail
        return head + tail + body

    def render_range(self, entry: Entry, req: Request, now: float, state: str, value: str) -> bytes:
        assert entry.body is not None
        size = len(entry.body)
        found = rules.byte_range(value, size)
        if_range = req.headers.get("if-range")
        if (
            if_range
            and if_range != entry.lheaders.get("etag")
            and if_range != entry.lheaders.get("last-modified")
        ):
            found = None
        close = b"" if req.keep_alive else b"Connection: close\r\n"
        age = int(entry.age(now))
        if found is False:
            return (
                b"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */%d\r\nContent-Length: 0\r\nX-Cache: %s\r\n%s\r\n"
                % (size, state.encode(), close)
            )
        if found is None or found is True:
            tail = b"Age: %d\r\nX-Cache: %s\r\nContent-Length: %d\r\n%s\r\n" % (
                age,
                state.encode(),
                size,
                close,
            )
            return entry.head + tail + (b"" if req.method == "HEAD" else entry.body)
        first, last = found
        head = build_head(206, [(n, v) for n, v in entry.headers])
        tail = b"Content-Range: bytes %d-%d/%d\r\nAge: %d\r\nX-Cache: %s\r\nContent-Length: %d\r\n%s\r\n" % (
            first,
            last,
            size,
            age,
            state.encode(),
            last - first + 1,
            close,
        )
        return head + tail + (b"" if req.method == "HEAD" else entry.body[first : last + 1])

    # -- misses ---------------------------------------------------------------------------------
    async def miss(self, site: Site, req: Request, base: str, stale: Entry | None) -> bytes:
        plane = self.plane
        _, _, config = site.route(req.path)
        if policy.bypass(config, req.path) or not plane.trusted:
            fetched, error = await self.fetch(site, req, None)
            return self.from_origin(site, req, fetched, error, stale=None, store=False)
        if plane.trusted and stale is None:
            # Between `answer` and this coroutine's first step a fetch of the same key may have
            # finished: look again, or this would be a second origin fetch.
            found = plane.cache.get(base, req.headers.get)
            if found is not None and found.fresh(time.monotonic()):
                plane.count(site.id, True, found.size)
                return self.render(found, req, time.monotonic(), "HIT")
        names = plane.cache.vary.get(base, ())
        key = plane.cache.full_key(base, names, req.headers.get)
        waiting = self.inflight.get(key)
        if waiting is not None:
            entry = await asyncio.shield(waiting)
            now = time.monotonic()
            again = plane.cache.get(base, req.headers.get) if entry is not None else None
            if again is not None and not again.invalid and (again.fresh(now) or again is entry):
                plane.count(site.id, False, again.size)
                return self.render(again, req, now, "MISS")
        future: asyncio.Future[Entry | None] = asyncio.get_running_loop().create_future()
        self.inflight[key] = future
        stored: Entry | None = None
        try:
            fetched, error = await self.fetch(site, req, stale)
            if fetched is not None and fetched.status == 304 and stale is not None:
                stored = self.revalidated(site, req, stale, fetched)
                if stored is not None:
                    plane.count(site.id, True, stored.size)
                    return self.render(stored, req, time.monotonic(), "HIT")
                fetched, error = await self.fetch(site, req, None)
            out = self.from_origin(site, req, fetched, error, stale=stale, store=True)
            stored = self._last_stored
            return out
        finally:
            self.inflight.pop(key, None)
            if not future.done():
                future.set_result(stored)

    _last_stored: Entry | None = None

    def refresh_in_background(self, site: Site, req: Request, base: str, stale: Entry) -> None:
        names = self.plane.cache.vary.get(base, ())
        key = self.plane.cache.full_key(base, names, req.headers.get)
        if key in self.inflight:
            return
        quiet = Request(req.method, req.target, req.raw_headers, b"", True, req.client_ip, req.proto)
        task = asyncio.get_running_loop().create_task(self.miss(site, quiet, base, stale))
        self.plane.background.add(task)
        task.add_done_callback(self.plane.background.discard)

    async def fetch(self, site: Site, req: Request, stale: Entry | None) -> tuple[Fetched | None, str]:
        """The origin's answer (None and why, when there is none)."""
        plane = self.plane
        _, origin, config = site.route(req.path)
        if origin is None:
            return None, "the site has no origin"
        auth = req.headers.get("authorization")
        # the token lookup reads the database: off the event loop
        edge_token = bool(auth) and await asyncio.to_thread(plane.is_edge_credential, auth or "")
        headers = request_headers(
            req.raw_headers,
            client_ip=req.client_ip,
            host=req.headers.get("host", ""),
            proto=req.proto,
            extra=policy.origin_headers(config, req.path),
            gzip=policy.gzip_origin(config),
            is_edge_credential=lambda _: edge_token,
        )
        if stale is not None and req.method in ("GET", "HEAD"):
            etag = rules.strong_etag(stale.lheaders.get("etag"))
            if etag:
                headers["if-none-match"] = etag
            if not stale.invalid and stale.lheaders.get("last-modified"):
                headers["if-modified-since"] = stale.lheaders["last-modified"]
        method = "GET" if req.method == "HEAD" else req.method
        try:
            fetched = await fetch(
                plane.client_for(origin),
                method,
                url_for(origin, req.target, policy.pull_scheme(config, req.proto)),
                headers,
                req.body,
            )
        except OutboundError as e:
            log.warning("edge: origin fetch for site %s failed: %s", site.label, e)
            return None, str(e)
        plane.count_origin(site.id, len(fetched.body))
        return fetched, ""

    def from_origin(
        self,
        site: Site,
        req: Request,
        fetched: Fetched | None,
        error: str,
        *,
        stale: Entry | None,
        store: bool,
    ) -> bytes:
        plane = self.plane
        now = time.monotonic()
        self._last_stored = None
        failed = fetched is None or fetched.status >= 500
        if (
            failed
            and stale is not None
            and not stale.invalid
            and stale.sie
            and stale.staleness(now) <= stale.sie
        ):
            plane.count(site.id, True, stale.size)
            return self.render(stale, req, now, "STALE")
        if fetched is None:
            return simple(
                502 if "timed out" not in error else 504, "The origin could not be reached.\n", req.keep_alive
            )
        entry = self.make_entry(site, req, fetched, now)
        if store and plane.trusted and entry is not None:
            names = tuple(n for n in rules.vary_names(fetched.lheaders.get("vary")) if n != "accept-encoding")
            entry.key = plane.cache.full_key(entry.base, names, req.headers.get)
            if plane.cache.put(entry, names):
                self._last_stored = entry
        if entry is None:
            entry = self.transient(site, req, fetched, now)
        elif stale is not None and stale.key != entry.key:
            plane.cache.remove(stale.key)
        plane.count(site.id, False, entry.size)
        return self.render(entry, req, now, "MISS")

    def revalidated(self, site: Site, req: Request, stale: Entry, fetched: Fetched) -> Entry | None:
        """A 304: the stored body with the new headers and freshness (None if that makes it unstorable)."""
        merged = dict(stale.lheaders)
        merged.update(fetched.lheaders)
        names = {n.lower() for n, _ in fetched.headers}
        headers = [(n, v) for n, v in stale.headers if n.lower() not in names] + fetched.headers
        replay = Fetched(
            stale.status,
            [h for h in headers if h[0].lower() not in ("content-length",)],
            merged,
            stale.body or b"",
            fetched.date,
        )
        entry = self.make_entry(site, req, replay, time.monotonic())
        if entry is None:
            return None
        entry.key = stale.key
        self.plane.cache.put(entry, self.plane.cache.vary.get(stale.base, ()))
        return entry

    def make_entry(self, site: Site, req: Request, fetched: Fetched, now: float) -> Entry | None:
        """The cache entry for an origin answer, or None when it may not be stored."""
        if req.method not in ("GET", "HEAD"):
            return None
        _, _, config = site.route(req.path)
        lh = dict(fetched.lheaders)
        no_store, private, no_cache = policy.honoured(config, req.path)
        if not (no_store and private and no_cache):
            cc = rules.cache_control(lh.get("cache-control"))
            kept = [
                k
                for k in cc
                if not (
                    (k == "no-store" and not no_store)
                    or (k == "private" and not private)
                    or (k == "no-cache" and not no_cache)
                )
            ]
            lh["cache-control"] = ", ".join(kept)
        fresh = rules.freshness(
            fetched.status, lh, time.time(), request_authorized="authorization" in req.headers
        )
        explicit = (
            any(d in rules.cache_control(lh.get("cache-control")) for d in ("max-age", "s-maxage"))
            or "expires" in lh
        )
        if fresh.storable or fresh.reason in ("no freshness",):
            fresh = policy.lifetime(config, req.path, fresh, explicit)
        if not fresh.storable:
            return None
        return self._entry(site, req, fetched, now, fresh)

    def transient(self, site: Site, req: Request, fetched: Fetched, now: float) -> Entry:
        """An answer served once and not stored: compressed only when this client takes gzip."""
        gzip_wanted = rules.accepts_gzip(req.headers.get("accept-encoding"))
        return self._entry(site, req, fetched, now, rules.Freshness(False), compress=gzip_wanted)

    def _entry(
        self,
        site: Site,
        req: Request,
        fetched: Fetched,
        now: float,
        fresh: rules.Freshness,
        *,
        compress: bool = True,
    ) -> Entry:
        _, _, config = site.route(req.path)
        headers = list(fetched.headers)
        headers.append(("Date", fetched.date or time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())))
        headers += policy.response_headers(config, req.path)
        body = fetched.body
        gz = None
        if rules.compressible(fetched.lheaders.get("content-type")) and len(body) >= GZIP_MIN:
            vary = fetched.lheaders.get("vary")
            if not vary or "accept-encoding" not in vary.lower():
                headers = [(n, v) for n, v in headers if n.lower() != "vary"]
                headers.append(("Vary", f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"))
            gz = gzip.compress(body, 5) if compress else None
        head = build_head(fetched.status, headers)
        entry = Entry(
            key="",
            base=base_key(site, req),
            site_id=site.id,
            path=req.path,
            target=req.target,
            status=fetched.status,
            headers=headers,
            lheaders=fetched.lheaders,
            body=body,
            head=head,
            stored_at=now,
            initial_age=fetched.age,
            ttl=fresh.ttl,
            swr=fresh.swr,
            sie=fresh.sie,
            revalidate_always=fresh.revalidate_always,
            must_revalidate=fresh.must_revalidate,
            etag=rules.strong_etag(fetched.lheaders.get("etag")),
            last_modified=fetched.lheaders.get("last-modified"),
            tags=tuple(t.strip() for t in fetched.lheaders.get(self.tag_header, "").split(",") if t.strip()),
            size=len(body) + len(head) + 200,
        )
        if gz is not None:
            entry.gzip = gz
            entry.ghead = build_head(fetched.status, [*headers, ("Content-Encoding", "gzip")])
            entry.size += len(gz) + len(entry.ghead)
        return entry

    async def pass_through(self, site: Site, req: Request) -> bytes:
        """Unsafe methods go to the origin; a success drops what is cached for the path (RFC 9111 §4.4)."""
        fetched, error = await self.fetch(site, req, None)
        if fetched is not None and fetched.status < 400:
            self.plane.cache.remove_many(self.plane.cache.by_path.get((site.id, req.path), set()))
        return self.from_origin(site, req, fetched, error, stale=None, store=False)


Answer = bytes | Callable[[], Any]
