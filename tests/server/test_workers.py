"""`stackyard serve --workers 2`: several processes share the port and the database."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port


def _start(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "STACKYARD_ADMIN_EMAIL": "w@example.com",
        "STACKYARD_ADMIN_PASSWORD": "two workers password",
        "STACKYARD_ACCESS_LOG": "false",
    }
    cmd = [sys.executable, "-m", "stackyard", "serve", "--port", str(port), "--workers", "2"]
    cmd += ["--data-dir", str(tmp_path)]
    with open(tmp_path / "server.log", "wb") as log:
        return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)


def _healthy(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the server did not become healthy"
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.01)


def test_two_workers_serve_the_same_data(tmp_path: Path) -> None:
    # given a server with two worker processes on a fresh SQLite database
    port = free_port()
    server = _start(tmp_path, port)
    url = f"http://127.0.0.1:{port}"
    try:
        _healthy(server, url, tmp_path / "server.log")
        # when a user logs in, makes a stack and environments, and reads them on fresh connections
        r = httpx.post(
            url + "/v3/user-session",
            json={"user": {"email": "w@example.com", "password": "two workers password"}},
        )
        assert r.status_code == 200, r.text
        token = r.json()["user"]["authtoken"]
        r = httpx.post(url + "/v3/stacks", json={"stack": {"name": "W"}}, headers={"authtoken": token})
        assert r.status_code == 201, r.text
        headers = {"authtoken": token, "api_key": r.json()["stack"]["api_key"]}
        for i in range(10):
            r = httpx.post(url + "/v3/environments", json={"environment": {"name": f"e{i}"}}, headers=headers)
            assert r.status_code == 201, r.text
        # then every process sees every write and the session
        for i in range(30):
            r = httpx.get(url + f"/v3/environments/e{i % 10}", headers=headers)
            assert r.status_code == 200, r.text
            assert r.headers["x-request-id"]
        # and the owner's password reached no worker process: not in its environment or arguments
        for child in _children(server.pid):
            for name in ("environ", "cmdline"):
                assert b"two workers password" not in Path(f"/proc/{child}/{name}").read_bytes()
    finally:
        server.terminate()
        server.wait(timeout=30)
    # and stopping the server stops its workers: nothing listens on the port any more
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


def test_keep_alive_clients_of_a_fresh_start_reach_every_worker(tmp_path: Path) -> None:
    # given a server with two worker processes, just started
    port = free_port()
    server = _start(tmp_path, port)
    clients: list[socket.socket] = []
    try:
        # when 16 keep-alive clients connect the moment it answers, and each makes a request
        _healthy(server, f"http://127.0.0.1:{port}", tmp_path / "server.log")
        clients += [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
        for c in clients:
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: w\r\n\r\n")
        for c in clients:
            assert c.recv(65536).startswith(b"HTTP/1.1 200")
        # then the kernel spread them over both workers: neither was left out while the other
        # was the only one listening
        held = {child: _established(child, port) for child in _children(server.pid)}
        assert sum(held.values()) == 16, held
        assert sorted(held.values())[-2] >= 1, f"connections per process: {held}"
    finally:
        for c in clients:
            c.close()
        server.terminate()
        server.wait(timeout=30)


def _established(pid: int, port: int) -> int:
    """How many connections accepted on `port` the process `pid` holds open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01" and fields[9] in inodes:
                n += 1
    return n


def _children(pid: int) -> list[int]:
    """Every process below `pid` (uvicorn's worker processes, and their own children)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").iterdir():
            for child in (task / "children").read_text().split():
                found.append(int(child))
                todo.append(int(child))
    return found
