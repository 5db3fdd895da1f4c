"""Hostile clients do not slow down honest ones: while eight clients send 100 MB headers and others
send their heads a byte at a time (slowloris), `/healthz` and an authenticated read stay fast.

The real `stackyard serve` runs as a subprocess (its HTTP protocol is what bounds the heads). The
attackers run in a separate process, so their sending does not take this process's GIL from the
honest client whose latency is measured. Before heads were bounded, one 100 MB header took the
event loop for some 25 seconds and other clients waited for it.
"""

from __future__ import annotations

import multiprocessing
import socket
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from stackyard.store.engine import Database
from tests.server.test_crash import Server, login

# measures latency: runs alone, after the parallel part of the suite
pytestmark = pytest.mark.solo

FLOODERS = 8
SLOWLORIS = 8
SECONDS = 6.0
HEADER_BYTES = 100 * 1024 * 1024


def flood(address: tuple[str, int], stop: Any, counts: Any) -> None:
    """Start 100 MB headers, sending as fast as the server takes them, one connection after another."""
    chunk = b"a" * 65536
    while not stop.is_set():
        try:
            with socket.create_connection(address, timeout=2) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Flood: ")
                sent = 0
                while sent < HEADER_BYTES and not stop.is_set():
                    sent += sock.send(chunk)
        except OSError:
            pass  # refused and closed (or stopped reading): start over
        with counts.get_lock():
            counts[0] += 1


def slowloris(address: tuple[str, int], stop: Any, counts: Any) -> None:
    """Send a head a byte every 100 ms, never finishing it, one connection after another."""
    while not stop.is_set():
        try:
            with socket.create_connection(address, timeout=5) as sock:
                sock.sendall(b"GET /v3/environments HTTP/1.1\r\nHost: x\r\n")
                while not stop.is_set():
                    sock.sendall(b"X")
                    time.sleep(0.1)
        except OSError:
            pass  # timed out by the server (408): start over
        with counts.get_lock():
            counts[1] += 1


def attack(address: tuple[str, int], stop: Any, counts: Any) -> None:
    threads = [threading.Thread(target=flood, args=(address, stop, counts)) for _ in range(FLOODERS)]
    threads += [threading.Thread(target=slowloris, args=(address, stop, counts)) for _ in range(SLOWLORIS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]


def test_floods_and_slow_heads_leave_honest_clients_fast(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a server with a stack, whose slow heads time out after 2 s
    monkeypatch.setenv("STACKYARD_REQUEST_RECEIVE_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("STACKYARD_RATE_LIMIT_ENABLED", "false")
    server = Server(db.url, tmp_path)
    server.start()
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    counts = context.Array("l", 2)  # flood connections, slowloris connections
    attacker = context.Process(
        target=attack, args=(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), stop, counts)
    )
    try:
        token = login(server.url)
        r = httpx.post(server.url + "/v3/stacks", json={"stack": {"name": "S"}}, headers={"authtoken": token})
        assert r.status_code == 201, r.text
        headers = {"authtoken": token, "api_key": r.json()["stack"]["api_key"]}
        # when the attackers get going
        attacker.start()
        time.sleep(1.0)
        health: list[float] = []
        reads: list[float] = []
        with httpx.Client(base_url=server.url, timeout=10) as c:
            end = time.monotonic() + SECONDS
            while time.monotonic() < end:
                for path, samples, extra in (("/healthz", health, {}), ("/v3/environments", reads, headers)):
                    started = time.perf_counter()
                    r = c.get(path, headers=extra)
                    samples.append(time.perf_counter() - started)
                    assert r.status_code == 200, r.text
                time.sleep(0.01)
        floods, slow = counts[0], counts[1]
    finally:
        stop.set()
        attacker.join(timeout=10)
        if attacker.is_alive():
            attacker.kill()
        server.stop()
    # then the attack ran (many refused floods, slow heads cut off), and honest requests stayed fast
    print(
        f"floods {floods}, slow heads {slow}, healthz p99 {p99(health) * 1000:.1f} ms, read p99 {p99(reads) * 1000:.1f} ms"
    )
    assert floods >= FLOODERS * 3, floods
    assert slow >= SLOWLORIS, slow
    assert len(health) >= 100 and len(reads) >= 100, (len(health), len(reads))
    assert p99(health) < 0.050, f"/healthz p99 {p99(health) * 1000:.1f} ms"
    assert p99(reads) < 0.100, f"authenticated GET p99 {p99(reads) * 1000:.1f} ms"
    assert "Traceback" not in (tmp_path / "server.log").read_text()
