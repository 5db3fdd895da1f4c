"""Which cached entries a purge item matches (the item shapes are `edge.purges.item_of`'s)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stackyard.edge.proxy.store import Cache, Entry


def _header_values(entry: Entry, name: str) -> set[str]:
    raw = entry.lheaders.get(name)
    if raw is None:
        return set()
    return {raw.strip().lower(), *(v.strip().lower() for v in raw.split(","))}


def selected(entry: Entry, selectors: list[dict[str, Any]]) -> bool:
    for s in selectors:
        wanted = s["values"]
        if s["type"] == "TAG":
            if not set(entry.tags) & set(wanted):
                return False
        elif not _header_values(entry, s["name"]) & {w.lower() for w in wanted}:
            return False
    return True


def _in_scope(entry: Entry, item: dict[str, Any]) -> bool:
    if item["recursive"]:
        return entry.path.startswith(item["path"])
    if item["any_query"]:
        return entry.path == item["path"]
    return entry.target == item["target"]


def candidates(cache: Cache, item: dict[str, Any], sites: Iterable[str]) -> set[str]:
    site_ids = set(sites)
    tags = [v for s in item["selectors"] if s["type"] == "TAG" for v in s["values"]]
    if tags:
        out: set[str] = set()
        for tag in tags:
            out |= cache.by_tag.get(tag, set())
        if cache.by_site.keys() <= site_ids:
            return out
        return {k for k in out if cache.index[k].site_id in site_ids}
    if not item["recursive"]:
        out = set()
        for site in site_ids:
            out |= cache.by_path.get((site, item["path"]), set())
        return out
    out = set()
    for site in site_ids:
        out |= cache.by_site.get(site, set())
    return out


def apply(cache: Cache, item: dict[str, Any], sites: Iterable[str]) -> int:
    """Drop (or with `invalidate`, mark for revalidation) what `item` matches; answers how many."""
    keys = candidates(cache, item, sites)
    simple = item["recursive"] and item["path"] == "/" and all(s["type"] == "TAG" for s in item["selectors"])
    selectors = item["selectors"]
    if not simple or len(selectors) > 1:
        keys = {k for k in keys if _in_scope(cache.index[k], item) and selected(cache.index[k], selectors)}
    if item["invalidate"]:
        for k in keys:
            cache.index[k].invalid = True
        return len(keys)
    return cache.remove_many(keys)
