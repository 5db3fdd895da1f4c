"""What a process runs for automation beside the job runner: the content-events consumer (every
spine event becomes trigger `stackyard.<type>` for the rules listening to it), and the settings
the automation job handlers run with. Started by `server.background` in `stackyard serve`;
`stackyard worker` configures the handlers only (one consumer per database is enough, and several
take turns on its cursor row anyway)."""

from __future__ import annotations

from stackyard.automation import engine, execute
from stackyard.core.consumers import Consumer
from stackyard.core.wakeup import Wakeup
from stackyard.settings import Settings
from stackyard.store.engine import Database


def configure(db: Database, settings: Settings) -> None:
    """Give the automation job handlers (`automation.*` kinds) this process's settings."""
    execute.configure(db, settings)
    engine.configure(db, settings)


class Automation:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.wakeup: Wakeup | None = None
        self.consumer: Consumer | None = None

    def start(self) -> None:
        configure(self.db, self.settings)
        self.wakeup = Wakeup.from_settings(self.db, self.settings)
        self.wakeup.start()
        self.consumer = Consumer.from_settings(
            self.db,
            self.settings,
            engine.CONSUMER,
            handle_in_tx=engine.content_events(self.settings),
            wakeup=self.wakeup,
            start="latest",
        )
        self.consumer.start()

    def stop(self) -> None:
        if self.consumer is not None:
            self.consumer.stop()
        if self.wakeup is not None:
            self.wakeup.stop()
