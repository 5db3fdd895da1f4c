"""The stream of an API process shows what a separate `stackyard worker` process runs: status
changes and output lines, through the st2 CLI's `execution tail` and a raw stream."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stackyard.automation import relay
from tests.automation.conftest import Auto, await_file, st2, started_local, tailing
from tests.conftest import wait_for

JOBS_IN_SERVER = False  # only the worker below runs executions
WORKER = "from stackyard.server.worker import run_worker; from stackyard.settings import Settings; run_worker(Settings.from_sources())"


@pytest.fixture(scope="module")
def worker(auto: Auto) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "STACKYARD_DATABASE_URL": auto.db.url,
        "STACKYARD_DATA_DIR": auto.settings.data_dir,
        "STACKYARD_ALLOW_LOCAL_RUNNERS": "1",
        "STACKYARD_JOB_POLL_SECONDS": "0.1",
    }
    proc = subprocess.Popen([sys.executable, "-c", WORKER], env=env, stdout=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(20)


def _listen(
    auto: Auto, events: list[tuple[str, dict[str, Any]]], opened: threading.Event, until: str
) -> None:
    """Collect a raw stream's events until an update of execution `until`'s id (read from a file
    once known) is completed."""
    params = {
        "x-auth-token": auto.people["alice"].token,
        "events": "st2.execution__create,st2.execution__update,st2.execution.output__create",
    }
    with (
        httpx.Client(base_url=auto.url, timeout=60) as c,
        c.stream("GET", "/stream/v1/stream", params=params) as r,
    ):
        name = ""
        for line in r.iter_lines():
            opened.set()
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                events.append((name, data))
                if data.get("status") == "succeeded" and data.get("action", {}).get("ref") == until:
                    return


def test_raw_stream_shows_status_and_output_from_a_worker(
    auto: Auto, worker: subprocess.Popen[bytes], st2venv: Path
) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    opened = threading.Event()
    listener = threading.Thread(target=_listen, args=(auto, events, opened, "core.local"), daemon=True)
    listener.start()
    assert opened.wait(30)
    time.sleep(relay.WANTED_SECONDS * 3)  # the worker looks for listening processes that often
    out = json.loads(st2(auto, st2venv, "run", "core.local", "cmd=echo from the worker", "-j").stdout)
    assert out["status"] == "succeeded" and out["result"]["stdout"] == "from the worker"
    listener.join(30)
    mine = [(n, d) for n, d in events if d.get("id") == out["id"] or d.get("execution_id") == out["id"]]
    statuses = [d["status"] for n, d in mine if n == "st2.execution__update"]
    assert "running" in statuses and statuses[-1] == "succeeded", mine
    assert [d["data"] for n, d in mine if n == "st2.execution.output__create"] == ["from the worker\n"]


def test_tail_follows_an_execution_a_worker_runs(
    auto: Auto, worker: subprocess.Popen[bytes], st2venv: Path, tmp_path: Path
) -> None:
    ready, go = tmp_path / "ready", tmp_path / "go"
    cmd = f"{await_file(ready)}; echo first line; {await_file(go)}; echo second line"
    eid = started_local(auto, st2venv, cmd)
    with auto.http() as c:
        wait_for(lambda: c.get(f"/api/v1/executions/{eid}").json()["status"] == "running", what="running")
    with tailing(auto, st2venv, eid) as tail:
        from stackyard.automation import bus

        wait_for(bus.has_subscribers, what="the tail's stream")
        time.sleep(relay.WANTED_SECONDS * 3)  # the worker looks for listening processes that often
        ready.touch()
        assert tail.stdout is not None
        for line in tail.stdout:
            if line.strip() == "first line":
                break
        with auto.http() as c:
            assert c.get(f"/api/v1/executions/{eid}").json()["status"] == "running"
        go.touch()
        rest = tail.communicate(timeout=60)[0]
    assert "second line" in rest and f"Execution {eid} has completed (status=succeeded)" in rest
