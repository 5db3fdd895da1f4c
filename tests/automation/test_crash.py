"""A `stackyard worker` SIGKILLed while 200 executions are queued or running: after a restart none
is lost. Each ends finished or abandoned; none ran twice; the queued ones ran exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from stackyard.automation import catalogue, launch
from stackyard.identity import organizations, users
from stackyard.settings import Settings
from stackyard.store.engine import Database, jload
from tests.conftest import wait_for

WORKER = "from stackyard.server.worker import run_worker; from stackyard.settings import Settings; run_worker(Settings.from_sources())"
COUNT = 200


def _worker(db: Database, data: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "STACKYARD_DATABASE_URL": db.url,
        "STACKYARD_DATA_DIR": str(data),
        "STACKYARD_ALLOW_LOCAL_RUNNERS": "1",
        "STACKYARD_JOB_THREADS": "8",
        "STACKYARD_JOB_LEASE_SECONDS": "1.5",
        "STACKYARD_JOB_POLL_SECONDS": "0.1",
    }
    return subprocess.Popen(
        [sys.executable, "-c", WORKER], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _statuses(db: Database) -> Counter[str]:
    with db.read() as tx:
        return Counter(r["status"] for r in tx.all("SELECT status FROM st2_executions"))


def test_worker_killed_mid_run_loses_nothing(db: Database, tmp_path: Path) -> None:
    ran = tmp_path / "ran.log"
    settings = Settings(data_dir=str(tmp_path), allow_local_runners=True)
    with db.write() as tx:
        uid, _ = users.create(tx, "crash@example.com", password_hash=None)
        org = organizations.create(tx, uid, "crash org")
        for i in range(COUNT):
            cmd = f"echo start-{i} >> {ran}; sleep 0.05; echo end-{i} >> {ran}"
            launch.start(
                tx, settings, org, "crash@example.com", catalogue.CORE_ACTIONS["core.local"], {"cmd": cmd}
            )
    first = _worker(db, tmp_path)
    try:
        wait_for(lambda: _statuses(db)["succeeded"] >= 20, timeout=60, what="some executions to finish")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        mid = _statuses(db)
        assert mid["scheduled"] > 0, mid  # some were still queued when the worker died
        second = _worker(db, tmp_path)
        try:
            wait_for(
                lambda: sum(_statuses(db)[s] for s in ("succeeded", "abandoned")) == COUNT,
                timeout=90,
                what="every execution to end",
            )
        finally:
            second.terminate()
            second.wait(15)
    finally:
        if first.poll() is None:
            first.kill()
    time.sleep(0.2)  # an orphaned command of the killed worker may still be finishing its line
    lines = Counter(ran.read_text().split())
    with db.read() as tx:
        rows = tx.all("SELECT status, doc FROM st2_executions")
    final = Counter(r["status"] for r in rows)
    assert final["succeeded"] + final["abandoned"] == COUNT and final["abandoned"] <= 8 * 2, final
    assert all(n == 1 for n in lines.values()), [k for k, n in lines.items() if n > 1]  # nothing ran twice
    for r in rows:
        if r["status"] == "succeeded":
            index = jload(r["doc"])["parameters"]["cmd"].split("start-", 1)[1].split(" ", 1)[0]
            assert lines[f"start-{index}"] == 1 and lines[f"end-{index}"] == 1
