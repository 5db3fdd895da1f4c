"""Derived images on disk: one file per (stored file, plan), at most `max_bytes` in all, the least
recently used deleted first, shared safely by every process on the data dir.

    disk = Disk(Path(data_dir) / "derived", max_bytes=1 << 30, max_variants=200)
    with disk.flight(key, timeout=20):          # one process computes a missing image at a time
        disk.put(storage_key, key, body, "webp")
    found = disk.get(storage_key, key, ("webp", "png"))   # (body, "webp") or None

Layout: `<root>/<storage key[:2]>/<storage key>/<key>.<ext>`, so deleting an asset's stored file
deletes its images with one `rmtree` (`assets.collect`). Files are written to a temporary name and
renamed into place, so a reader sees a whole image or none; a read that loses a race with a
deletion is a miss, never an error.

Recency is the file's mtime: each disk hit sets it to now (an image served from a process's memory
was touched when it was read into it). The total is kept in `<root>/.bytes`, changed under an
exclusive `flock` by each write of any process; when it passes `max_bytes`, the process that saw it
sweeps (one at a time, under `<root>/.sweep`): it lists every file, deletes the oldest until the
total is at most 90% of `max_bytes`, and writes the true total back (which also corrects the count
for files deleted with their asset, and removes temporary files a crash left behind).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

LOW_WATER = 0.9  # a sweep frees down to this share of max_bytes, so sweeps stay rare
STALE_PART_SECONDS = 3600.0  # a temporary file this old was left by a process that died writing it


class Disk:
    def __init__(self, root: Path, max_bytes: int, max_variants: int) -> None:
        self.root = root
        self.max_bytes = max(0, max_bytes)
        self.max_variants = max(0, max_variants)

    def _folder(self, storage_key: str) -> Path:
        return self.root / storage_key[:2] / storage_key

    def get(self, storage_key: str, key: str, exts: tuple[str, ...]) -> tuple[bytes, str] | None:
        """The image's bytes and extension (one of `exts`), or None; a hit counts as a use."""
        folder = self._folder(storage_key)
        for ext in exts:
            path = folder / f"{key}.{ext}"
            try:
                body = path.read_bytes()
            except FileNotFoundError:
                continue
            with contextlib.suppress(OSError):  # swept meanwhile: the bytes read are still good
                os.utime(path)
            return body, ext
        return None

    def put(self, storage_key: str, key: str, body: bytes, ext: str) -> bool:
        """Keep the image, unless the disk budget is 0, the image alone is over it, or its stored file
        has `max_variants` images already (each asker could otherwise fill the disk with plans of
        their own; such images stay in memory only). Answers whether it was written."""
        if len(body) > self.max_bytes:
            return False
        folder = self._folder(storage_key)
        folder.mkdir(parents=True, exist_ok=True)
        if sum(1 for _ in folder.iterdir()) >= self.max_variants:
            return False
        final = folder / f"{key}.{ext}"
        fd, tmp = tempfile.mkstemp(dir=str(folder), prefix=".part-")
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        existed = final.exists()
        os.replace(tmp, final)
        if not existed and self._add(len(body)) > self.max_bytes:
            self.sweep()
        return True

    @contextlib.contextmanager
    def _locked(self, name: str, wait: bool = True) -> Iterator[int | None]:
        """An exclusive flock on `<root>/<name>`: the open descriptor, or None when `wait` is False
        and another process holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / name, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield None
                return
            yield fd
        finally:
            os.close(fd)  # releases the lock

    @contextlib.contextmanager
    def flight(self, key: str, timeout: float) -> Iterator[None]:
        """Held while one process computes the image `key`, so that the others wait and then find it
        here. One lock file per 4096th of the keys (`<root>/.flights/<key[:3]>`); after `timeout`
        seconds a waiter goes on without it. Nothing to share when nothing is kept on disk."""
        if not self.max_bytes:
            yield
            return
        folder = self.root / ".flights"
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / key[:3], os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.005)
            yield
        finally:
            os.close(fd)

    @staticmethod
    def _read_total(fd: int) -> int:
        raw = os.pread(fd, 32, 0).strip()
        return int(raw) if raw.isdigit() else 0

    @staticmethod
    def _write_total(fd: int, total: int) -> None:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(max(0, total)).encode(), 0)

    def _add(self, size: int) -> int:
        """Add `size` to the shared total; answers the new total."""
        with self._locked(".bytes") as fd:
            assert fd is not None
            total = self._read_total(fd) + size
            self._write_total(fd, total)
            return total

    def total(self) -> int:
        """The shared total of bytes on disk as last counted."""
        with self._locked(".bytes") as fd:
            assert fd is not None
            return self._read_total(fd)

    def _files(self) -> Iterator[tuple[float, int, str]]:
        """(mtime, size, path) of every image file, and temporary files a crash left behind deleted."""
        now = time.time()
        for shard in os.scandir(self.root):
            if shard.name.startswith(".") or not shard.is_dir(follow_symlinks=False):
                continue
            for folder in os.scandir(shard.path):
                if not folder.is_dir(follow_symlinks=False):
                    continue
                for entry in os.scandir(folder.path):
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    if entry.name.startswith(".part-"):
                        if now - st.st_mtime > STALE_PART_SECONDS:
                            with contextlib.suppress(FileNotFoundError):
                                os.unlink(entry.path)
                        continue
                    yield st.st_mtime, st.st_size, entry.path

    def sweep(self) -> None:
        """Delete the least recently used images until the total is at most 90% of `max_bytes`
        (nothing when another process is sweeping already)."""
        with self._locked(".sweep", wait=False) as held:
            if held is None:
                return
            counted = self.total()
            files = sorted(self._files())
            total = sum(size for _, size, _ in files)
            target = int(self.max_bytes * LOW_WATER)
            for _, size, path in files:
                if total <= target:
                    break
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                total -= size
            # what other processes added while this one listed stays counted (an image written
            # between `counted` and the listing counts twice until the next sweep: never under)
            with self._locked(".bytes") as fd:
                assert fd is not None
                self._write_total(fd, self._read_total(fd) - counted + total)
