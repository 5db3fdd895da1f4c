"""Durability: a write the server acknowledged survives the server being killed mid-burst.

The real `python -m stackyard serve` runs as a subprocess on the test database (SQLite file or a
fresh PostgreSQL database). Several threads create environments as fast as they can and note every
one answered 201; the server is SIGKILLed while they are still sending, then restarted on the same
data. Every acknowledged environment must be there, each with the event recorded in its transaction,
and the SQLite file must pass its own integrity check.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from stackyard.store.engine import Database
from tests.conftest import free_port

EMAIL, PASSWORD = "crash@example.com", "crash test password"
WRITERS = 6


class Server:
    """`python -m stackyard serve` on a given database, restartable on the same data."""

    def __init__(self, db_url: str, data_dir: Path, extra: list[str] | None = None) -> None:
        self.db_url = db_url
        self.data_dir = data_dir
        self.extra = extra or []
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> None:
        port = free_port()
        env = {
            **os.environ,
            "STACKYARD_ADMIN_EMAIL": EMAIL,
            "STACKYARD_ADMIN_PASSWORD": PASSWORD,
            "STACKYARD_ACCESS_LOG": "false",
        }
        cmd = [sys.executable, "-m", "stackyard", "serve", "--port", str(port)]
        cmd += ["--data-dir", str(self.data_dir), "--database-url", self.db_url, *self.extra]
        tls = "--tls-cert" in self.extra
        with open(self.data_dir / "server.log", "ab") as log:
            self.process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        verify: Any = True
        if tls:
            verify = ssl.create_default_context(cafile=self.extra[self.extra.index("--tls-cert") + 1])
        try:
            self._wait_healthy(verify)
        except BaseException:
            self.stop()  # a server that never became healthy must not outlive the test
            raise

    def _wait_healthy(self, verify: Any) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.data_dir / "server.log").read_text()[-3000:]
            try:
                if httpx.get(self.url + "/healthz", timeout=1, verify=verify).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError("the server did not become healthy")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def login(url: str, verify: Any = True) -> str:
    r = httpx.post(
        url + "/v3/user-session",
        json={"user": {"email": EMAIL, "password": PASSWORD}},
        timeout=30,
        verify=verify,
    )
    assert r.status_code == 200, r.text
    return str(r.json()["user"]["authtoken"])


def burst(
    url: str,
    headers: dict[str, str],
    n: int,
    acknowledged: list[str],
    cut_off: list[int],
    stop: threading.Event,
) -> None:
    """Create environments until told to stop or the server goes away; note each one answered 201."""
    with httpx.Client(base_url=url, headers=headers, timeout=10) as c:
        k = 0
        while not stop.is_set():
            name = f"w{n}-{k}"
            k += 1
            try:
                r = c.post("/v3/environments", json={"environment": {"name": name}})
            except httpx.HTTPError:
                cut_off.append(n)  # the server died with this write in flight: never acknowledged
                return
            if r.status_code == 201:
                acknowledged.append(name)


def kill_mid_burst(
    server: Server,
    send: Callable[[int, list[Any], list[int], threading.Event], None],
    writers: int,
    least: int,
) -> list[Any]:
    """Run `writers` threads of `send(n, acknowledged, cut_off, stop)` and SIGKILL the server once
    `least` writes were acknowledged, with writes still in flight; answers the acknowledged ones."""
    acknowledged: list[Any] = []
    cut_off: list[int] = []
    stop = threading.Event()
    threads = [threading.Thread(target=send, args=(n, acknowledged, cut_off, stop)) for n in range(writers)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < least and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert len(acknowledged) >= least, "the writers did not get going before the kill"
    assert cut_off, "no write was in flight when the server was killed"
    return acknowledged


def test_acknowledged_writes_survive_sigkill(db: Database, tmp_path: Path) -> None:
    # given a running server with a stack, and writers hammering it with environment creates
    server = Server(db.url, tmp_path)
    server.start()
    try:
        token = login(server.url)
        r = httpx.post(
            server.url + "/v3/stacks",
            json={"stack": {"name": "Crash", "master_locale": "en-us"}},
            headers={"authtoken": token},
            timeout=30,
        )
        assert r.status_code == 201, r.text
        api_key = r.json()["stack"]["api_key"]
        headers = {"authtoken": token, "api_key": api_key}
        # when the server is SIGKILLed while writes are in flight
        acknowledged = kill_mid_burst(server, partial(burst, server.url, headers), WRITERS, 60)

        # then after a restart on the same data every acknowledged environment is there
        server.start()
        headers["authtoken"] = login(server.url)
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as c:
            r = c.get("/v3/environments", params={"limit": 1000, "include_count": "true"})
            assert r.status_code == 200, r.text
            stored = {e["name"] for e in r.json()["environments"]}
            assert r.json()["count"] == len(stored), "more environments than one page holds"
            # and the server still takes writes
            assert c.post("/v3/environments", json={"environment": {"name": "after"}}).status_code == 201
        missing = set(acknowledged) - stored
        assert not missing, f"{len(missing)} acknowledged writes were lost: {sorted(missing)[:10]}"
    finally:
        server.stop()

    # and each stored environment has its event (written in the same transaction), the file is sound
    check = Database(db.url, pool_size=1)
    try:
        with check.read() as tx:
            rows: list[dict[str, Any]] = tx.all(
                "SELECT e.name, (SELECT COUNT(*) FROM events v WHERE v.api_key = e.api_key "
                "AND v.object_uid = e.uid AND v.type = 'environment.create') AS n "
                "FROM environments e WHERE e.api_key = ?",
                api_key,
            )
        assert {r["name"] for r in rows} == stored | {"after"}
        assert all(r["n"] == 1 for r in rows), [r for r in rows if r["n"] != 1][:5]
        assert check.integrity_check() == "ok"
    finally:
        check.close()
