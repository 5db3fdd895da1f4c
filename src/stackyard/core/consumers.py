"""Consumers of the event log with durable cursors (DESIGN §4): the response cache, automation
triggers, edge purges... each reads the events after its cursor, handles them, and acknowledges.

    purge = Consumer(db, "edge-purge", handle=purge_urls, wakeup=wakeup)             # effects elsewhere
    triggers = Consumer(db, "automation-triggers", handle_in_tx=enqueue_runs, wakeup=wakeup)
    triggers.start()      # a thread: drain, wait for a wake-up, drain...
    triggers.stop()

Delivery contract:

- A consumer is a name and a scope: one stack (`api_key=`; positions are the stack's `seq`) or all
  stacks (`ALL`, the default; positions are `gseq`). Its cursor, a row of `event_cursors`, is the
  position of the last event it acknowledged. Consumers' cursors are independent of each other.
- It receives the events after its cursor, oldest first, in batches. Positions follow commit order
  (`events`), so no event can later appear behind a position the consumer has passed.
- `ack` moves the cursor forward only (an older position leaves it as it is), in the transaction
  it is given, and is durable once that commits. An acknowledged event is never delivered to the
  consumer again.
- Until it is acknowledged, an event is delivered again: after the handler raised, or the process
  died between handling and acknowledging. With `handle` (effects outside this database: purge a
  URL, drop a cache entry) effects are therefore at least once, and handlers must tolerate repeats.
- With `handle_in_tx`, the handler runs inside the write transaction that first locks the
  consumer's cursor row, reads after it and finally acknowledges: its database effects and the ack
  commit or roll back together, so they happen exactly once, even with the same consumer running in
  several processes (they take turns on the row). Callers can do the same by hand:
  `read(tx, name, lock=True)` ... `ack(tx, name, position)` in one `db.write()`.
- A consumer seen for the first time starts at the beginning of the log (`start="earliest"`) or at
  its head (`"latest"`: only events committed afterwards).
- A handler that keeps failing on an event holds its consumer there (retried with backoff and
  logged); skipping an event is the handler's decision.

`Progress` is the loop's state without a database (what to acknowledge, whether to look, how long
to back off); `Consumer` adds the reads, the writes and the waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from stackyard.core import events
from stackyard.core.wakeup import Wakeup
from stackyard.ids import now
from stackyard.settings import Settings
from stackyard.store.engine import Database, Row, Tx

log = logging.getLogger("stackyard.events")

# The scope of a consumer of every stack's events (positions are gseq).
ALL = "*"
Start = Literal["earliest", "latest"]
Handle = Callable[[list[Row]], None]
HandleInTx = Callable[[Tx, list[Row]], None]

_CLAIM = (
    "INSERT INTO event_cursors (consumer, scope, position, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (consumer, scope) DO UPDATE SET position = event_cursors.position RETURNING position"
)
_ACK = (
    "INSERT INTO event_cursors (consumer, scope, position, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (consumer, scope) DO UPDATE SET "
    "position = CASE WHEN excluded.position > event_cursors.position "
    "THEN excluded.position ELSE event_cursors.position END, "
    "updated_at = CASE WHEN excluded.position > event_cursors.position "
    "THEN excluded.updated_at ELSE event_cursors.updated_at END "
    "RETURNING position"
)


def scope_of(api_key: str | None) -> str:
    return ALL if api_key is None else api_key


def position(tx: Tx, consumer: str, *, api_key: str | None = None) -> int:
    """The cursor of `consumer`: the last position it acknowledged (0 when it has none)."""
    value = tx.scalar(
        "SELECT position FROM event_cursors WHERE consumer = ? AND scope = ?", consumer, scope_of(api_key)
    )
    return int(value or 0)


def head(tx: Tx, *, api_key: str | None = None) -> int:
    """The position of the newest committed event: global, or of one stack."""
    if api_key is None:
        return events.last_position(tx)
    return int(tx.scalar("SELECT COALESCE(MAX(seq), 0) FROM events WHERE api_key = ?", api_key))


def subscribe(tx: Tx, consumer: str, *, api_key: str | None = None, start: Start = "earliest") -> int:
    """Create the cursor of `consumer` unless it exists, at 0 or at the log's head (`start`); answers
    the cursor. A write: `start="latest"` must be remembered, or events committed before the first
    acknowledgement would be skipped."""
    if start not in ("earliest", "latest"):
        raise ValueError(f"start must be 'earliest' or 'latest', not {start!r}")
    scope = scope_of(api_key)
    found = tx.scalar("SELECT position FROM event_cursors WHERE consumer = ? AND scope = ?", consumer, scope)
    if found is not None:
        return int(found)
    initial = head(tx, api_key=api_key) if start == "latest" else 0
    return int(tx.scalar(_CLAIM, consumer, scope, initial, now()))


def read(
    tx: Tx, consumer: str, *, api_key: str | None = None, limit: int = 100, lock: bool = False
) -> list[Row]:
    """The events after the cursor of `consumer`, oldest first, at most `limit`.

    `lock=True` (in a write transaction) also locks the cursor row until the transaction ends, so
    a second reader of the same consumer waits and then reads after whatever this one acknowledged:
    handle and `ack` in the same transaction for exactly-once effects. It creates a missing cursor
    at 0.
    """
    if lock:
        after = int(tx.scalar(_CLAIM, consumer, scope_of(api_key), 0, now()))
    else:
        after = position(tx, consumer, api_key=api_key)
    return events.after(tx, after, api_key=api_key, limit=limit)


def ack(tx: Tx, consumer: str, upto: int, *, api_key: str | None = None) -> int:
    """Acknowledge every event of `consumer` up to position `upto`, in `tx`; the cursor only moves
    forward. Answers the cursor afterwards (higher than `upto` if it already was)."""
    if upto < 0:
        raise ValueError("an event position is never negative")
    return int(tx.scalar(_ACK, consumer, scope_of(api_key), upto, now()))


@dataclass
class Progress:
    """A consumer loop's state, without I/O: where it is, what to acknowledge, whether to look.

    `checked` is the newest global position the wake-up source knew before the consumer last read
    the log to its end: nothing at or before it is left to read, so a wake-up at that position or
    older needs no read (per-stack consumers cannot compare their `seq` with `gseq` otherwise).
    """

    scope: str = ALL
    batch: int = 100
    position: int | None = None
    checked: int | None = None
    failures: int = 0

    def __post_init__(self) -> None:
        if self.batch < 1:
            raise ValueError("a batch holds at least one event")

    def key(self, event: Row) -> int:
        """An event's position in this consumer's scope."""
        return int(event["gseq"] if self.scope == ALL else event["seq"])

    def due(self, head: int | None) -> bool:
        """Is there possibly something to read, the newest known global position being `head`?"""
        return head is None or self.checked is None or head > self.checked

    def upto(self, batch: Sequence[Row]) -> int | None:
        """The position that acknowledges all of `batch` (None for an empty one)."""
        return max((self.key(e) for e in batch), default=None)

    def acked(self, cursor: int) -> None:
        self.position = cursor if self.position is None else max(self.position, cursor)

    def more(self, count: int) -> bool:
        """After a batch of `count` events: may more be waiting right behind it?"""
        return count >= self.batch

    def drained(self, head: int | None) -> None:
        """The log was read to its end, having known `head` before starting."""
        if head is not None:
            self.checked = head if self.checked is None else max(self.checked, head)
        self.failures = 0

    def failed(self, base: float, cap: float) -> float:
        """A batch failed: seconds to wait before retrying it (doubling from `base` up to `cap`)."""
        self.failures += 1
        return min(cap, base * 2 ** min(self.failures - 1, 30))


class Consumer:
    """A named consumer of the log: `run_once` / `drain` by hand, or `start` a thread (or await
    `run_async`) that drains whenever `wakeup` reports a commit. See the module docstring.

    One runner per object: `run_once`, `drain`, `start` and `run_async` are not for concurrent use.
    """

    def __init__(
        self,
        db: Database,
        name: str,
        *,
        handle: Handle | None = None,
        handle_in_tx: HandleInTx | None = None,
        api_key: str | None = None,
        wakeup: Wakeup | None = None,
        batch: int = 100,
        start: Start = "earliest",
        check_seconds: float = 10.0,
        retry_seconds: float = 1.0,
    ) -> None:
        """Exactly one of `handle(events)` (at least once) and `handle_in_tx(tx, events)` (exactly
        once, in the acknowledging transaction). Without `wakeup`, the runner looks every
        `check_seconds`; with one, it also looks after `check_seconds` without a wake-up."""
        if (handle is None) == (handle_in_tx is None):
            raise ValueError("give exactly one of handle and handle_in_tx")
        if not name or check_seconds <= 0 or retry_seconds <= 0:
            raise ValueError("a consumer needs a name, and positive check and retry seconds")
        if start not in ("earliest", "latest"):
            raise ValueError(f"start must be 'earliest' or 'latest', not {start!r}")
        self.db = db
        self.name = name
        self.api_key = api_key
        self.wakeup = wakeup
        self.start_at: Start = start
        self.check_seconds = check_seconds
        self.retry_seconds = retry_seconds
        self._handle = handle
        self._handle_in_tx = handle_in_tx
        self._progress = Progress(scope_of(api_key), batch)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, db: Database, settings: Settings, name: str, **options: Any) -> Consumer:
        """A consumer configured by the `consumer_*` and `event_*` settings; `options` add the handler
        and may override any keyword."""
        kwargs: dict[str, Any] = {
            "batch": settings.consumer_batch,
            "check_seconds": settings.event_check_seconds,
            "retry_seconds": settings.consumer_retry_seconds,
        }
        return cls(db, name, **{**kwargs, **options})

    @property
    def position(self) -> int | None:
        """The cursor as this consumer last read or acknowledged it (None before its first batch)."""
        return self._progress.position

    # -- one batch ---------------------------------------------------------------------------------
    def run_once(self) -> int:
        """Read one batch after the cursor, handle it and acknowledge it; answers its size.

        If the handler raises, nothing is acknowledged (and with `handle_in_tx` nothing it wrote is
        kept) and the exception propagates: the same events come again next time.
        """
        p = self._progress
        if p.position is None:
            with self.db.write() as tx:
                p.acked(subscribe(tx, self.name, api_key=self.api_key, start=self.start_at))
        if self._handle_in_tx is not None:
            with self.db.write() as tx:
                batch = read(tx, self.name, api_key=self.api_key, limit=p.batch, lock=True)
                upto = p.upto(batch)
                cursor = None
                if upto is not None:
                    self._handle_in_tx(tx, batch)
                    cursor = ack(tx, self.name, upto, api_key=self.api_key)
            if cursor is not None:
                p.acked(cursor)
            return len(batch)
        assert self._handle is not None and p.position is not None
        # At least once: the cursor kept in memory is enough (a stale one only repeats events).
        with self.db.read() as tx:
            batch = events.after(tx, p.position, api_key=self.api_key, limit=p.batch)
        upto = p.upto(batch)
        if upto is not None:
            self._handle(batch)
            with self.db.write() as tx:
                p.acked(ack(tx, self.name, upto, api_key=self.api_key))
        return len(batch)

    def drain(self) -> int:
        """`run_once` until the log is read to its end (or the runner is stopping); answers how many
        events were handled."""
        return self._drain(self.wakeup.latest if self.wakeup is not None else None)

    def _drain(self, head: int | None) -> int:
        total = 0
        while True:
            count = self.run_once()
            total += count
            if self._stopping.is_set():
                return total
            if not self._progress.more(count):
                break
        self._progress.drained(head)
        return total

    # -- runners -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Run in a thread until `stop`: drain, wait for a wake-up (or `check_seconds`), drain..."""
        if self._thread is not None or self._stopping.is_set():
            raise RuntimeError("a consumer starts once")
        self._thread = threading.Thread(
            target=self._loop, name=f"stackyard-consumer-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the batch in hand (handled and acknowledged, or not at all)."""
        self._stopping.set()
        if self.wakeup is not None:
            self.wakeup.poke()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("consumer %s did not stop within %.1f s", self.name, timeout)

    def __enter__(self) -> Consumer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _loop(self) -> None:
        force = True
        while not self._stopping.is_set():
            head = self.wakeup.latest if self.wakeup is not None else None
            if force or self._progress.due(head):
                try:
                    self._drain(head)
                except Exception:
                    delay = self._progress.failed(self.retry_seconds, self.check_seconds)
                    log.exception("consumer %s: a batch failed; retrying in %.1f s", self.name, delay)
                    self._stopping.wait(delay)
                    continue
            if self.wakeup is None or head is None:
                force = not self._stopping.wait(self.check_seconds)
            else:
                newer = self.wakeup.wait(head, self.check_seconds, until=self._stopping.is_set)
                force = newer <= head  # no wake-up for check_seconds: look anyway

    async def run_async(self) -> None:
        """The runner as a coroutine, until its task is cancelled: each drain runs on a worker thread
        (handlers included), the wait suspends only this coroutine. On cancellation the batch in hand
        finishes first, so the database can be closed after awaiting the task."""
        force = True
        while True:
            head = self.wakeup.latest if self.wakeup is not None else None
            if force or self._progress.due(head):
                work = asyncio.ensure_future(asyncio.to_thread(self._drain, head))
                try:
                    await asyncio.shield(work)
                except asyncio.CancelledError:
                    self._stopping.set()
                    with contextlib.suppress(Exception):
                        await work
                    raise
                except Exception:
                    delay = self._progress.failed(self.retry_seconds, self.check_seconds)
                    log.exception("consumer %s: a batch failed; retrying in %.1f s", self.name, delay)
                    await asyncio.sleep(delay)
                    continue
            if self.wakeup is None or head is None:
                await asyncio.sleep(self.check_seconds)
                force = True
            else:
                newer = await self.wakeup.wait_async(head, self.check_seconds)
                force = newer <= head
