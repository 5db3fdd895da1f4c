"""A `stackyard worker` process for the subprocess tests in test_job_runner.py.

Registers the test job kinds in the module registry, prints "ready", then runs
`stackyard.server.worker.run_worker` with settings from STACKYARD_* variables until SIGTERM.

    test.block   first attempt: create the file payload["started"] and block forever; later attempts succeed
    test.sleep   create the file payload["started"] (when given), sleep payload["seconds"], then succeed
    test.record  record (job id, this process, start, end) in the job_runs table, then succeed
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from stackyard.core.job_runner import handler
from stackyard.core.jobs import Job
from stackyard.server.worker import run_worker
from stackyard.settings import Settings
from stackyard.store.engine import Database

PROCESS = f"pid-{os.getpid()}"


@handler("test.block")
def block(db: Database, job: Job) -> None:
    Path(job.payload["started"]).touch()
    if job.attempts == 1:
        threading.Event().wait()  # until the test kills this process


@handler("test.sleep")
def sleep(db: Database, job: Job) -> None:
    if job.payload.get("started"):
        Path(job.payload["started"]).touch()
    time.sleep(float(job.payload["seconds"]))


@handler("test.record")
def record(db: Database, job: Job) -> None:
    started = time.time()
    ended = time.time()
    with db.write() as tx:
        tx.run(
            "INSERT INTO job_runs (job_id, process, started, ended) VALUES (?, ?, ?, ?)",
            job.id,
            PROCESS,
            started,
            ended,
        )


if __name__ == "__main__":
    print("ready", flush=True)
    run_worker(Settings.from_sources())
    sys.exit(0)
