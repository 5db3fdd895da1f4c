"""The edge beside the API in a server process: the fan-out hub (`--redis-url`), the purge-on-publish
consumer, and with `--edge-port` a data-plane node (and `--edge-tls-port` its TLS listener)."""

from __future__ import annotations

import logging

from stackyard.core.consumers import Consumer
from stackyard.core.wakeup import Wakeup
from stackyard.edge import fanout, publish
from stackyard.edge.proxy.plane import DataPlane
from stackyard.settings import Settings
from stackyard.store.engine import Database

log = logging.getLogger("stackyard.edge")


class EdgeBackground:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.wakeup: Wakeup | None = None
        self.consumer: Consumer | None = None
        self.plane: DataPlane | None = None

    def start(self) -> None:
        s = self.settings
        fanout.configure(s.redis_url, s.edge_node_ttl_seconds)
        if s.edge_port and s.workers > 1 and not s.redis_url:
            log.warning(
                "edge: %d processes each run a data-plane node, but without --redis-url a purge reaches "
                "only the node of the process that received it",
                s.workers,
            )
        if s.edge_port:
            self.plane = DataPlane(self.db, s)
            self.plane.start(s.edge_host or s.host, s.edge_port, s.edge_tls_port)
            log.info("edge data plane on %s:%s", s.edge_host or s.host, self.plane.port)
        self.wakeup = Wakeup.from_settings(self.db, s)
        self.wakeup.start()
        self.consumer = publish.consumer(self.db, s, self.wakeup)
        self.consumer.start()

    def stop(self) -> None:
        if self.consumer is not None:
            self.consumer.stop()
        if self.wakeup is not None:
            self.wakeup.stop()
        if self.plane is not None:
            self.plane.stop()
