"""The job runner: handlers and their outcomes, wake-ups, heartbeats, graceful stop, and real processes:
one SIGKILLed mid-job (another takes the job over), one stopped by SIGTERM, and two on one database
(SKIP LOCKED claims on PostgreSQL, the file's single writer on SQLite) running 10,000 jobs without
ever running one twice."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from stackyard.core import job_runner, jobs
from stackyard.core.job_runner import JobRunner, PermanentFailure, RetryLater
from stackyard.core.jobs import Job
from stackyard.settings import Settings
from stackyard.store.engine import Database
from tests.conftest import wait_for

PROC = Path(__file__).with_name("job_worker_proc.py")


def job_row(db: Database, job_id: int) -> dict:
    with db.read() as tx:
        r = jobs.get(tx, job_id)
    assert r is not None
    return r


def finished(db: Database, job_id: int) -> dict | None:
    r = job_row(db, job_id)
    return r if r["status"] in jobs.FINISHED else None


def enqueue(db: Database, kind: str, payload: Any = None, **kw: Any) -> int:
    with db.write() as tx:
        return jobs.enqueue(tx, kind, payload, **kw)


@contextmanager
def running(db: Database, registry: dict[str, job_runner.Handler], **options: Any) -> Iterator[JobRunner]:
    options = {"poll_seconds": 0.05, "backoff_base": 0.01, **options}
    runner = JobRunner(db, registry=registry, **options)
    runner.start()
    try:
        yield runner
    finally:
        runner.stop(timeout=10)


def test_handlers_and_their_outcomes(db: Database) -> None:
    seen: list[tuple[str, int]] = []

    def flaky(db: Database, job: Job) -> None:
        seen.append(("flaky", job.attempts))
        if job.attempts < 3:
            raise ValueError(f"not yet ({job.attempts})")

    def later(db: Database, job: Job) -> None:
        seen.append(("later", job.attempts))
        if job.attempts == 1:
            raise RetryLater(0, "the origin said 429")

    def broken(db: Database, job: Job) -> None:
        raise PermanentFailure("payload has no uid")

    def always(db: Database, job: Job) -> None:
        raise RuntimeError("down")

    def writes(db: Database, job: Job) -> None:
        with db.write() as tx:
            jobs.fence(tx, job)
            jobs.enqueue(tx, "flaky", {"from": job.id})

    registry = {"flaky": flaky, "later": later, "broken": broken, "always": always, "writes": writes}
    # given one job of each kind, and one of a kind nobody handles
    ids = {kind: enqueue(db, kind, {}) for kind in [*registry, "nobody.handles.this"]}
    ids["always"] = enqueue(db, "always", {}, max_attempts=2)
    with running(db, registry):
        done = {k: wait_for(lambda i=i: finished(db, i), what=k) for k, i in ids.items()}

    # then each ended as its handler said
    assert (done["flaky"]["status"], done["flaky"]["attempts"]) == ("succeeded", 3)
    assert done["flaky"]["last_error"].startswith("ValueError: not yet (2)")
    assert (done["later"]["status"], done["later"]["attempts"]) == ("succeeded", 2)
    assert done["later"]["last_error"] == "the origin said 429"
    assert (done["broken"]["status"], done["broken"]["attempts"]) == ("failed", 1)
    assert "payload has no uid" in done["broken"]["last_error"]
    assert (done["always"]["status"], done["always"]["attempts"]) == ("failed", 2)
    assert done["always"]["last_error"].startswith("RuntimeError: down")
    unknown = done["nobody.handles.this"]
    assert (unknown["status"], unknown["attempts"]) == ("failed", 1)
    assert unknown["last_error"] == "no handler is registered for job kind 'nobody.handles.this'"
    assert done["writes"]["status"] == "succeeded"
    assert sorted(a for k, a in seen if k == "later") == [1, 2]


def test_an_enqueue_starts_the_job_at_once_not_at_the_next_poll(db: Database) -> None:
    started = threading.Event()
    with running(db, {"k": lambda db, job: started.set()}, poll_seconds=30) as runner:
        time.sleep(0.3)  # the runner's first claim found nothing; its next poll is 30 s away
        t0 = time.monotonic()
        enqueue(db, "k")
        assert started.wait(5), "the job did not start"
        latency = time.monotonic() - t0
        assert runner.held <= 1
    assert latency < 2.0


def test_the_module_registry_and_per_runner_handlers(db: Database) -> None:
    ran: list[str] = []

    @job_runner.handler("test.registry.kind")
    def registered(db: Database, job: Job) -> None:
        ran.append("module")

    try:
        with pytest.raises(ValueError, match="already has a handler"):
            job_runner.handler("test.registry.kind")(lambda db, job: None)
        runner = JobRunner(db)
        assert runner.handler_for("test.registry.kind") is registered
        runner.register("test.registry.kind", lambda db, job: ran.append("own"))
        assert runner.handler_for("test.registry.kind") is not registered
        job_id = enqueue(db, "test.registry.kind")
        runner.start()
        try:
            wait_for(lambda: finished(db, job_id))
        finally:
            runner.stop()
        assert ran == ["own"]
    finally:
        del job_runner.handlers["test.registry.kind"]


def test_from_settings() -> None:
    s = Settings(job_threads=3, job_lease_seconds=7.5, job_poll_seconds=0.5, job_batch=9, job_max_attempts=2)
    db = Database("sqlite:///:memory:")
    try:
        r = JobRunner.from_settings(db, s, batch=11)
        assert (r.threads, r.lease_seconds, r.poll_seconds, r.batch, r.max_attempts) == (3, 7.5, 0.5, 11, 2)
    finally:
        db.close()


def test_heartbeats_keep_the_lease_while_a_long_handler_runs(db: Database) -> None:
    # given a lease of 0.6 s and a handler that takes 2 s
    release = threading.Event()
    job_id = enqueue(db, "slow")
    with running(db, {"slow": lambda db, job: release.wait(10)}, lease_seconds=0.6):
        wait_for(lambda: job_row(db, job_id)["status"] == "running")
        # when another process keeps trying to claim it for longer than several leases
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            with db.write() as tx:
                assert jobs.claim(tx, "intruder", limit=10, lease_seconds=5) == []
            time.sleep(0.05)
        release.set()
        r = wait_for(lambda: finished(db, job_id))
    # then it never could, and the job succeeded on its first attempt
    assert (r["status"], r["attempts"]) == ("succeeded", 1)
    assert r["heartbeat_at"] > time.time() - 2.0


def test_an_outcome_after_the_lease_was_lost_is_discarded(db: Database) -> None:
    release = threading.Event()
    job_id = enqueue(db, "slow")
    with running(db, {"slow": lambda db, job: release.wait(10)}, lease_seconds=0.6) as runner:
        wait_for(lambda: job_row(db, job_id)["status"] == "running")
        with db.write() as tx:
            assert jobs.cancel(tx, job_id)
        release.set()
        wait_for(lambda: runner.held == 0)
    assert job_row(db, job_id)["status"] == "cancelled"


def test_stop_hands_back_unstarted_jobs_and_waits_for_running_ones(db: Database) -> None:
    # given one worker thread busy with a slow job and four more jobs claimed behind it
    started, release = threading.Event(), threading.Event()

    def slow(db: Database, job: Job) -> None:
        started.set()
        release.wait(10)

    first = enqueue(db, "slow", run_at=time.time() - 1)
    rest = [enqueue(db, "slow") for _ in range(4)]
    runner = JobRunner(db, registry={"slow": slow}, threads=1, batch=10, poll_seconds=0.05)
    runner.start()
    assert started.wait(5)
    wait_for(lambda: runner.held == 5)

    # when it stops while the first job still runs
    stopper = threading.Thread(target=runner.stop, kwargs={"timeout": 10})
    stopper.start()
    wait_for(lambda: all(job_row(db, i)["status"] == "queued" for i in rest), what="hand-back")
    assert stopper.is_alive()  # still waiting for the running handler
    release.set()
    stopper.join(10)

    # then the running job finished and the others are queued again, their attempt not counted
    assert not stopper.is_alive()
    assert (job_row(db, first)["status"], job_row(db, first)["attempts"]) == ("succeeded", 1)
    for i in rest:
        r = job_row(db, i)
        assert (r["status"], r["attempts"], r["lease_owner"]) == ("queued", 0, None)


# -- real processes ----------------------------------------------------------------------------------


class Worker:
    """tests/core/job_worker_proc.py (run_worker) as a subprocess on the test database."""

    def __init__(self, db: Database, log: Path, **settings: Any) -> None:
        env = {
            **os.environ,
            "STACKYARD_DATABASE_URL": db.url,
            "STACKYARD_DATA_DIR": str(log.parent),
            "STACKYARD_DB_POOL_SIZE": "12",
            **{"STACKYARD_" + k.upper(): str(v) for k, v in settings.items()},
        }
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(PROC)], env=env, stdout=subprocess.PIPE, stderr=out
            )
        assert self.process.stdout is not None
        with self.process.stdout:  # the worker writes nothing else there
            assert self.process.stdout.readline() == b"ready\n", self.tail()
        self.name = f"pid-{self.process.pid}"

    def tail(self) -> str:
        return self.log.read_text()[-3000:]

    def signal(self, sig: int) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=30)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def test_a_job_of_a_killed_process_is_taken_over_once_its_lease_lapses(db: Database, tmp_path: Path) -> None:
    # given a worker process running a job that blocks, on a 1 s lease
    marker = tmp_path / "started"
    job_id = enqueue(db, "test.block", {"started": str(marker)})
    worker = Worker(db, tmp_path / "worker.log", job_lease_seconds=1, job_poll_seconds=0.1)
    try:
        wait_for(marker.exists, timeout=30, what="the worker to start the job")
        r = job_row(db, job_id)
        assert (r["status"], r["attempts"]) == ("running", 1)
        assert r["lease_owner"].split(":")[1] == str(worker.process.pid)

        # when the process is SIGKILLed mid-job
        assert worker.signal(signal.SIGKILL) == -signal.SIGKILL
        killed_at = time.time()
    finally:
        worker.kill()

    # then another runner takes the job over once the lease lapses, and finishes it
    with running(db, {"test.block": lambda db, job: None}, lease_seconds=1, poll_seconds=0.1) as runner:
        r = wait_for(lambda: finished(db, job_id), timeout=15)
    assert (r["status"], r["attempts"], r["lease_owner"]) == ("succeeded", 2, runner.owner)
    assert f"{worker.process.pid}" in r["last_error"] and "expired" in r["last_error"]
    assert r["heartbeat_at"] >= killed_at  # not before the dead owner's lease had run out


def test_sigterm_stops_a_worker_after_its_running_job(db: Database, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    job_id = enqueue(db, "test.sleep", {"seconds": 1.0, "started": str(marker)})
    worker = Worker(db, tmp_path / "worker.log", job_poll_seconds=0.1)
    try:
        # (a job claimed but not yet started when the signal comes is handed back instead)
        wait_for(marker.exists, timeout=30, what="the worker to start the job")
        assert worker.signal(signal.SIGTERM) == 0, worker.tail()
    finally:
        worker.kill()
    r = job_row(db, job_id)
    assert (r["status"], r["attempts"]) == ("succeeded", 1)
    assert "SIGTERM received, stopping" in worker.tail()


def test_two_processes_never_run_one_job_twice(db: Database, tmp_path: Path) -> None:
    n = 10_000
    with db.write() as tx:
        tx.run(
            "CREATE TABLE IF NOT EXISTS job_runs "
            "(job_id BIGINT NOT NULL, process TEXT NOT NULL, started DOUBLE PRECISION, ended DOUBLE PRECISION)"
        )
    # given two worker processes on one PostgreSQL database, idle
    opts = {"job_threads": 4, "job_batch": 64, "job_poll_seconds": 0.2, "job_lease_seconds": 10}
    workers = [Worker(db, tmp_path / f"worker-{i}.log", **opts) for i in range(2)]
    try:
        # when 10,000 jobs are enqueued at once
        t0 = time.monotonic()
        with db.write() as tx:
            ids = {jobs.enqueue(tx, "test.record", {"i": i}) for i in range(n)}

        def done() -> bool:
            with db.read() as tx:
                return jobs.counts(tx).get("succeeded", 0) == n

        wait_for(done, timeout=120, what="all jobs to finish")
        elapsed = time.monotonic() - t0
        for w in workers:
            assert w.signal(signal.SIGTERM) == 0, w.tail()
    finally:
        for w in workers:
            w.kill()

    # then every job ran exactly once, on its first attempt, and no two runs of a job overlap
    with db.read() as tx:
        runs = tx.all("SELECT job_id, process, started, ended FROM job_runs ORDER BY job_id, started")
        attempts = tx.all("SELECT attempts, COUNT(*) AS n FROM jobs GROUP BY attempts")
    by_job: dict[int, list[dict]] = {}
    for run in runs:
        by_job.setdefault(int(run["job_id"]), []).append(run)
    assert set(by_job) == ids
    assert [r for r in by_job.values() if len(r) != 1] == []
    for job_runs in by_job.values():
        for a, b in itertools.pairwise(job_runs):
            assert a["ended"] <= b["started"], (a, b)
    assert [(r["attempts"], r["n"]) for r in attempts] == [(1, n)]
    # and both processes did a fair share of the work
    share = {w.name: sum(1 for r in runs if r["process"] == w.name) for w in workers}
    assert all(count > n // 10 for count in share.values()), share
    print(f"\n{n} jobs in {elapsed:.1f} s on two processes: {share}")
