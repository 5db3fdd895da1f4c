"""Which cached entries a purge item matches (the item shapes are `edge.purges.item_of`'s)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
        if len(tags) == 1:
            return set(cache.by_tag.get(tags[0], ()))
        out: set[str] = set()
        for tag in tags:
            out |= cache.by_tag.get(tag, set())
        return out
    if not item["recursive"]:
        out = set()
        for site in site_ids:
            out |= cache.by_path.get((site, item["path"]), set())
        return out
    out = set()
    for site in site_ids:
        out |= cache.by_site.get(site, set())
    return out


def apply(
    cache: Cache,
    item: dict[str, Any],
    sites: Iterable[str],
    sweep: Callable[[str, set[str]], None] | None = None,
) -> int:
    """Drop (or with `invalidate`, mark for revalidation) what `item` matches; answers how many
    entries it may have touched.

    A tag purge of whole sites is stamped (`Cache.purge_tags`): O(tags), whatever the number of
    entries; `sweep(tag, keys)` is handed the keys to clean up later (else they are swept now).
    Other purges look at their candidates, which may hold keys of entries already dropped or
    stored again (`Cache.drop`), so each is looked up and checked against what the item selects."""
    site_ids = set(sites)
    index = cache.index
    selectors = item["selectors"]
    if item["recursive"] and item["path"] == "/" and len(selectors) == 1 and selectors[0]["type"] == "TAG":
        # A tag purge of the whole site (what purge on publish sends): stamped, O(tags).
        wanted = selectors[0]["values"]
        hit = cache.purge_tags(site_ids, wanted, invalidate=item["invalidate"])
        for tag, keys in hit:
            if sweep is not None:
                sweep(tag, keys)
            else:
                while keys:
                    cache.sweep(tag, keys, len(keys))
        return sum(len(k) for _, k in hit)
    keys = candidates(cache, item, site_ids)
    chosen = [
        k
        for k in keys
        if (e := index.get(k)) is not None
        and e.site_id in site_ids
        and _in_scope(e, item)
        and selected(e, selectors)
    ]
    if item["invalidate"]:
        for k in chosen:
            index[k].invalid = True
        return len(chosen)
    n = cache.drop(chosen)
    for s in selectors:
        for t in s["values"] if s["type"] == "TAG" else ():
            left = cache.by_tag.get(t)
            if left is not None:
                kept = {k for k in left if k in index}
                if kept:
                    cache.by_tag[t] = kept
                else:
                    del cache.by_tag[t]
    return n
