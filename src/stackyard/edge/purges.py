"""Purge requests (StackPath §4.2, §8): what to drop from every node's cache, and its progress.

An item names a URL and how it matches (checked here, matched by `edge.proxy.purge`):

- `url`: `https://cdn.example.com/path?q` (that site only), `/path` (every site of the stack) or
  `""` (everything); `recursive: true` matches every URL under the path; `purgeAllDynamic: true`
  matches the URL with any query string (ignored when recursive);
- `invalidateOnly: true` marks matches expired (revalidated with the origin by strong validator
  before the next answer) instead of dropping them;
- `purgeSelector`: `TAG` matches the response's `X-Tag` header (the `edge_tag_header` setting),
  `HEADER` the response header `selectorName` (names case-sensitive as sent, compared without
  case); values split on `selectorValueDelimiter` (default `,`); any value matches. Every
  selector of an item must match; `headers: ["Name: value"]` are HEADER selectors too.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from stackyard.core import spine
from stackyard.edge import fanout
from stackyard.edge.access import EdgeCaller, stack_row
from stackyard.errors import NotFound, invalid
from stackyard.ids import now
from stackyard.store.engine import Tx, jdump

MAX_ITEMS = 1000
MAX_VALUES = 10000


def _selector(where: str, s: object) -> dict[str, Any]:
    if not isinstance(s, dict):
        raise invalid({where: ["must be an object."]})
    kind = s.get("selectorType", "TAG")
    if kind not in ("TAG", "HEADER"):
        raise invalid({f"{where}.selectorType": ["must be TAG or HEADER."]})
    name = s.get("selectorName") or ""
    if kind == "HEADER" and (not isinstance(name, str) or not name):
        raise invalid({f"{where}.selectorName": ["is required for a HEADER selector."]})
    value = s.get("selectorValue")
    if not isinstance(value, str) or not value:
        raise invalid({f"{where}.selectorValue": ["is required."]})
    delimiter = s.get("selectorValueDelimiter") or ","
    if not isinstance(delimiter, str):
        raise invalid({f"{where}.selectorValueDelimiter": ["must be a string."]})
    values = [v.strip() for v in value.split(delimiter) if v.strip()]
    if len(values) > MAX_VALUES:
        raise invalid({f"{where}.selectorValue": [f"may list at most {MAX_VALUES} values."]})
    return {"type": kind, "name": str(name).lower(), "values": values}


def item_of(i: int, raw: object) -> dict[str, Any]:
    where = f"items[{i}]"
    if not isinstance(raw, dict):
        raise invalid({where: ["must be an object."]})
    url = raw.get("url", "")
    if not isinstance(url, str):
        raise invalid({f"{where}.url": ["must be a string."]})
    host: str | None = None
    target = url
    if "//" in url:
        parts = urlsplit(url if "://" in url else "http:" + url[url.index("//") :])
        host = (parts.hostname or "").lower() or None
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not target.startswith("/"):
        target = "/" + target
    path, _, query = target.partition("?")
    flags = {}
    for key in ("recursive", "invalidateOnly", "purgeAllDynamic"):
        value = raw.get(key, False)
        if value is None:
            value = False
        if not isinstance(value, bool):
            raise invalid({f"{where}.{key}": ["must be true or false."]})
        flags[key] = value
    selectors = raw.get("purgeSelector") or []
    if not isinstance(selectors, list):
        raise invalid({f"{where}.purgeSelector": ["must be a list."]})
    out_selectors = [_selector(f"{where}.purgeSelector[{j}]", s) for j, s in enumerate(selectors)]
    headers = raw.get("headers") or []
    if not isinstance(headers, list) or not all(isinstance(h, str) and ":" in h for h in headers):
        raise invalid({f"{where}.headers": ["must be a list of 'Name: value' strings."]})
    for h in headers:
        name, _, value = h.partition(":")
        out_selectors.append({"type": "HEADER", "name": name.strip().lower(), "values": [value.strip()]})
    recursive = flags["recursive"] or (
        url in ("", "/") and not flags["purgeAllDynamic"] and not query and host is None
    )
    return {
        "host": host,
        "path": path,
        "target": target,
        "recursive": recursive,
        "any_query": flags["purgeAllDynamic"] and not recursive,
        "invalidate": flags["invalidateOnly"],
        "selectors": out_selectors,
    }


def items_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    items = data.get("items")
    if not isinstance(items, list) or not items or len(items) > MAX_ITEMS:
        raise invalid({"items": [f"must be a list of 1 to {MAX_ITEMS} purge items."]})
    return [item_of(i, raw) for i, raw in enumerate(items)]


def request(tx: Tx, caller: EdgeCaller, stack: str, data: dict[str, Any]) -> str:
    """Record a purge of the stack's sites and send it to every node once committed; answers its id."""
    stack_id = str(stack_row(tx, caller, stack)["id"])
    items = items_of(data)
    purge_id = str(uuid.uuid4())
    tx.run(
        "INSERT INTO edge_purges (id, stack_id, items, created_at) VALUES (?, ?, ?, ?)",
        purge_id,
        stack_id,
        jdump(data.get("items")),
        now(),
    )
    sites = [str(r["id"]) for r in tx.all("SELECT id FROM edge_sites WHERE stack_id = ?", stack_id)]
    spine.record_org(
        tx,
        caller,
        "edge_purge.create",
        caller.org_uid,
        {"id": purge_id, "stack_id": stack_id, "items": len(items)},
    )
    message = {"id": purge_id, "sites": sites, "items": items}

    def send() -> None:
        fanout.hub().publish_purge(message)

    tx.after_commit(f"edge.purge.{purge_id}", send)
    return purge_id


def progress(tx: Tx, caller: EdgeCaller, stack: str, purge_id: str) -> float:
    stack_id = stack_row(tx, caller, stack)["id"]
    if not tx.scalar("SELECT 1 FROM edge_purges WHERE stack_id = ? AND id = ?", stack_id, purge_id):
        raise NotFound(f"Purge {purge_id!r} was not found.", status=404)
    return fanout.hub().progress(purge_id)


def tag_purge(sites: list[str], tags: list[str]) -> dict[str, Any]:
    """The message of a purge of `tags` on `sites` (purge on publish)."""
    item = {
        "host": None,
        "path": "/",
        "target": "/",
        "recursive": True,
        "any_query": False,
        "invalidate": False,
        "selectors": [{"type": "TAG", "name": "", "values": tags}],
    }
    return {"id": str(uuid.uuid4()), "sites": sites, "items": [item]}
