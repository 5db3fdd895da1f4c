"""Webhooks' trigger instances written together: group commit at the rules engine.

A webhook prepares its `engine.Plan` with reads only (its credential, its trigger, the rules and
their executions' parameters), then hands it to the `Intake` of its database. One writer thread
takes every plan waiting at that moment, up to `automation_webhook_batch`, and writes them all in
one write transaction (`engine.commit_many`: each table's rows in one statement round), so many
webhooks share one BEGIN and COMMIT, a few round trips to PostgreSQL and, on SQLite, one fsync.
While it writes, the next plans queue up: under load the batches grow by themselves, and a lone
webhook waits for no one.

Why it is safe: a webhook is answered only once the transaction holding its plan has committed,
so an answer still means its trigger instance, enforcements and executions are durable (and the
instant ones, such as core.noop, finished with them, as before). Should the shared transaction
fail, every plan of it is written again in a transaction of its own, so a plan that cannot be
written fails its own webhook only. A process that dies before a commit loses only plans whose
webhooks were never answered; queued executions are jobs in the same transaction as ever.

A plan submitted on an event loop (a webhook prepared there) gets an asyncio future of that loop,
and a batch wakes each loop once to settle all of its futures: a concurrent future per webhook
(its lock and condition, a thread-safe wake-up of the loop each, the asyncio future chained to it)
cost about as much CPU as the rest of the hand-over. Elsewhere (a handler on a thread, a test) the
future is a concurrent one.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from concurrent.futures import Future
from typing import Any

from stackyard.automation import engine
from stackyard.settings import Settings
from stackyard.store.engine import Database

log = logging.getLogger("stackyard.automation")
IDLE_SECONDS = 5.0  # a writer thread with nothing to write for this long ends; the next plan starts one


class Intake:
    """The writer of one database's webhook plans (see the module docstring). Thread-safe."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.max_batch = max(1, settings.automation_webhook_batch)
        self._waiting: deque[tuple[engine.Plan, Answer]] = deque()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.batches = self.written = 0

    def submit(self, plan: engine.Plan) -> Answer:
        """Queue `plan`; the future answers the recorded trigger instance once it is committed (or
        raises what writing it raised): an asyncio future when called on an event loop, else a
        concurrent one (see the module docstring)."""
        done: Answer
        try:
            done = asyncio.get_running_loop().create_future()
        except RuntimeError:
            done = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the database is closed")
            self._waiting.append((plan, done))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="stackyard-intake", daemon=True)
                self._thread.start()
            else:
                self._ready.notify()
        return done

    def close(self) -> None:
        """Write what is queued, then stop the writer thread."""
        with self._ready:
            self._closed = True
            thread = self._thread
            self._ready.notify()
        if thread is not None and thread is not threading.current_thread():
            thread.join(30)

    def _take(self) -> list[tuple[engine.Plan, Answer]] | None:
        with self._ready:
            while not self._waiting:
                idle = self._closed or not self._ready.wait(IDLE_SECONDS)
                if idle and not self._waiting:
                    self._thread = None
                    return None
            n = min(len(self._waiting), self.max_batch)
            taken = [self._waiting.popleft() for _ in range(n)]
        # From here on a future cannot be cancelled; one cancelled while it waited is not written.
        return [(plan, done) for plan, done in taken if _still_wanted(done)]

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            self.batches += 1
            self.written += len(batch)
            self._write(batch)

    def _write(self, batch: list[tuple[engine.Plan, Answer]]) -> None:
        results: list[dict[str, Any]] = []
        try:
            with self.db.write() as tx:
                results = engine.commit_many(tx, self.settings, [plan for plan, _ in batch])
        except BaseException as e:
            if len(batch) == 1:
                _settle([(batch[0][1], None, e)])
                return
            log.warning("a batch of %d webhooks failed to commit (%s); writing each alone", len(batch), e)
            for item in batch:
                self._write([item])
            return
        _settle([(done, result, None) for (_, done), result in zip(batch, results, strict=True)])


Answer = Future[dict[str, Any]] | asyncio.Future[dict[str, Any]]
Outcome = tuple[Answer, dict[str, Any] | None, BaseException | None]


def _still_wanted(done: Answer) -> bool:
    if isinstance(done, Future):
        return done.set_running_or_notify_cancel()
    return not done.cancelled()  # settled on its loop only, by `_settle`


def _settle(outcomes: list[Outcome]) -> None:
    """Give each future its result or exception: concurrent ones here, asyncio ones on their loop,
    with one wake-up of each loop for all of its futures."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
    for outcome in outcomes:
        done = outcome[0]
        if isinstance(done, Future):
            _give(outcome)
        else:
            by_loop.setdefault(done.get_loop(), []).append(outcome)
    for loop, some in by_loop.items():
        try:
            loop.call_soon_threadsafe(_give_all, some)
        except RuntimeError:
            pass  # its loop is closed: nobody waits for these answers any more


def _give_all(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        _give(outcome)


def _give(outcome: Outcome) -> None:
    done, result, error = outcome
    if done.done():  # an asyncio future cancelled meanwhile
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)  # type: ignore[arg-type]


_INTAKES: dict[Database, Intake] = {}
_LOCK = threading.Lock()


def of(db: Database, settings: Settings) -> Intake:
    """The intake of `db` (made on first use, closed and forgotten with the database)."""
    found = _INTAKES.get(db)
    if found is None:
        with _LOCK:
            found = _INTAKES.get(db)
            if found is None:
                found = _INTAKES[db] = Intake(db, settings)
                db.on_close(lambda: _close(db))
    return found


def _close(db: Database) -> None:
    with _LOCK:
        found = _INTAKES.pop(db, None)
    if found is not None:
        found.close()
