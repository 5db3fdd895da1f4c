"""What a server process runs beside its HTTP handlers: the job runner (unless `--no-jobs-enabled`),
and the enqueue of the periodic purge (`identity.purge`).

Started and stopped by the app's lifespan, so each `--workers` process has its own; `stackyard
worker` runs the same job runner without HTTP.
"""

from __future__ import annotations

import logging

import anyio

from stackyard.core.job_runner import JobRunner
from stackyard.identity import purge
from stackyard.server import handlers  # noqa: F401  (registers every job kind's handler)
from stackyard.settings import Settings
from stackyard.store.engine import Database

log = logging.getLogger("stackyard.server")


class Background:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.runner: JobRunner | None = None

    async def start(self) -> None:
        await anyio.to_thread.run_sync(self._schedule_purge)
        if self.settings.jobs_enabled:
            self.runner = JobRunner.from_settings(self.db, self.settings)
            self.runner.start()

    def _schedule_purge(self) -> None:
        """The purge chain (`identity.purge`): enqueued by every process, kept once by its key; it
        runs wherever jobs run, here or in a `stackyard worker`."""
        with self.db.write() as tx:
            purge.schedule(tx, self.settings.purge_interval_seconds)

    async def stop(self) -> None:
        """Stop taking work; running handlers get the lease time to finish (stop blocks: off the loop)."""
        runner, self.runner = self.runner, None
        if runner is not None:
            await anyio.to_thread.run_sync(lambda: runner.stop(timeout=self.settings.job_lease_seconds))
