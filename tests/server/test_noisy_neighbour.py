"""One organization reading as fast as it can does not take the server from another.

A real `stackyard serve` process with the default limits, on each engine. Organization A's clients
ignore Retry-After and send their next read as soon as an answer arrives (closed loop, as a load
generator does); organization B reads one request at a time. B's p99 latency under that load stays
within 3x its p99 on the idle server, or 120 ms, whichever is larger (on an idle server a p99 of a
few milliseconds is mostly scheduling noise, and the test shares the machine). Without limits that
engage, and refusals that neither cost the database nor come back at once (`rate_limit_hold_seconds`),
A's requests queue in front of every one of B's: B's p99 was 144 ms on PostgreSQL here with 64
connections (144-298 ms over several runs), 2.1 s in the issue's measurement; with the limits it is
7-9 ms on SQLite and 32-80 ms on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from stackyard.settings import Settings
from stackyard.store.engine import Database
from tests.conftest import free_port

# measures latency: runs alone, after the parallel part of the suite
pytestmark = pytest.mark.solo

NOISY_CONNECTIONS = 64
IDLE_SECONDS = 2.0
LOADED_SECONDS = 3.0
BURST_SECONDS = 3.0
BOUND_FACTOR = 3.0
BOUND_FLOOR_MS = 120.0


def test_one_organization_at_full_speed_leaves_another_its_latency(db: Database, tmp_path: Path) -> None:
    # given a server with the default limits and two organizations, each with a stack
    users = [_user(db, f"org{i}@example.com") for i in (1, 2)]
    with _server(db, tmp_path) as url:
        noisy, quiet = (_stack(url, email) for email in users)
        # when B reads alone, then while A reads at full speed on many connections
        idle = _latencies(url, quiet, IDLE_SECONDS)
        statuses: Counter[int] = Counter()
        stop = threading.Event()
        load = threading.Thread(target=_flood, args=(url, noisy, stop, statuses), daemon=True)
        load.start()
        try:
            time.sleep(BURST_SECONDS)  # A spends its burst (2 s of its limit) first
            loaded = _latencies(url, quiet, LOADED_SECONDS)
        finally:
            stop.set()
            load.join(timeout=10)
    # then A was refused past its limit, and B's p99 stayed within the bound
    idle_p99, loaded_p99 = _p99(idle), _p99(loaded)
    bound = max(BOUND_FACTOR * idle_p99, BOUND_FLOOR_MS)
    report = (
        f"{db.dialect}: B idle p99 {idle_p99:.1f} ms ({len(idle)} reads), under load p99 "
        f"{loaded_p99:.1f} ms ({len(loaded)} reads), bound {bound:.1f} ms; A's answers {dict(statuses)}"
    )
    print(report)
    assert statuses[429] > 0 and set(statuses) <= {200, 429}, report
    assert loaded_p99 <= bound, report


def _user(db: Database, email: str) -> str:
    """A user with an organization of their own, made through the services (as first start does)."""
    from stackyard.identity import organizations, passwords, users

    cheap = Settings(password_hash_time_cost=1, password_hash_memory_kib=64)
    with db.write() as tx:
        uid, _ = users.create(tx, email, password_hash=passwords.hash_password("noisy password", cheap))
        organizations.create(tx, uid, f"{email}'s org")
    return email


class _server:
    """`stackyard serve` on `db` with default settings but the access log, until the block ends."""

    def __init__(self, db: Database, tmp_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "STACKYARD_DATABASE_URL": db.url, "STACKYARD_ACCESS_LOG": "false"}
        self.cmd = [sys.executable, "-m", "stackyard", "serve", "--port", str(self.port)]
        self.cmd += ["--data-dir", str(tmp_path)]
        self.log = tmp_path / "server.log"

    def __enter__(self) -> str:
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the server did not become healthy"
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self.url
            except httpx.HTTPError:
                time.sleep(0.05)

    def __exit__(self, *exc: Any) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def _stack(url: str, email: str) -> dict[str, str]:
    """Log in, make a stack with an environment; answers the headers that read it."""
    with httpx.Client(base_url=url, timeout=30) as c:
        r = c.post("/v3/user-session", json={"user": {"email": email, "password": "noisy password"}})
        assert r.status_code == 200, r.text
        headers = {"authtoken": r.json()["user"]["authtoken"]}
        r = c.post("/v3/stacks", json={"stack": {"name": email, "master_locale": "en-us"}}, headers=headers)
        assert r.status_code == 201, r.text
        headers["api_key"] = r.json()["stack"]["api_key"]
        r = c.post("/v3/environments", json={"environment": {"name": "production"}}, headers=headers)
        assert r.status_code == 201, r.text
    return headers


def _latencies(url: str, headers: dict[str, str], seconds: float) -> list[float]:
    """Milliseconds of each read of one keep-alive connection, one request at a time."""
    conn = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=30)
    out: list[float] = []
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            start = time.perf_counter()
            conn.request("GET", "/v3/environments/production", headers=headers)
            r = conn.getresponse()
            body = r.read()
            out.append((time.perf_counter() - start) * 1000)
            assert r.status == 200, body
            time.sleep(0.002)  # B is a steady client, not a second flood
    finally:
        conn.close()
    return out


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def _flood(url: str, headers: dict[str, str], stop: threading.Event, statuses: Counter[int]) -> None:
    """NOISY_CONNECTIONS keep-alive connections, each sending its next read when an answer is in."""
    port = int(url.rsplit(":", 1)[1])
    lines = ["GET /v3/environments/production HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while not stop.is_set():
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.lower().split(b"\r\n")
                    if line.startswith(b"content-length:")
                )
                json.loads(await reader.readexactly(length))
                statuses[status] += 1
        finally:
            writer.close()

    async def main() -> None:
        await asyncio.gather(*(connection() for _ in range(NOISY_CONNECTIONS)))

    asyncio.run(main())
