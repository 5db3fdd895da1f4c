"""Purge on publish: a consumer of the event spine that purges, by cache tag, the CDN sites whose
origin is this Stackyard's delivery API, so a publish is fresh at the edge without a manual purge.

Events map to the tags delivery responses carry (`content.delivery.tags`):

    entry.publish / entry.unpublish          entry(uid), content_type(ct)
    asset.publish / asset.unpublish          asset(uid), assets()
    content_type.update / .delete            content_type(uid)
    delivery_token.* / environment.*         stack()

A site fronts this server when its root origin is one of this server's addresses (`--host`,
loopback names, the host of `--public-url`) on its port. The consumer has a durable cursor and
starts at the log's head the first time; effects are at least once (a repeated purge is harmless).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from stackyard.content.delivery import tags
from stackyard.core.consumers import Consumer
from stackyard.core.wakeup import Wakeup
from stackyard.edge import fanout, purges
from stackyard.settings import Settings
from stackyard.store.engine import Database, Row

log = logging.getLogger("stackyard.edge")
CONSUMER = "edge-purge-on-publish"
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def tags_of(event: Row) -> list[str]:
    """The cache tags an event makes stale (empty for events delivery does not show)."""
    kind, api_key, uid = str(event["type"]), str(event["api_key"]), str(event["object_uid"] or "")
    if kind in ("entry.publish", "entry.unpublish"):
        ct = event.get("content_type_uid")
        return [tags.entry(api_key, uid), *([tags.content_type(api_key, str(ct))] if ct else [])]
    if kind in ("asset.publish", "asset.unpublish"):
        return [tags.asset(api_key, uid), tags.assets(api_key)]
    if kind in ("content_type.update", "content_type.delete"):
        return [tags.content_type(api_key, uid)]
    if kind.startswith(("delivery_token.", "environment.")):
        return [tags.stack(api_key)]
    return []


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
