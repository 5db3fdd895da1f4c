"""Purge on publish: a consumer of the event spine that purges, by cache tag, the CDN sites whose
origin is this Stackyard's delivery API, so a publish is fresh at the edge without a manual purge.

Events map to the tags delivery responses carry (`content.delivery.tags`) by the rules the
delivery response cache purges with (`content.delivery.invalidation`), so both stay fresh alike:
an entry's publish or unpublish purges the entry and its content type, a token or environment
change the whole stack.

A site fronts this server when its root origin is one of this server's addresses (`--host`,
loopback names, the host of `--public-url`) on its port. The consumer has a durable cursor and
starts at the log's head the first time; effects are at least once (a repeated purge is harmless).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from stackyard.content.delivery import invalidation, tags
from stackyard.core.consumers import Consumer
from stackyard.core.wakeup import Wakeup
from stackyard.edge import fanout, purges
from stackyard.settings import Settings
from stackyard.store.engine import Database, Row

log = logging.getLogger("stackyard.edge")
CONSUMER = "edge-purge-on-publish"
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def tags_of(event: Row) -> list[str]:
    """The cache tags an event makes stale: the delivery cache's own rules (`invalidation.purged`),
    so the edge and the response cache purge alike; an event type they do not know purges the stack."""
    found = invalidation.purged(event)
    if found is None:
        return [tags.stack(str(event["api_key"]))]
    # entry and content type first, as the header names them: a stable order for purge requests
    return sorted(found, key=lambda t: (t.count("."), t), reverse=True)


def own_addresses(settings: Settings) -> set[tuple[str, int]]:
    """(host, port) pairs that reach this server's API."""
    hosts = {settings.host.lower(), *_LOOPBACK}
    out = {(h, settings.port) for h in hosts}
    if settings.public_url:
        parts = urlsplit(settings.public_url)
        if parts.hostname:
            out.add((parts.hostname.lower(), parts.port or (443 if parts.scheme == "https" else 80)))
    return out


def fronting_sites(db: Database, settings: Settings) -> list[str]:
    """Ids of the sites whose root scope's origin is this server."""
    mine = own_addresses(settings)
    with db.read() as tx:
        rows = tx.all(
            "SELECT o.site_id, o.hostname, o.port FROM edge_origins o JOIN edge_scopes s ON s.id = o.scope_id "
            "WHERE s.path = '/'"
        )
    return sorted({str(r["site_id"]) for r in rows if (str(r["hostname"]).lower(), int(r["port"])) in mine})


def purge_message(db: Database, settings: Settings, events: Iterable[Row]) -> dict[str, Any] | None:
    found = list(dict.fromkeys(t for e in events for t in tags_of(e)))
    if not found:
        return None
    sites = fronting_sites(db, settings)
    return purges.tag_purge(sites, found) if sites else None


def consumer(db: Database, settings: Settings, wakeup: Wakeup | None) -> Consumer:
    def handle(batch: list[Row]) -> None:
        message = purge_message(db, settings, batch)
        if message is not None:
            fanout.hub().publish_purge(message)

    return Consumer.from_settings(db, settings, CONSUMER, handle=handle, wakeup=wakeup, start="latest")
