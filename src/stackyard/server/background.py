"""What a server process runs beside its HTTP handlers: the job runner (unless `--no-jobs-enabled`).

Started and stopped by the app's lifespan, so each `--workers` process has its own; `stackyard
worker` runs the same job runner without HTTP.
"""

from __future__ import annotations

import logging

import anyio

from stackyard.core.job_runner import JobRunner
from stackyard.settings import Settings
from stackyard.store.engine import Database

log = logging.getLogger("stackyard.server")


class Background:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.runner: JobRunner | None = None

    async def start(self) -> None:
        if self.settings.jobs_enabled:
            self.runner = JobRunner.from_settings(self.db, self.settings)
            self.runner.start()

    async def stop(self) -> None:
        """Stop taking work; running handlers get the lease time to finish (stop blocks: off the loop)."""
        runner, self.runner = self.runner, None
        if runner is not None:
            await anyio.to_thread.run_sync(lambda: runner.stop(timeout=self.settings.job_lease_seconds))
