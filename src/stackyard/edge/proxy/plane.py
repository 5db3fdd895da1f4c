"""One data-plane node: its sites, its cache, its counters, and the event loop serving them.

    plane = DataPlane(db, settings)
    plane.start("127.0.0.1", 8081)     # a thread with its own event loop (uvloop when installed)
    ...
    plane.stop()

The node registers with the process's fan-out hub (`edge.fanout`), which delivers purges
(`apply_purge`) and configuration changes (`reload`); both are applied on the node's loop, so the
cache is only ever touched from one thread. `set_trusted(False)` stops serving from the cache
(the node may have missed purges); trusted again, it first drops everything it had.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import ssl
import tempfile
import threading
import time
import uuid
from dataclasses import replace
from typing import Any

from stackyard.core import heap
from stackyard.core.outbound import OutboundClient, OutboundPolicy
from stackyard.edge import fanout, metrics, publish
from stackyard.edge.proxy import purge
from stackyard.edge.proxy.handler import Handler
from stackyard.edge.proxy.server import EdgeProtocol, Parsed
from stackyard.edge.proxy.sites import Origin, Site, load
from stackyard.edge.proxy.store import Cache
from stackyard.ids import digest, now
from stackyard.settings import Settings
from stackyard.store.engine import Database

log = logging.getLogger("stackyard.edge")
SWEEP_SLICE = 500


def new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:
        return asyncio.new_event_loop()


class DataPlane:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        node_id: str | None = None,
        hub: fanout.Hub | None = None,
        outbound: OutboundClient | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.node_id = node_id or uuid.uuid4().hex[:12]
        self.hub = hub or fanout.hub()
        self.sites: dict[str, Site] = {}
        self.sites_by_id: dict[str, Site] = {}
        self.trusted = False
        directory = (
            os.path.join(settings.data_dir, "edge-cache", self.node_id)
            if settings.edge_disk_cache_bytes
            else None
        )
        self.cache = Cache(
            directory,
            memory_bytes=settings.edge_memory_cache_bytes,
            disk_bytes=settings.edge_disk_cache_bytes,
            max_object_bytes=settings.edge_max_object_bytes,
        )
        self.outbound = outbound or OutboundClient(
            OutboundPolicy(
                allow_private=settings.allow_private_outbound,
                connect_timeout=settings.edge_origin_connect_timeout_seconds,
                read_timeout=settings.edge_origin_read_timeout_seconds,
                total_timeout=settings.edge_origin_total_timeout_seconds,
                max_response_bytes=max(settings.edge_max_object_bytes, settings.outbound_max_response_bytes),
                max_redirects=0,
            ),
            keepalive=settings.edge_origin_keepalive_connections,
        )
        # This server's own API (the delivery API a site may front) is reachable whatever the
        # private-address rule says; any other loopback or private origin is not.
        self.own = publish.own_addresses(settings)
        self.own_outbound = OutboundClient(
            replace(self.outbound.policy, allow_private=True),
            keepalive=settings.edge_origin_keepalive_connections,
        )
        self.handler = Handler(self)
        self.parsed = Parsed()  # request chunks its connections saw whole (`proxy.server`)
        self.background: set[asyncio.Task[Any]] = set()
        self.counts: dict[tuple[str, str, int], list[int]] = {}
        self.purges_applied = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port = 0
        self.tls_port = 0
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.AbstractServer] = []
        self._stopped = threading.Event()
        self._edge_tokens: dict[str, bool] = {}

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self, host: str, port: int, tls_port: int = 0, *, timeout: float = 10.0) -> None:
        """Serve on `host:port` (0: a free port, see `self.port`) from a thread of its own."""
        self._set_sites(load(self.db))
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = self.loop = new_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._listen(host, port, tls_port))
            except BaseException as e:  # reported to start()
                errors.append(e)
                ready.set()
                return
            ready.set()
            loop.create_task(self._periodic())
            try:
                loop.run_forever()
            finally:
                for server in self._servers:
                    server.close()
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(self._close_origins())
                loop.close()
                self._stopped.set()

        self._thread = threading.Thread(target=run, name=f"stackyard-edge-{self.node_id}", daemon=True)
        self._thread.start()
        if not ready.wait(timeout) or errors:
            raise RuntimeError(f"the edge data plane did not start: {errors[0] if errors else 'timeout'}")
        self.hub.register(self)
        heap.settle()  # a full collection over the start-up heap was a node's longest pause

    async def serve_forever(self, host: str, port: int, tls_port: int = 0) -> None:
        """Serve on the running loop (a process of its own, as `bench` runs it) until cancelled."""
        self.loop = asyncio.get_running_loop()
        self._set_sites(await asyncio.to_thread(load, self.db))
        await self._listen(host, port, tls_port)
        self.hub.register(self)
        heap.settle()  # a full collection over the start-up heap was a node's longest pause
        try:
            await self._periodic()
        finally:
            self.hub.unregister(self)
            await self._close_origins()

    async def _close_origins(self) -> None:
        """Close the connections kept open to origins."""
        await self.outbound.aclose()
        await self.own_outbound.aclose()

    async def _listen(self, host: str, port: int, tls_port: int) -> None:
        s = self.settings
        assert self.loop is not None

        def factory(proto: str) -> Any:
            return lambda: EdgeProtocol(
                self.handler,
                max_body=s.max_body_bytes,
                max_head=s.max_header_bytes,
                proto=proto,
                parsed=self.parsed,
            )

        server = await self.loop.create_server(factory("http"), host, port, reuse_port=True, backlog=2048)
        self._servers.append(server)
        self.port = server.sockets[0].getsockname()[1]
        if tls_port:
            tls = await self.loop.create_server(
                factory("https"), host, tls_port, ssl=self._ssl_context(), reuse_port=True, backlog=2048
            )
            self._servers.append(tls)
            self.tls_port = tls.sockets[0].getsockname()[1]

    def stop(self, *, crashed: bool = False) -> None:
        """Stop serving; `crashed=True` leaves the node's liveness to lapse, as a killed node's would."""
        self.hub.unregister(self, crashed=crashed)
        if self.loop is not None and self._thread is not None:
            if not crashed:
                self._flush_now()
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)

    async def _periodic(self) -> None:
        s = self.settings
        next_reload = time.monotonic() + s.edge_config_refresh_seconds
        while True:
            await asyncio.sleep(min(s.edge_metrics_flush_seconds, s.edge_config_refresh_seconds))
            await asyncio.to_thread(self._flush_now)
            if time.monotonic() >= next_reload:
                next_reload = time.monotonic() + s.edge_config_refresh_seconds
                self._set_sites(await asyncio.to_thread(load, self.db))

    # -- what the hub calls (any thread) ----------------------------------------------------------
    def _on_loop(self, fn: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as e:
                future.set_exception(e)

        loop = self.loop
        if loop is None or loop.is_closed():
            future.set_result(None)
        elif _running_in(loop):
            run()
        else:
            loop.call_soon_threadsafe(run)
        return future

    def apply_purge(self, message: dict[str, Any]) -> concurrent.futures.Future[None]:
        return self._on_loop(lambda: self.purge(message))

    def purge(self, message: dict[str, Any]) -> int:
        """Apply a purge on the loop thread; answers how many entries it dropped or invalidated."""
        sites = [s for s in message.get("sites", []) if s in self.sites_by_id]
        total = 0
        for item in message.get("items", []):
            chosen = sites
            if item.get("host"):
                chosen = [s for s in sites if self.sites_by_id[s].label == item["host"]]
            total += purge.apply(self.cache, item, chosen, self._sweep)
        self.purges_applied += 1
        return total

    def _sweep(self, tag: str, keys: set[str]) -> None:
        """Free what a tag purge killed, a slice per loop iteration (requests go in between)."""
        if not keys or self.loop is None:
            return
        self.cache.sweep(tag, keys, SWEEP_SLICE)
        if keys:
            self.loop.call_soon(self._sweep, tag, keys)

    def reload(self) -> None:
        def later() -> None:
            try:
                found = load(self.db)
            except Exception:
                log.exception("edge node %s: reloading the sites failed", self.node_id)
                return
            self._on_loop(lambda: self._set_sites(found))

        if self.loop is None:
            self._set_sites(load(self.db))
        else:
            threading.Thread(target=later, daemon=True).start()

    def reload_now(self) -> None:
        """Reload and wait until the node uses the new sites (tests, the demo)."""
        found = load(self.db)
        self._on_loop(lambda: self._set_sites(found)).result(10)

    def _set_sites(self, sites: dict[str, Site]) -> None:
        for site in self.sites_by_id.values():
            new = sites.get(site.label)
            if new is None or new.id != site.id or new.version != site.version:
                self.cache.drop_site(site.id)  # its configuration changed: nothing stored under the old one
        self.sites = sites
        self.sites_by_id = {s.id: s for s in sites.values()}
        self._edge_tokens.clear()

    def set_trusted(self, trusted: bool) -> None:
        def apply() -> None:
            if trusted and not self.trusted:
                self.cache.clear()
            self.trusted = trusted

        if self.loop is None:
            apply()
        else:
            self._on_loop(apply).result(5)  # in effect before the caller goes on

    # -- counters -------------------------------------------------------------------------------
    def count(self, site_id: str, hit: bool, size: int) -> None:
        t = int(time.time())
        key = (site_id, "CDE", t - t % metrics.BUCKET)
        c = self.counts.get(key)
        if c is None:
            c = self.counts[key] = [0, 0, 0, 0]
        c[0] += 1
        c[1 if hit else 2] += 1
        c[3] += size

    def count_origin(self, site_id: str, size: int) -> None:
        t = int(time.time())
        key = (site_id, "CDO", t - t % metrics.BUCKET)
        c = self.counts.get(key)
        if c is None:
            c = self.counts[key] = [0, 0, 0, 0]
        c[0] += 1
        c[3] += size

    def flush_metrics(self) -> None:
        self._flush_now()

    def _flush_now(self) -> None:
        def swap() -> dict[tuple[str, str, int], list[int]]:
            taken, self.counts = self.counts, {}
            return taken

        try:
            taken = (
                self._on_loop(swap).result(5)
                if self.loop is not None and not self.loop.is_closed()
                else swap()
            )
            metrics.record(self.db, taken or {})
        except Exception:
            log.exception("edge node %s: writing traffic counters failed", self.node_id)

    def client_for(self, origin: Origin) -> OutboundClient:
        if (origin.hostname.lower(), origin.port) in self.own:
            return self.own_outbound
        return self.outbound

    # -- credentials ------------------------------------------------------------------------------
    def is_edge_credential(self, authorization: str) -> bool:
        """Is this Authorization value one of the edge API's own bearer tokens? (never forwarded)"""
        token = authorization.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token:
            return False
        known = self._edge_tokens.get(token)
        if known is None:
            with self.db.read() as tx:
                known = bool(
                    tx.scalar(
                        "SELECT 1 FROM edge_tokens WHERE token_hash = ? AND expires_at > ?",
                        digest(token),
                        now(),
                    )
                )
            if len(self._edge_tokens) < 10000:
                self._edge_tokens[token] = known
        return known

    # -- TLS --------------------------------------------------------------------------------------
    def _ssl_context(self) -> ssl.SSLContext:
        """A context choosing each site's assigned certificate by SNI."""
        base = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        contexts: dict[str, ssl.SSLContext] = {}

        def context_for(site: Site) -> ssl.SSLContext | None:
            if site.certificate is None:
                return None
            found = contexts.get(site.id + str(hash(site.certificate)))
            if found is None:
                found = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                cert, key, ca = site.certificate
                with tempfile.TemporaryDirectory() as d:
                    path = os.path.join(d, "chain.pem")
                    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                        f.write(cert.strip() + "\n" + (ca.strip() + "\n" if ca else "") + key.strip() + "\n")
                    found.load_cert_chain(path)
                contexts[site.id + str(hash(site.certificate))] = found
            return found

        def sni(sock: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> int | None:
            site = self.sites.get((name or "").lower())
            chosen = context_for(site) if site is not None else None
            if chosen is None:
                return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
            sock.context = chosen
            return None

        base.sni_callback = sni
        return base


def _running_in(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
