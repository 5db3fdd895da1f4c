"""The loop that takes jobs and runs them, embedded in `stackyard serve` or alone in `stackyard worker`.

    from stackyard.core.job_runner import handler

    @handler("webhook.deliver")
    def deliver(db: Database, job: Job) -> None:   # runs its own transactions
        ...

    runner = JobRunner.from_settings(db, settings)
    runner.start()
    ...
    runner.stop()          # graceful: see below

Threads: a dispatcher claims jobs in batches (when fewer than `threads` claimed jobs wait to start,
it claims up to `batch` more in one transaction) and queues them for `threads` worker threads; a
heartbeat thread extends the lease of every job this runner holds, started or not, in one statement
every lease/3 seconds; on PostgreSQL a listener LISTENs for enqueues committed by any process.
`wake()` (called by every in-process enqueue of a due job) starts a claim at once; without one the
dispatcher looks again every `poll_seconds`.

Outcomes, each written only while this runner's lease still holds the job (see `jobs`): a handler
that returns completes the job; `RetryLater(s)` retries in s seconds; `PermanentFailure` fails it
now; any other exception retries with backoff until the attempts are used up; a kind without a
handler fails permanently, saying so in `last_error`. Every process that runs jobs must therefore
register the same kinds (domains register at import). Handlers run at least once: see `jobs`.

`stop()` claims nothing more, hands the jobs no worker started back to the queue (their attempt not
counted), and waits up to `timeout` for running handlers, recording their outcomes. A handler still
running after that loses its lease when it expires, and another process takes the job over.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import socket
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from stackyard.core import jobs as store
from stackyard.core.jobs import Job
from stackyard.errors import StackyardError
from stackyard.settings import Settings
from stackyard.store.engine import Database, unlimited_queries

log = logging.getLogger("stackyard.jobs")

Handler = Callable[[Database, Job], None]


class RetryLater(StackyardError):
    """Raised by a handler: not now, run again in `seconds` (counts as an attempt, up to max_attempts)."""

    def __init__(self, seconds: float, message: str = "") -> None:
        super().__init__(message or f"retry requested in {seconds:g} s")
        self.seconds = max(0.0, float(seconds))


class PermanentFailure(StackyardError):
    """Raised by a handler: this job can never succeed; fail it now without further attempts."""


# kind -> handler: the registry domains add to (`@handler("kind")`), read by every runner.
handlers: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of `kind` in the module registry."""

    def register(fn: Handler) -> Handler:
        if handlers.get(kind, fn) is not fn:
            raise ValueError(f"job kind {kind!r} already has a handler")
        handlers[kind] = fn
        return fn

    return register


def describe(error: BaseException) -> str:
    """`last_error` for an exception: its type and message, then the innermost frames."""
    lines = traceback.format_exception(type(error), error, error.__traceback__)
    return f"{type(error).__name__}: {error}\n" + "".join(lines[-6:])


class JobRunner:
    """Claims and runs jobs on worker threads until stopped. See the module docstring."""

    def __init__(
        self,
        db: Database,
        *,
        registry: Mapping[str, Handler] | None = None,
        threads: int = 4,
        lease_seconds: float = 30.0,
        poll_seconds: float = 1.0,
        batch: int = 32,
        max_attempts: int = store.DEFAULT_MAX_ATTEMPTS,
        backoff_base: float = 1.0,
        backoff_cap: float = 3600.0,
        listen: bool = True,
        owner: str | None = None,
    ) -> None:
        """`registry`: kind -> handler (default the module's `handlers`, read live); `listen`: on
        PostgreSQL, wake on NOTIFY from other processes; `owner`: the lease owner name (default
        host:pid:random, unique per runner)."""
        if threads < 1 or batch < 1 or lease_seconds <= 0 or poll_seconds <= 0:
            raise ValueError("threads and batch must be at least 1, lease and poll seconds positive")
        self.db = db
        self.threads = threads
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._registry: Mapping[str, Handler] = handlers if registry is None else registry
        self._own: dict[str, Handler] = {}
        self._listen = listen and db.dialect == "postgresql"
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)  # a worker took a job: the buffer may need refilling
        self._held: dict[int, Job] = {}  # claimed and not finished, started or not
        self._lost: set[int] = set()  # held, but a heartbeat found the lease gone
        self._finishing: set[int] = set()  # held, its outcome being written: no more heartbeats
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._beats_done = threading.Event()
        self._threads: list[threading.Thread] = []
        self._workers: list[threading.Thread] = []

    @classmethod
    def from_settings(cls, db: Database, settings: Settings, **options: Any) -> JobRunner:
        """A runner configured by the `job_*` settings; `options` override any keyword."""
        kwargs: dict[str, Any] = {
            "threads": settings.job_threads,
            "lease_seconds": settings.job_lease_seconds,
            "poll_seconds": settings.job_poll_seconds,
            "batch": settings.job_batch,
            "max_attempts": settings.job_max_attempts,
        }
        return cls(db, **{**kwargs, **options})

    def register(self, kind: str, fn: Handler) -> None:
        """Handle `kind` with `fn` in this runner only (ahead of the registry)."""
        self._own[kind] = fn

    def handler_for(self, kind: str) -> Handler | None:
        return self._own.get(kind) or self._registry.get(kind)

    @property
    def held(self) -> int:
        """Jobs this runner holds a lease on right now."""
        with self._lock:
            return len(self._held)

    def wake(self) -> None:
        """Claim now instead of at the next poll (a job was enqueued, or a retry is due)."""
        self._wake.set()

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        if self._threads:
            raise RuntimeError("this runner was already started")
        self._spawn(self._dispatch, "dispatch")
        self._spawn(self._beat, "heartbeat")
        if self._listen:
            self._spawn(self._listen_loop, "listen")
        self._workers = [self._spawn(self._work, f"worker-{i}") for i in range(self.threads)]
        store.add_waker(self.wake)

    def _spawn(self, target: Callable[[], None], name: str) -> threading.Thread:
        t = threading.Thread(target=target, name=f"stackyard-jobs-{name}", daemon=True)
        self._threads.append(t)
        t.start()
        return t

    def stop(self, timeout: float = 10.0) -> None:
        """Stop gracefully (see the module docstring); waits at most about `timeout` seconds."""
        if not self._threads or self._stopping.is_set():
            return
        deadline = time.monotonic() + timeout
        store.remove_waker(self.wake)
        self._stopping.set()
        self._wake.set()
        with self._room:
            self._room.notify_all()
        self._threads[0].join(max(0.0, deadline - time.monotonic()))  # the dispatcher
        unstarted: list[Job] = []
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                unstarted.append(job)
        if unstarted:
            try:
                with self.db.write() as tx:
                    store.release(tx, unstarted)
            except Exception:
                log.exception(
                    "could not hand %d unstarted jobs back; their leases will expire", len(unstarted)
                )
            with self._lock:
                for job in unstarted:
                    self._held.pop(job.id, None)
        for _ in self._workers:
            self._queue.put(None)
        for t in self._workers:
            t.join(max(0.0, deadline - time.monotonic()))
        still = [t.name for t in self._workers if t.is_alive()]
        if still:
            log.warning("stopping with %d job handlers still running; their leases will lapse", len(still))
        self._beats_done.set()
        for t in self._threads:
            if t not in self._workers:
                t.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> JobRunner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- threads -------------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        while not self._stopping.is_set():
            with self._room:
                while self._queue.qsize() >= self.threads and not self._stopping.is_set():
                    self._room.wait(self.poll_seconds)
            if self._stopping.is_set():
                return
            self._wake.clear()  # before the claim: a wake during it makes the next claim run at once
            try:
                with self.db.write() as tx:
                    claimed = store.claim(
                        tx,
                        self.owner,
                        limit=self.batch,
                        lease_seconds=self.lease_seconds,
                        max_attempts=self.max_attempts,
                    )
                    due = store.next_due(tx) if len(claimed) < self.batch else None
            except Exception:
                log.exception("claiming jobs failed; trying again in %s s", self.poll_seconds)
                self._stopping.wait(self.poll_seconds)
                continue
            with self._lock:
                for job in claimed:
                    self._held[job.id] = job
            for job in claimed:
                self._queue.put(job)
            if len(claimed) < self.batch:
                # Nothing more is due: wait for a wake, the next poll, or the next job's due time,
                # so a job scheduled for later starts on time rather than up to a poll late.
                wait = self.poll_seconds if due is None else min(self.poll_seconds, due - time.time())
                if wait > 0:
                    self._wake.wait(wait)

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            with self._room:
                self._room.notify_all()
            if job is None:
                return
            try:
                with self._lock:
                    lost = job.id in self._lost
                if lost:
                    log.warning("job %s (%s): lease lost before it started; not running it", job.id, job.kind)
                else:
                    self._run(job)
            finally:
                with self._lock:
                    self._held.pop(job.id, None)
                    self._lost.discard(job.id)
                    self._finishing.discard(job.id)

    def _run(self, job: Job) -> None:
        fn = self.handler_for(job.kind)
        retry_in: float | None = None
        permanent = False
        error = ""
        if fn is None:
            error, permanent = f"no handler is registered for job kind {job.kind!r}", True
        else:
            try:
                with unlimited_queries():  # background work, off the event loop: no query_timeout_ms
                    fn(self.db, job)
            except RetryLater as e:
                error, retry_in = str(e), e.seconds
            except PermanentFailure as e:
                error, permanent = describe(e), True
            except Exception as e:
                error = describe(e)
        with self._lock:
            self._finishing.add(job.id)
        try:
            with self.db.write() as tx:
                if not error:
                    recorded: str | None = store.SUCCEEDED if store.complete(tx, job) else None
                else:
                    recorded = store.fail(
                        tx,
                        job,
                        error,
                        retry_in=retry_in,
                        permanent=permanent,
                        max_attempts=self.max_attempts,
                        backoff_base=self.backoff_base,
                        backoff_cap=self.backoff_cap,
                    )
        except Exception:
            log.exception("job %s (%s): recording its outcome failed; its lease will lapse", job.id, job.kind)
            return
        if recorded is None:
            log.warning(
                "job %s (%s) attempt %s: the lease was lost (taken over or cancelled); outcome discarded",
                job.id,
                job.kind,
                job.attempts,
            )
        elif recorded == store.QUEUED and retry_in == 0:
            self.wake()  # due again at once
        elif recorded == store.FAILED:
            log.error("job %s (%s) failed after %s attempts: %s", job.id, job.kind, job.attempts, error)

    def _beat(self) -> None:
        interval = store.heartbeat_interval(self.lease_seconds)
        while not self._beats_done.wait(interval):
            with self._lock:
                held = [j for j in self._held.values() if j.id not in self._finishing]
            if not held:
                continue
            try:
                with self.db.write() as tx:
                    kept = store.heartbeat(tx, held, lease_seconds=self.lease_seconds)
            except Exception:
                log.exception("heartbeat failed; trying again in %.1f s", interval)
                continue
            with self._lock:
                for job in held:
                    if job.id not in kept and job.id in self._held:
                        self._lost.add(job.id)
                        log.warning("job %s (%s): lease lost (taken over or cancelled)", job.id, job.kind)

    def _listen_loop(self) -> None:
        """PostgreSQL: wake on every committed enqueue, from any process (NOTIFY in `jobs.enqueue`)."""
        import psycopg

        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.db.url, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {store.CHANNEL}")
                    self.wake()  # anything enqueued while not listening
                    while not self._stopping.is_set():
                        for _ in conn.notifies(timeout=0.25, stop_after=1):
                            self.wake()
            except Exception:
                if self._stopping.is_set():
                    return
                log.exception("listening for jobs failed; polling until it reconnects")
                self._stopping.wait(max(5.0, self.poll_seconds))
