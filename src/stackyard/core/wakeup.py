"""Wake-ups for event consumers: one `Wakeup` per process knows the newest committed global position.

    wakeup = Wakeup.from_settings(db, settings)
    wakeup.start()
    head = wakeup.latest
    ...                                   # drain the log up to at least `head`
    head = wakeup.wait(head, timeout=10)  # returns once something newer committed (or on timeout)
    ...
    wakeup.stop()

Sources, all feeding `notify(gseq)`, which keeps the maximum and wakes every waiter:

- this process: `events.committed_listeners` calls it after each commit that appended events;
- other processes, PostgreSQL: a dedicated connection LISTENs on `events.CHANNEL` (the writer's
  `pg_notify` carries the last gseq and is delivered only once its transaction committed). The
  thread sleeps in `select()` on that connection's socket and a stop pipe: no query runs while
  nothing happens, except one look at the clock after `check_seconds` of silence, which also
  proves the connection alive. A lost connection is opened again after `retry_seconds`, and the
  clock is read once it listens, so what committed in between is not missed;
- other processes, SQLite: a dedicated connection asks `PRAGMA data_version` every
  `change_check_ms` (it changes when any other connection commits; a few microseconds, no I/O when
  nothing changed) and reads `event_clock` only when it did.

A waiter never misses a commit: it passes the newest position it has caught up with, and `wait`
returns at once if a newer one is already known. `latest` only grows, and only with positions
that are committed, so everything up to it can be read (positions follow commit order).

`wait_async` is the same for an event loop: the notifying thread resolves the loop's future with
`call_soon_threadsafe`, so no thread is parked per waiting coroutine.

Another log with the same shape (a growing position, NOTIFY on commit) can use the same sources:
`channel` and `clock` (the query of its newest position) name it, and `local_commits=False` leaves
this process's commits to the caller (`automation.relay` streams st2 events across processes so).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from stackyard.core import events
from stackyard.settings import Settings
from stackyard.store.engine import Database

log = logging.getLogger("stackyard.events")


class Wakeup:
    """The newest committed event position known to this process, and a way to wait for a newer one."""

    def __init__(
        self,
        db: Database,
        *,
        change_check_ms: int = 5,
        check_seconds: float = 10.0,
        retry_seconds: float = 1.0,
        cross_process: bool = True,
        channel: str = events.CHANNEL,
        clock: str = "SELECT gseq FROM event_clock WHERE id = 1",
        local_commits: bool = True,
    ) -> None:
        """`cross_process`: also wake on commits of other processes (LISTEN, or the SQLite change check).
        `channel`, `clock`, `local_commits`: which log (the spine's by default; see the module docstring)."""
        if change_check_ms < 1 or check_seconds <= 0 or retry_seconds <= 0:
            raise ValueError("change_check_ms must be at least 1, check and retry seconds positive")
        self.db = db
        self.change_check_ms = change_check_ms
        self.check_seconds = check_seconds
        self.retry_seconds = retry_seconds
        self.channel = channel
        self.clock = clock
        self.local_commits = local_commits
        self._cross = cross_process and not (db.dialect == "sqlite" and db.path == ":memory:")
        self._cond = threading.Condition()
        self._latest = 0
        self._pokes = 0
        self._futures: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[int]]] = set()
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._pipe: tuple[int, int] | None = None
        # What the sources did, for tests and benches: notifications and change checks seen,
        # clock reads made, connections (re)opened.
        self.stats = {"notifications": 0, "checks": 0, "clock_reads": 0, "connects": 0}

    @classmethod
    def from_settings(cls, db: Database, settings: Settings, **options: Any) -> Wakeup:
        kwargs: dict[str, Any] = {
            "change_check_ms": settings.sqlite_change_check_ms,
            "check_seconds": settings.event_check_seconds,
            "retry_seconds": settings.event_listen_retry_seconds,
        }
        return cls(db, **{**kwargs, **options})

    @property
    def latest(self) -> int:
        """The newest global position (`gseq`) known to be committed."""
        with self._cond:
            return self._latest

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self, timeout: float = 5.0) -> None:
        """Read the log's head, register for this process's commits and start the cross-process
        source; waits up to `timeout` for it to be listening (it keeps retrying if it is not)."""
        if self._thread is not None or self._stopping.is_set() or self.notify in events.committed_listeners:
            raise RuntimeError("a wakeup starts once")
        with self.db.read() as tx:
            self.notify(int(tx.scalar(self.clock) or 0))
        if self.local_commits:
            events.committed_listeners.append(self.notify)
        if not self._cross:
            return
        if self.db.dialect == "postgresql":
            self._pipe = os.pipe()
            target: Callable[[], None] = self._listen
        else:
            target = self._check_changes
        self._thread = threading.Thread(target=target, name="stackyard-wakeup", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            log.warning("event wake-ups from other processes are not ready after %.1f s", timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the sources (closing their connection) and release every waiter."""
        with contextlib.suppress(ValueError):
            events.committed_listeners.remove(self.notify)
        self._stopping.set()
        if self._pipe is not None:
            os.write(self._pipe[1], b"x")
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the event wake-up thread did not stop within %.1f s", timeout)
        if self._pipe is not None and (self._thread is None or not self._thread.is_alive()):
            for fd in self._pipe:
                os.close(fd)
            self._pipe = None
        self._thread = None
        self.poke()

    def __enter__(self) -> Wakeup:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- waking and waiting ------------------------------------------------------------------------
    def notify(self, gseq: int) -> None:
        """Events up to `gseq` are committed: wake whoever waits for less."""
        with self._cond:
            if gseq <= self._latest:
                return
            self._latest = gseq
            self._cond.notify_all()
            futures, self._futures = self._futures, set()
        _resolve_all(futures, gseq)

    def poke(self) -> None:
        """Wake every waiter without news: threads check their `until`, coroutines return."""
        with self._cond:
            self._pokes += 1
            self._cond.notify_all()
            futures, self._futures = self._futures, set()
            latest = self._latest
        _resolve_all(futures, latest)

    def wait(
        self, after_gseq: int, timeout: float | None = None, *, until: Callable[[], bool] | None = None
    ) -> int:
        """Block until a position after `after_gseq` is known, `timeout` passed, or `until()` is true
        (checked at entry and on each `poke`); answers the newest known position."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            pokes = self._pokes
            while self._latest <= after_gseq:
                if until is not None and until():
                    break
                if self._pokes != pokes and until is None:
                    break
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                self._cond.wait(remaining)
            return self._latest

    async def wait_async(self, after_gseq: int, timeout: float | None = None) -> int:
        """`wait` for an event loop: suspends the coroutine, not a thread. Cancel the task to stop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        entry = (loop, future)
        with self._cond:
            if self._latest > after_gseq:
                return self._latest
            self._futures.add(entry)
        try:
            await asyncio.wait({future}, timeout=timeout)
        finally:
            with self._cond:
                self._futures.discard(entry)
        return self.latest

    # -- sources -----------------------------------------------------------------------------------
    def _listen(self) -> None:
        """PostgreSQL: LISTEN on a dedicated connection, sleeping in select() until it has data."""
        import psycopg

        assert self._pipe is not None
        stop_fd = self._pipe[0]
        while not self._stopping.is_set():
            try:
                with psycopg.connect(
                    self.db.url, autocommit=True, connect_timeout=10, application_name="stackyard-wakeup"
                ) as conn:
                    self.stats["connects"] += 1
                    conn.execute(f"LISTEN {self.channel}")
                    self._read_clock_pg(conn)  # what committed before we listened
                    self._ready.set()
                    while not self._stopping.is_set():
                        readable, _, _ = select.select([conn.fileno(), stop_fd], [], [], self.check_seconds)
                        if stop_fd in readable:
                            return
                        if not readable:  # silence: look at the clock (and prove the connection alive)
                            self._read_clock_pg(conn)
                            continue
                        self._take_notifies(conn)
            except Exception as e:
                if self._stopping.is_set():
                    return
                log.warning("listening for events failed (%s); reconnecting in %.1f s", e, self.retry_seconds)
                self._stopping.wait(self.retry_seconds)

    def _take_notifies(self, conn: Any) -> None:
        for n in conn.notifies(timeout=0):
            self.stats["notifications"] += 1
            try:
                self.notify(int(n.payload))
            except ValueError:
                log.warning("ignoring a notification on %s with payload %r", self.channel, n.payload)

    def _read_clock_pg(self, conn: Any) -> None:
        self.stats["clock_reads"] += 1
        row = conn.execute(self.clock).fetchone()
        self.notify(int(row[0] or 0) if row else 0)
        # Notifications that came in with that answer wait in psycopg's backlog, not on the socket.
        self._take_notifies(conn)

    def _check_changes(self) -> None:
        """SQLite: `PRAGMA data_version` every `change_check_ms`; the clock only when it changed."""
        interval = self.change_check_ms / 1000
        while not self._stopping.is_set():
            try:
                conn = sqlite3.connect(
                    self.db.path, isolation_level=None, check_same_thread=False, timeout=30
                )
            except sqlite3.Error as e:
                log.warning("opening %s for event wake-ups failed (%s)", self.db.path, e)
                self._stopping.wait(self.retry_seconds)
                continue
            try:
                self.stats["connects"] += 1
                version = None
                self._ready.set()
                while True:
                    current = conn.execute("PRAGMA data_version").fetchone()[0]
                    self.stats["checks"] += 1
                    if current != version:
                        self.stats["clock_reads"] += 1
                        row = conn.execute(self.clock).fetchone()
                        version = current
                        self.notify(int(row[0] or 0) if row else 0)
                    if self._stopping.wait(interval):
                        return
            except sqlite3.Error as e:
                log.warning("checking %s for new events failed (%s); retrying", self.db.path, e)
                self._stopping.wait(self.retry_seconds)
            finally:
                conn.close()


def _resolve_all(futures: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[int]]], gseq: int) -> None:
    for loop, future in futures:
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits there anymore
            loop.call_soon_threadsafe(_resolve, future, gseq)


def _resolve(future: asyncio.Future[int], gseq: int) -> None:
    if not future.done():
        future.set_result(gseq)
