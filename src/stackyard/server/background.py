"""What a server process runs beside its HTTP handlers: the job runner (unless `--no-jobs-enabled`),
the enqueue of the periodic purge (`identity.purge`), and the consumer that keeps the delivery's
expression indexes (`content.delivery.indexes`).

Started and stopped by the app's lifespan, so each `--workers` process has its own; `stackyard
worker` runs the same job runner without HTTP.
"""

from __future__ import annotations

import logging

import anyio

from stackyard.content.delivery import indexes as delivery_indexes
from stackyard.core.consumers import Consumer
from stackyard.core.job_runner import JobRunner
from stackyard.core.wakeup import Wakeup
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
        self.wakeup: Wakeup | None = None
        self.indexes: Consumer | None = None

    async def start(self) -> None:
        await anyio.to_thread.run_sync(self._schedule_purge)
        if self.settings.jobs_enabled:
            self.runner = JobRunner.from_settings(self.db, self.settings)
            self.runner.start()
        if self.settings.delivery_indexes_max > 0:
            self.wakeup = Wakeup.from_settings(self.db, self.settings)
            await anyio.to_thread.run_sync(self.wakeup.start)
            self.indexes = delivery_indexes.consumer(self.db, self.settings, self.wakeup)
            self.indexes.start()

    def _schedule_purge(self) -> None:
        """The purge chain (`identity.purge`): enqueued by every process, kept once by its key; it
        runs wherever jobs run, here or in a `stackyard worker`."""
        with self.db.write() as tx:
            purge.schedule(tx, self.settings.purge_interval_seconds)

    async def stop(self) -> None:
        """Stop taking work; running handlers get the lease time to finish (stop blocks: off the loop)."""
        indexes, self.indexes = self.indexes, None
        if indexes is not None:
            await anyio.to_thread.run_sync(indexes.stop)
        if self.wakeup is not None:
            await anyio.to_thread.run_sync(self.wakeup.stop)
            self.wakeup = None
        runner, self.runner = self.runner, None
        if runner is not None:
            await anyio.to_thread.run_sync(lambda: runner.stop(timeout=self.settings.job_lease_seconds))
