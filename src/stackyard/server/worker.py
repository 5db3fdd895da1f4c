"""`stackyard worker`: a process that only runs jobs (no HTTP), as many as you like beside the servers.

It opens the database as `stackyard serve` does, applies migrations, runs a `JobRunner` configured by
the `job_*` settings until SIGTERM or SIGINT, then stops it gracefully: jobs not yet started go back
to the queue, running handlers get `job_lease_seconds` to finish (what they cannot finish another
process takes over once their lease lapses). Job kinds are those registered in
`stackyard.core.job_runner.handlers` by the modules imported before it starts.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Mapping
from types import FrameType
from typing import Any

from stackyard.automation import service as automation
from stackyard.content.assets import storage as asset_storage
from stackyard.core.job_runner import Handler, JobRunner
from stackyard.server import handlers  # noqa: F401  (registers every job kind's handler)
from stackyard.settings import Settings
from stackyard.store import migrations
from stackyard.store.engine import Database

log = logging.getLogger("stackyard.jobs")


def run_worker(
    settings: Settings,
    *,
    registry: Mapping[str, Handler] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run jobs until SIGTERM/SIGINT (or until `stop` is set, for embedding and tests).

    `registry` replaces the module-level handler registry. Signal handlers are installed only when
    called from the main thread; the previous ones are restored on the way out.
    """
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
        )
    stop = stop or threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():

        def on_signal(signum: int, frame: FrameType | None) -> None:
            log.info("worker: %s received, stopping", signal.Signals(signum).name)
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, on_signal)
    db = Database(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        group_commit=settings.sqlite_group_commit,
    )
    try:
        migrations.upgrade(db)
        automation.configure(db, settings)  # registers and configures the automation.* job kinds
        asset_storage.configure(db, settings)  # bulk deletes of assets remove their files too
        runner = JobRunner.from_settings(db, settings, registry=registry)
        runner.start()
        log.info(
            "worker %s: running jobs with %d threads (lease %g s)",
            runner.owner,
            runner.threads,
            runner.lease_seconds,
        )
        try:
            while not stop.wait(0.5):
                pass
        finally:
            runner.stop(timeout=settings.job_lease_seconds)
            log.info("worker %s: stopped", runner.owner)
    finally:
        db.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
