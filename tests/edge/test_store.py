"""The node's cache: memory LRU spilling to disk, size limits, the largest object, and purges'
indexes staying right as entries are dropped, stored again and swept (pure, no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stackyard.edge.proxy import purge
from stackyard.edge.proxy.store import Cache, Entry


def entry(
    key: str, size: int = 100, tags: tuple[str, ...] = (), site: str = "s", path: str | None = None
) -> Entry:
    return Entry(
        key=key,
        base=key,
        site_id=site,
        path=path or f"/{key}",
        target=path or f"/{key}",
        status=200,
        headers=[],
        lheaders={},
        body=b"x" * size,
        head=b"",
        stored_at=0.0,
        initial_age=0.0,
        ttl=60.0,
        swr=0.0,
        sie=0.0,
        revalidate_always=False,
        must_revalidate=False,
        etag=None,
        last_modified=None,
        tags=tags,
        size=size,
    )


def get(cache: Cache, key: str) -> Entry | None:
    return cache.get(key, lambda _: None)


def tag_item(*tags: str, invalidate: bool = False) -> dict[str, Any]:
    return {
        "host": None,
        "path": "/",
        "target": "/",
        "recursive": True,
        "any_query": False,
        "invalidate": invalidate,
        "selectors": [{"type": "TAG", "name": "", "values": list(tags)}],
    }


def test_least_recently_used_entries_leave_memory_for_disk_then_disk(tmp_path: Path) -> None:
    cache = Cache(str(tmp_path / "c"), memory_bytes=300, disk_bytes=200, max_object_bytes=1000)
    for k in ("a", "b", "c"):
        cache.put(entry(k), ())
    assert get(cache, "a") is not None  # a is now the most recent
    cache.put(entry("d"), ())  # b goes to disk
    assert cache.memory_used <= 300 and "b" in cache.disk
    assert len(list((tmp_path / "c").iterdir())) == 1
    got = get(cache, "b")  # read back from disk into memory
    assert got is not None and got.body == b"x" * 100
    cache.put(entry("e"), ())
    cache.put(entry("f"), ())
    assert cache.disk_used <= 200 and cache.memory_used <= 300
    assert len(cache) <= 5


def test_objects_over_the_limit_are_not_stored(tmp_path: Path) -> None:
    cache = Cache(None, memory_bytes=10_000, disk_bytes=0, max_object_bytes=500)
    assert cache.put(entry("big", size=501), ()) is False and get(cache, "big") is None
    assert cache.put(entry("ok", size=500), ()) is True


def test_a_disk_cache_starts_empty(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "left-over").write_bytes(b"old")
    Cache(str(tmp_path / "c"), memory_bytes=100, disk_bytes=100, max_object_bytes=100)
    assert list((tmp_path / "c").iterdir()) == []


def test_tag_purges_kill_what_was_stored_before_and_spare_what_comes_after() -> None:
    cache = Cache(None, memory_bytes=10**6, disk_bytes=0, max_object_bytes=10**6)
    cache.put(entry("a", tags=("t1",)), ())
    cache.put(entry("b", tags=("t2",)), ())
    cache.put(entry("other-site", tags=("t1",), site="s2"), ())
    swept: list[tuple[str, set[str]]] = []
    purge.apply(cache, tag_item("t1"), ["s"], lambda tag, keys: swept.append((tag, keys)))
    assert get(cache, "a") is None and get(cache, "b") is not None
    assert get(cache, "other-site") is not None  # the purge named site s only
    cache.put(entry("a", tags=("t1",)), ())  # fetched again after the purge
    assert get(cache, "a") is not None
    for tag, keys in swept:
        while keys:
            cache.sweep(tag, keys, 1)
    assert set(cache.by_tag["t1"]) == {"a", "other-site"}  # the living are indexed again
    purge.apply(cache, tag_item("t1"), ["s", "s2"])
    assert get(cache, "a") is None and get(cache, "other-site") is None and len(cache) == 1


def test_invalidating_tag_purges_keep_entries_for_revalidation() -> None:
    cache = Cache(None, memory_bytes=10**6, disk_bytes=0, max_object_bytes=10**6)
    cache.put(entry("a", tags=("t",)), ())
    purge.apply(cache, tag_item("t", invalidate=True), ["s"])
    found = get(cache, "a")
    assert found is not None and found.invalid and not found.fresh(0.0)


def test_many_drops_rebuild_the_indexes() -> None:
    cache = Cache(None, memory_bytes=10**9, disk_bytes=0, max_object_bytes=10**6)
    for i in range(12_000):
        cache.put(entry(f"k{i}", size=1, path=f"/p/{i}"), ())
    item = {
        "host": None,
        "path": "/p/",
        "target": "/p/",
        "recursive": True,
        "any_query": False,
        "invalidate": False,
        "selectors": [],
    }
    assert purge.apply(cache, item, ["s"]) == 12_000
    assert len(cache) == 0 and cache.leftovers == 0 and cache.by_site == {}
