"""`stackyard serve --workers 2`: several processes share the port and the database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port


def test_two_workers_serve_the_same_data(tmp_path: Path) -> None:
    # given a server with two worker processes on a fresh SQLite database
    port = free_port()
    env = {
        **os.environ,
        "STACKYARD_ADMIN_EMAIL": "w@example.com",
        "STACKYARD_ADMIN_PASSWORD": "two workers password",
        "STACKYARD_ACCESS_LOG": "false",
    }
    cmd = [sys.executable, "-m", "stackyard", "serve", "--port", str(port), "--workers", "2"]
    cmd += ["--data-dir", str(tmp_path)]
    with open(tmp_path / "server.log", "wb") as log:
        server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the server did not become healthy"
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
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
