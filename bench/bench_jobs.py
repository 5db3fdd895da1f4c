"""Durable jobs: trivial jobs per second enqueued and run, on SQLite and PostgreSQL.

No HTTP: the store (`stackyard.core.jobs`) and one in-process `JobRunner` with the default job
settings (4 threads, batches of 32, 30 s leases) on a fresh database, as `stackyard worker` runs it.
Every job is one durable row: each enqueue, claim batch and completion commits (fsync). Run:

    .venv/bin/python bench/bench_jobs.py --engine both --jobs 5000

Scenarios, each on an empty jobs table:
  enqueue 1/tx     `--producers` threads enqueue one job per write transaction
  enqueue 500/tx   one thread enqueues in transactions of 500 jobs
  run              a runner takes N queued jobs and runs a handler that does nothing
  enqueue+run      producers enqueue one per transaction while the runner runs them
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import engines, fresh_database_url, write_results

from stackyard.core import jobs
from stackyard.core.job_runner import JobRunner
from stackyard.store.engine import Database


@contextlib.contextmanager
def database(engine: str) -> Iterator[Database]:
    with fresh_database_url(engine) as url:
        db = Database(url, pool_size=16, group_commit=32)
        try:
            yield db
        finally:
            db.close()


def produce(db: Database, n: int, producers: int) -> None:
    """Enqueue n jobs, one per transaction, from `producers` threads."""

    def loop(count: int) -> None:
        for i in range(count):
            with db.write() as tx:
                jobs.enqueue(tx, "bench.noop", {"i": i})

    threads = [
        threading.Thread(target=loop, args=(n // producers + (p < n % producers),)) for p in range(producers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def wait_done(db: Database, n: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.read() as tx:
            if jobs.counts(tx).get("succeeded", 0) >= n:
                return
        time.sleep(0.005)
    raise RuntimeError("the jobs did not finish")


def measure(scenario: str, n: int, work: Any) -> dict[str, Any]:
    cpu, t0 = time.process_time(), time.perf_counter()
    work()
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu
    return {
        "scenario": scenario,
        "jobs": n,
        "seconds": round(seconds, 2),
        "jobs_per_s": round(n / seconds, 1),
        "cpu_us_per_job": round(cpu / n * 1e6, 1),
    }


def scenarios(db: Database, args: argparse.Namespace) -> list[dict[str, Any]]:
    n = args.jobs
    options = {"threads": args.threads, "batch": args.batch}

    def clear() -> None:
        with db.write() as tx:
            tx.run("DELETE FROM jobs")

    def bulk() -> None:
        for start in range(0, n, 500):
            with db.write() as tx:
                for i in range(start, min(n, start + 500)):
                    jobs.enqueue(tx, "bench.noop", {"i": i})

    def run_queued() -> None:
        with JobRunner(db, registry={"bench.noop": lambda db, job: None}, **options):
            wait_done(db, n)

    def enqueue_and_run() -> None:
        with JobRunner(db, registry={"bench.noop": lambda db, job: None}, **options):
            produce(db, n, args.producers)
            wait_done(db, n)

    rows = []
    clear()
    rows.append(measure(f"enqueue 1/tx x{args.producers}", n, lambda: produce(db, n, args.producers)))
    clear()
    rows.append(measure("enqueue 500/tx", n, bulk))
    rows.append(measure("run", n, run_queued))
    clear()
    rows.append(measure("enqueue+run", n, enqueue_and_run))
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--jobs", type=int, default=5000, help="jobs per scenario")
    p.add_argument("--threads", type=int, default=4, help="runner threads (job_threads)")
    p.add_argument("--batch", type=int, default=32, help="jobs per claim (job_batch)")
    p.add_argument("--producers", type=int, default=4, help="threads enqueueing one job per transaction")
    p.add_argument("--label", default="", help="a name for this run in the results file")
    args = p.parse_args()
    rows = []
    for engine in engines(args.engine):
        with database(engine) as db:
            for row in scenarios(db, args):
                rows.append({"engine": engine, **row})
                print_row(rows[-1])
    path = write_results("jobs", args, rows)
    print()
    print_header()
    for row in rows:
        print_row(row, header=False)
    print(f"results: {path}")


def print_header() -> None:
    print(f"{'engine':<11} {'scenario':<18} {'jobs':>7} {'seconds':>8} {'jobs/s':>9} {'cpu us/job':>10}")


def print_row(r: dict[str, Any], header: bool = True) -> None:
    if header and r["scenario"].startswith("enqueue 1/tx"):
        print_header()
    print(
        f"{r['engine']:<11} {r['scenario']:<18} {r['jobs']:>7} {r['seconds']:>8.2f} "
        f"{r['jobs_per_s']:>9.1f} {r['cpu_us_per_job']:>10}"
    )


if __name__ == "__main__":
    main()
