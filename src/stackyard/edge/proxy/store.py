"""The cache of one data-plane node: entries in memory, overflowing to disk, with the indexes purges use.

An entry's key is its base (site, request target with query string, and the request's credential
headers: a delivery token's answer is never served to another token) plus the values of the
request headers its response's `Vary` names. Memory holds up to `memory_bytes` and disk up to
`disk_bytes`, least recently used leaving first (memory to disk, disk to nowhere); a response
larger than `max_object_bytes` is never stored. Disk files are written and read on the event loop
thread (entries are small next to the socket work around them) under the node's own directory,
which is emptied at start: a node that was away keeps nothing from before.

Indexes: by tag (the `X-Tag` values), by site and path, and by site, so a purge touches only its
candidates (a tag purge of 10,000 entries is a walk over one set). `drop` removes entries from the
primary index and the tiers only, leaving their keys in the other secondary sets: readers of those
sets skip keys that are gone (and re-check what they select on, as a key may be stored again), and
the sets are rebuilt once such leftovers outnumber the entries.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any


class Entry:
    __slots__ = (
        "base",
        "body",
        "checked",
        "disk_path",
        "etag",
        "ghead",
        "gzip",
        "head",
        "headers",
        "initial_age",
        "invalid",
        "key",
        "last_modified",
        "lheaders",
        "must_revalidate",
        "path",
        "revalidate_always",
        "sie",
        "site_id",
        "size",
        "status",
        "stored",
        "stored_at",
        "swr",
        "tag_keys",
        "tags",
        "target",
        "ttl",
    )

    key: str
    base: str
    site_id: str
    path: str
    target: str
    status: int
    headers: list[tuple[str, str]]
    lheaders: dict[str, str]
    body: bytes | None
    gzip: bytes | None
    head: bytes
    ghead: bytes
    stored_at: float
    initial_age: float
    ttl: float
    swr: float
    sie: float
    revalidate_always: bool
    must_revalidate: bool
    invalid: bool
    etag: str | None
    last_modified: str | None
    tags: tuple[str, ...]
    tag_keys: tuple[str, ...]  # site id and tag, as `tag_purged` is keyed
    stored: int  # the cache's purge clock when stored
    checked: int  # the purge clock when last found alive
    size: int
    disk_path: str | None

    def __init__(self, **fields: Any) -> None:
        self.invalid = False
        self.stored = self.checked = 0
        self.tag_keys = ()
        self.disk_path: str | None = None
        self.gzip: bytes | None = None
        self.ghead: bytes = b""
        for k, v in fields.items():
            setattr(self, k, v)

    def age(self, now: float) -> float:
        return self.initial_age + (now - self.stored_at)

    def fresh(self, now: float) -> bool:
        return not self.invalid and not self.revalidate_always and self.age(now) < self.ttl

    def staleness(self, now: float) -> float:
        return self.age(now) - self.ttl


class Cache:
    def __init__(
        self, directory: str | None, *, memory_bytes: int, disk_bytes: int, max_object_bytes: int
    ) -> None:
        self.memory_bytes = memory_bytes
        self.disk_bytes = disk_bytes if directory else 0
        self.max_object_bytes = max_object_bytes
        self.directory = Path(directory) if directory else None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory.mkdir(parents=True, exist_ok=True)
        self.index: dict[str, Entry] = {}
        self.vary: dict[str, tuple[str, ...]] = {}
        self.memory: OrderedDict[str, Entry] = OrderedDict()
        self.disk: OrderedDict[str, Entry] = OrderedDict()
        self.memory_used = 0
        self.disk_used = 0
        self.by_tag: dict[str, set[str]] = {}
        self.by_path: dict[tuple[str, str], set[str]] = {}
        self.by_site: dict[str, set[str]] = {}
        self.leftovers = 0
        # Tag purges are O(tags): they stamp (site, tag) with the next clock value, and an entry
        # stored before the stamp is dead (or, invalidated, must revalidate) when next looked up.
        # A hit checks its tags only when the clock moved since it was last found alive.
        self.clock = 0
        self.tag_purged: dict[str, int] = {}
        self.tag_invalidated: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.index)

    @staticmethod
    def full_key(base: str, names: tuple[str, ...], header: Any) -> str:
        if not names:
            return base
        return base + "\x00" + "\x00".join(header(n) or "" for n in names)

    def get(self, base: str, header: Any) -> Entry | None:
        """The entry for a request (`header(name)` answers its lowercase-named header), or None."""
        names = self.vary.get(base)
        if names is None:
            return None
        key = base if not names else self.full_key(base, names, header)
        entry = self.index.get(key)
        if entry is None:
            return None
        if entry.checked != self.clock and not self.alive(entry):
            return None
        if entry.body is None:
            return self._load(entry)
        self.memory.move_to_end(key)
        return entry

    def alive(self, entry: Entry) -> bool:
        """Check an entry against the tag purges since it was stored; drops it when one hit it."""
        stored = entry.stored
        for k in entry.tag_keys:
            if self.tag_purged.get(k, 0) > stored:
                self.remove(entry.key)
                return False
            if self.tag_invalidated.get(k, 0) > stored:
                entry.invalid = True
        entry.checked = self.clock
        return True

    def purge_tags(
        self, sites: Iterable[str], tags: Iterable[str], *, invalidate: bool
    ) -> list[tuple[str, set[str]]]:
        """Kill (or invalidate) every entry of `sites` carrying any of `tags`, in O(sites x tags).
        Answers (tag, keys) that may have been hit, taken out of the tag index for a sweep that
        frees their memory later and puts back the keys of entries still alive."""
        self.clock += 1
        stamps = self.tag_invalidated if invalidate else self.tag_purged
        tags = list(tags)
        for site in sites:
            for tag in tags:
                stamps[f"{site}\x00{tag}"] = self.clock
        if invalidate:
            return []
        return [(tag, found) for tag in tags if (found := self.by_tag.pop(tag, None))]

    def sweep(self, tag: str, keys: set[str], budget: int) -> int:
        """Look at up to `budget` of `keys` a tag purge took out of the index: drop the dead, put
        the living back under `tag`. Answers how many it looked at."""
        n = 0
        while keys and n < budget:
            key = keys.pop()
            n += 1
            entry = self.index.get(key)
            if entry is not None and (entry.checked == self.clock or self.alive(entry)) and tag in entry.tags:
                self.by_tag.setdefault(tag, set()).add(key)
        return n

    def put(self, entry: Entry, names: tuple[str, ...]) -> bool:
        if entry.size > self.max_object_bytes or entry.size > self.memory_bytes:
            return False
        self.remove(entry.key)
        entry.stored = entry.checked = self.clock
        entry.tag_keys = tuple(f"{entry.site_id}\x00{t}" for t in entry.tags)
        self.vary[entry.base] = names
        self.index[entry.key] = entry
        self.memory[entry.key] = entry
        self.memory_used += entry.size
        for tag in entry.tags:
            self.by_tag.setdefault(tag, set()).add(entry.key)
        self.by_path.setdefault((entry.site_id, entry.path), set()).add(entry.key)
        self.by_site.setdefault(entry.site_id, set()).add(entry.key)
        self._evict()
        return True

    def remove(self, key: str) -> Entry | None:
        entry = self.index.pop(key, None)
        if entry is None:
            return None
        if self.memory.pop(key, None) is not None:
            self.memory_used -= entry.size
        if self.disk.pop(key, None) is not None:
            self.disk_used -= entry.size
            self._unlink(entry)
        for tag in entry.tags:
            keys = self.by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self.by_tag[tag]
        path_keys = self.by_path.get((entry.site_id, entry.path))
        if path_keys is not None:
            path_keys.discard(key)
            if not path_keys:
                del self.by_path[(entry.site_id, entry.path)]
        site_keys = self.by_site.get(entry.site_id)
        if site_keys is not None:
            site_keys.discard(key)
            if not site_keys:
                del self.by_site[entry.site_id]
        return entry

    def remove_many(self, keys: Iterable[str]) -> int:
        return sum(1 for k in list(keys) if self.remove(k) is not None)

    def drop(self, keys: Iterable[str]) -> int:
        """Remove many entries at once (purges): see the module docstring."""
        index, memory, disk = self.index, self.memory, self.disk
        n = freed = 0
        for k in keys:
            entry = index.pop(k, None)
            if entry is None:
                continue
            n += 1
            if memory.pop(k, None) is not None:
                freed += entry.size
            elif disk.pop(k, None) is not None:
                self.disk_used -= entry.size
                self._unlink(entry)
        self.memory_used -= freed
        self.leftovers += n
        if self.leftovers > max(10_000, len(index)):
            self.reindex()
        return n

    def reindex(self) -> None:
        """Rebuild the secondary indexes from the entries (dropping leftover keys)."""
        self.by_tag, self.by_path, self.by_site = {}, {}, {}
        for key, entry in self.index.items():
            for tag in entry.tags:
                self.by_tag.setdefault(tag, set()).add(key)
            self.by_path.setdefault((entry.site_id, entry.path), set()).add(key)
            self.by_site.setdefault(entry.site_id, set()).add(key)
        self.leftovers = 0

    def clear(self) -> None:
        for entry in list(self.disk.values()):
            self._unlink(entry)
        for attr in ("index", "vary", "memory", "disk", "by_tag", "by_path", "by_site"):
            getattr(self, attr).clear()
        self.memory_used = self.disk_used = self.leftovers = 0
        self.tag_purged.clear()
        self.tag_invalidated.clear()

    def drop_site(self, site_id: str) -> int:
        keys = [
            k
            for k in self.by_site.pop(site_id, ())
            if (e := self.index.get(k)) is not None and e.site_id == site_id
        ]
        return self.drop(keys)

    # -- tiers ------------------------------------------------------------------------------------
    def _evict(self) -> None:
        while self.memory_used > self.memory_bytes and self.memory:
            key, entry = self.memory.popitem(last=False)
            self.memory_used -= entry.size
            if self.disk_bytes and entry.size <= self.disk_bytes and self._spill(entry):
                continue
            self.memory[key] = entry  # so that remove() accounts for it
            self.memory_used += entry.size
            self.remove(key)
        while self.disk_used > self.disk_bytes and self.disk:
            key = next(iter(self.disk))
            self.remove(key)

    def _spill(self, entry: Entry) -> bool:
        assert self.directory is not None and entry.body is not None
        name = hashlib.sha256(entry.key.encode("utf-8", "surrogateescape")).hexdigest()
        path = self.directory / name
        try:
            with open(path, "wb") as f:
                f.write(len(entry.body).to_bytes(8, "big"))
                f.write(entry.body)
                f.write(entry.gzip or b"")
        except OSError:
            return False
        entry.disk_path = str(path)
        entry.body = None
        entry.gzip = None
        self.disk[entry.key] = entry
        self.disk_used += entry.size
        return True

    def _load(self, entry: Entry) -> Entry | None:
        assert entry.disk_path is not None
        try:
            with open(entry.disk_path, "rb") as f:
                data = f.read()
        except OSError:
            self.remove(entry.key)
            return None
        n = int.from_bytes(data[:8], "big")
        self.disk.pop(entry.key, None)
        self.disk_used -= entry.size
        self._unlink(entry)
        entry.body = data[8 : 8 + n]
        entry.gzip = data[8 + n :] or None
        self.memory[entry.key] = entry
        self.memory_used += entry.size
        self._evict()
        return entry if entry.key in self.index and entry.body is not None else None

    @staticmethod
    def _unlink(entry: Entry) -> None:
        if entry.disk_path:
            try:
                os.unlink(entry.disk_path)
            except OSError:
                pass
            entry.disk_path = None
