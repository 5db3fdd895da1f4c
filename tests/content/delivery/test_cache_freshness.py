"""The response cache is never stale once a publish is acknowledged: readers hammer a server while
entries are published through another, in one process, across two servers on one database, and
with `serve --workers 2`."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stackyard.store.engine import Database
from tests.conftest import free_port, start_server
from tests.content.delivery.conftest import Site

ROUNDS = 12


def _hammer(site: Site, base: str, uid: str, fresh: bool) -> None:
    """Publish ROUNDS versions through the CMA; readers on `base` must never see an older one than
    the last acknowledged when their request started."""
    path = f"/v3/content_types/article/entries/{uid}"
    acked = [0]
    stop = threading.Event()
    stale: list[str] = []
    reads = [0]

    def reader() -> None:
        client = httpx.Client(base_url=base, headers=site.cda(base=base).headers, timeout=30)
        while not stop.is_set():
            floor = acked[0]
            if fresh:  # a new connection each time: any worker process may answer
                r = httpx.get(base + path, headers=dict(site.cda(base=base).headers), timeout=30)
            else:
                r = client.get(path)
            seen = int(r.json()["entry"]["title"].removeprefix("v"))
            reads[0] += 1
            if seen < floor:
                stale.append(f"read v{seen} after v{floor} was acknowledged")
        client.close()

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for i in range(1, ROUNDS + 1):
            site.update("article", uid, {"title": f"v{i}"})
            site.publish("article", uid)
            acked[0] = i
            with httpx.Client(base_url=base, headers=site.cda(base=base).headers) as c:
                got = c.get(path).json()["entry"]["title"]
            assert got == f"v{i}", f"stale right after the publish was acknowledged: {got}"
            time.sleep(0.02)  # let the readers fill the cache with this version
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert not stale, stale[:5]
    assert reads[0] > ROUNDS
    if not fresh:  # the readers were answered from the cache, not around it
        assert httpx.get(base + "/healthz").json()["delivery_cache"]["hits"] > ROUNDS


@pytest.fixture
def entry(site: Site) -> str:
    e = site.create("article", {"title": "v0"})
    site.publish("article", e["uid"])
    return str(e["uid"])


def test_one_process(site: Site, entry: str) -> None:
    _hammer(site, site.live.url, entry, fresh=False)


def test_two_servers_on_one_database(site: Site, entry: str) -> None:
    # a second server with its own database handle (and so its own caches), as another machine has
    other = Database(site.live.db.url)
    server, thread, url = start_server(site.live.settings, other)
    try:
        _hammer(site, url, entry, fresh=False)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        other.close()


@pytest.fixture
def workers(site: Site, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "STACKYARD_ACCESS_LOG": "false",
        "STACKYARD_RATE_LIMIT_ENABLED": "false",
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parents[3] / "src"), os.environ.get("PYTHONPATH", "")]
        ),
    }
    cmd = [sys.executable, "-m", "stackyard", "serve", "--port", str(port), "--workers", "2"]
    cmd += ["--data-dir", str(tmp_path), "--database-url", site.live.db.url]
    with open(tmp_path / "server.log", "wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the server did not become healthy"
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_two_workers(site: Site, entry: str, workers: str) -> None:
    _hammer(site, workers, entry, fresh=True)


def test_two_workers_see_publishes_after_the_wal_restarts(site: Site, entry: str, workers: str) -> None:
    """On SQLite a lookup skips the clock read while the WAL index header is unchanged; a WAL
    checkpointed and truncated by another process starts again from its first frame, and the
    publishes after it must still reach every worker."""
    path = f"/v3/content_types/article/entries/{entry}"
    headers = dict(site.cda(base=workers).headers)

    def title() -> str:  # a new connection each time: any worker may answer
        return str(httpx.get(workers + path, headers=headers, timeout=30).json()["entry"]["title"])

    for i in range(1, 5):
        for _ in range(6):
            title()  # both workers hold the answer
        if site.live.db.dialect == "sqlite":
            with sqlite3.connect(site.live.db.path) as other:  # another connection, as a CLI's would be
                other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        site.update("article", entry, {"title": f"w{i}"})
        site.publish("article", entry)
        seen = {title() for _ in range(8)}
        assert seen == {f"w{i}"}, f"after publish {i} was acknowledged: {seen}"
    assert httpx.get(workers + "/healthz").json()["delivery_cache"]["hits"] > 0
