"""Jobs run inside `stackyard serve` by default, and in `stackyard worker`, a process with no HTTP."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from stackyard.core import jobs
from stackyard.store import migrations
from stackyard.store.engine import Database
from tests.conftest import wait_for
from tests.server.test_crash import Server


def _wait_finished(db: Database, job_id: int, timeout: float = 30) -> dict[str, object]:
    def finished() -> dict[str, object] | None:
        with db.read() as tx:
            row = jobs.get(tx, job_id)
        assert row is not None
        return dict(row) if row["status"] in jobs.FINISHED else None

    found: dict[str, object] = wait_for(finished, timeout, f"job {job_id} to finish")
    return found


def _enqueue_unknown_kind(db: Database) -> int:
    with db.write() as tx:
        # No process has a handler for this kind, so whoever takes it fails it for good, saying why.
        return jobs.enqueue(tx, "test.no_such_kind", {"x": 1}, max_attempts=1)


def test_serve_runs_jobs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/serve.db"
    server = Server(url, tmp_path)
    server.start()
    db = Database(url)
    try:
        job = _wait_finished(db, _enqueue_unknown_kind(db))
        assert job["status"] == jobs.FAILED
        assert "no handler is registered for job kind 'test.no_such_kind'" in str(job["last_error"])
    finally:
        server.stop()
        db.close()


def test_worker_runs_jobs_and_stops_on_sigterm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/worker.db"
    db = Database(url)
    migrations.upgrade(db)
    job_id = _enqueue_unknown_kind(db)
    cmd = [sys.executable, "-m", "stackyard", "worker", "--database-url", url, "--data-dir", str(tmp_path)]
    with open(tmp_path / "worker.log", "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        job = _wait_finished(db, job_id)
        assert job["status"] == jobs.FAILED
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, (tmp_path / "worker.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        db.close()
