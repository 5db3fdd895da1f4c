"""Derived images: each (stored file, normalized plan, output format) is computed once and reused.

    images = Derived(settings)                 # one per process and data dir
    out = images.get(storage_key, plan, source_path, source_mime, overlay)

The key is the SHA-256 of the stored file's key (itself the file's SHA-256, so it names one version
of one asset's bytes) and `Plan.key`. Results are kept in memory (least recently used dropped
first, `image_cache_entries`) and on disk under `<data_dir>/derived/` (`disk.Disk`: at most
`image_disk_cache_bytes` in all, least recently used deleted first, and at most
`image_max_variants` per stored file), so a restart or another process on the same data dir does
not compute them again. Concurrent asks for the same missing image wait for one computation
(single flight: within a process by a lock per key, across processes by `disk.flight`). At most `image_transform_concurrency` transforms run at once; a request waits for
a turn up to the time limit, then answers 503.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stackyard.content.assets.images import render
from stackyard.content.assets.images.disk import Disk
from stackyard.content.assets.images.params import Plan
from stackyard.settings import Settings

_EXT = {v: k for k, v in render.MIME.items() if k in ("jpg", "png", "webp", "gif", "avif")}
_MIME = {ext: mime for mime, ext in _EXT.items()}


@dataclass(frozen=True)
class Image:
    body: bytes
    mime: str
    etag: str


class Derived:
    def __init__(self, settings: Settings) -> None:
        self.root = Path(settings.data_dir) / "derived"
        self.limits = render.Limits(
            max_input_pixels=settings.image_max_input_pixels,
            max_input_bytes=settings.image_max_input_bytes,
            max_output_side=settings.image_max_output_side,
            timeout_seconds=settings.image_transform_timeout_seconds,
        )
        self.capacity = max(0, settings.image_cache_entries)
        self.disk = Disk(self.root, settings.image_disk_cache_bytes, settings.image_max_variants)
        self._memory: OrderedDict[str, Image] = OrderedDict()
        self._lock = threading.Lock()
        self._flights: dict[str, threading.Lock] = {}
        self._turns = threading.BoundedSemaphore(max(1, settings.image_transform_concurrency))
        self.computed = 0  # transforms run by this process (the bench and tests read it)

    @staticmethod
    def key(storage_key: str, plan: Plan) -> str:
        return hashlib.sha256(f"{storage_key}|{plan.key}".encode()).hexdigest()

    def cached(self, key: str) -> Image | None:
        """The image from memory, or None (cheap: safe on the event loop)."""
        with self._lock:
            found = self._memory.get(key)
            if found is not None:
                self._memory.move_to_end(key)
            return found

    def _remember(self, key: str, image: Image) -> None:
        if not self.capacity:
            return
        with self._lock:
            self._memory[key] = image
            self._memory.move_to_end(key)
            while len(self._memory) > self.capacity:
                self._memory.popitem(last=False)

    def _disk_get(self, storage_key: str, key: str) -> Image | None:
        found = self.disk.get(storage_key, key, tuple(_EXT.values()))
        return None if found is None else Image(found[0], _MIME[found[1]], key[:32])

    def get(
        self,
        storage_key: str,
        plan: Plan,
        source: Callable[[], Path],
        source_mime: str,
        overlay: Callable[[str], Path | None] | None = None,
    ) -> Image:
        """The derived image, computed now if no process made it before. `source()` answers a local
        path of the original (fetched from object storage only on a miss)."""
        key = self.key(storage_key, plan)
        found = self.cached(key)
        if found is not None:
            return found
        with self._lock:
            flight = self._flights.setdefault(key, threading.Lock())
        try:
            with flight:
                found = self.cached(key) or self._disk_get(storage_key, key)
                if found is None:
                    with self.disk.flight(key, self.limits.timeout_seconds):  # other processes
                        found = self._disk_get(storage_key, key)
                        if found is None:
                            found = self._compute(key, plan, source, source_mime, overlay)
                            self.disk.put(storage_key, key, found.body, _EXT[found.mime])
                self._remember(key, found)
        finally:
            with self._lock:
                self._flights.pop(key, None)
        return found

    def _compute(
        self,
        key: str,
        plan: Plan,
        source: Callable[[], Path],
        source_mime: str,
        overlay: Callable[[str], Path | None] | None,
    ) -> Image:
        if not self._turns.acquire(timeout=self.limits.timeout_seconds):
            raise render.TimedOut("Too many image transforms are running; try again shortly.")
        try:
            out = render.transform(source(), plan, source_mime, self.limits, overlay)
        finally:
            self._turns.release()
        self.computed += 1
        return Image(out.body, out.mime, key[:32])


_BY_SETTINGS: dict[Settings, Derived] = {}
_BY_DIR: dict[str, Derived] = {}
_LOCK = threading.Lock()


def for_settings(settings: Settings) -> Derived:
    """The process's derived-image cache for these settings (one per data dir)."""
    found = _BY_SETTINGS.get(settings)
    if found is not None:
        return found
    with _LOCK:
        where = str(Path(settings.data_dir).resolve())
        found = _BY_DIR.get(where)
        if found is None or found.limits != Derived(settings).limits:
            found = _BY_DIR[where] = Derived(settings)
        _BY_SETTINGS[settings] = found
        return found
