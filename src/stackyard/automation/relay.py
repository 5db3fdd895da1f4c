"""The st2 stream across processes: what one process commits reaches the stream subscribers of
every other (`stackyard worker` processes run executions the API processes stream; with
`--workers N` or several machines, any API process may run one).

    writer (any process)                              reader (a process with stream subscribers)
    bus.publish_after(tx, ...)                        Reader: a thread, started by the first
      └ another process reads? (`wanted`)               subscriber (`ensure_reader`)
          └ INSERT INTO st2_stream, in tx             ├ refreshes its st2_stream_readers row
            (+ NOTIFY on PostgreSQL)                  ├ Wakeup(channel=CHANNEL, clock=max seq)
                                                      └ reads new rows of other processes and
                                                        publishes them to its own subscribers

Rows are written only while another process has subscribers (a reader's row that has not
expired; each writer looks at the readers every WANTED_SECONDS), so a server nobody streams from
writes nothing more. The wake-ups are the spine's own mechanism (`core.wakeup`: LISTEN/NOTIFY on
PostgreSQL, the SQLite change check), on a log of its own. On PostgreSQL positions are taken
before commit, so a reader looks back WINDOW rows each time and skips what it already passed on.
Rows are kept KEEP_SECONDS: the stream is live, not a history.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from stackyard.core.wakeup import Wakeup
from stackyard.settings import Settings
from stackyard.store.engine import Database, Tx, jdump, jload

log = logging.getLogger("stackyard.automation")
CHANNEL = "stackyard_st2_stream"
CLOCK = "SELECT COALESCE(MAX(seq), 0) FROM st2_stream"
PROCESS = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
WANTED_SECONDS = 0.25
READER_TTL = 15.0
KEEP_SECONDS = 60.0
WINDOW = 256

_wanted: dict[str, tuple[float, bool]] = {}  # database url -> (checked at, another process reads)
_readers: dict[int, Reader] = {}  # id of the Database -> its reader (stopped when it closes)
_lock = threading.Lock()


def wanted(tx: Tx) -> bool:
    """Whether a process other than this one has stream subscribers (looked up every WANTED_SECONDS)."""
    url = tx.db.url if tx.db is not None else ""
    now = time.monotonic()
    checked = _wanted.get(url)
    if checked is not None and now - checked[0] < WANTED_SECONDS:
        return checked[1]
    found = bool(
        tx.scalar(
            "SELECT 1 FROM st2_stream_readers WHERE process <> ? AND expires_at > ? LIMIT 1",
            PROCESS,
            time.time(),
        )
    )
    _wanted[url] = (now, found)
    return found


def append(tx: Tx, org_uid: str, name: str, data: dict[str, Any]) -> None:
    """Write an event for the other processes' subscribers, committed with `tx`."""
    seq = tx.scalar(
        "INSERT INTO st2_stream (org_uid, origin, name, data, created_at) VALUES (?, ?, ?, ?, ?) RETURNING seq",
        org_uid,
        PROCESS,
        name,
        jdump(data),
        time.time(),
    )
    if tx.dialect == "postgresql":
        tx.run("SELECT pg_notify(?, ?)", CHANNEL, str(seq))


Deliver = Callable[[str, str, dict[str, Any]], None]  # (organization, event name, data)


def ensure_reader(db: Database, settings: Settings, deliver: Deliver, active: Callable[[], bool]) -> Reader:
    """This process's reader of `db`'s stream log, started (and registered) on first use: it hands
    other processes' events to `deliver`, and keeps its registration while `active()`."""
    with _lock:
        reader = _readers.get(id(db))
        if reader is None:
            reader = _readers[id(db)] = Reader(db, settings, deliver, active)
            reader.start()
            db.on_close(lambda: _forget(db))
        return reader


def _forget(db: Database) -> None:
    with _lock:
        reader = _readers.pop(id(db), None)
    if reader is not None:
        reader.stop()


class Reader:
    """Passes the events other processes wrote on to this process's subscribers (see the module)."""

    def __init__(
        self, db: Database, settings: Settings, deliver: Deliver, active: Callable[[], bool]
    ) -> None:
        self.db = db
        self.deliver = deliver
        self.active = active
        self.wakeup = Wakeup.from_settings(db, settings, channel=CHANNEL, clock=CLOCK, local_commits=False)
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._last = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stackyard-st2-relay", daemon=True)

    def start(self) -> None:
        self._register()  # before anything else: writers look for it
        self.wakeup.start()
        self._last = self.wakeup.latest
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wakeup.poke()
        self._thread.join(5)
        self.wakeup.stop()

    def _register(self, tx: Tx | None = None) -> None:
        if tx is None:
            with self.db.write() as tx:
                self._register(tx)
            return
        tx.run(
            "INSERT INTO st2_stream_readers (process, expires_at) VALUES (?, ?) "
            "ON CONFLICT (process) DO UPDATE SET expires_at = excluded.expires_at",
            PROCESS,
            time.time() + READER_TTL,
        )

    def _housekeeping(self) -> None:
        with self.db.write() as tx:
            if self.active():
                self._register(tx)
            tx.run("DELETE FROM st2_stream WHERE created_at < ?", time.time() - KEEP_SECONDS)
            tx.run("DELETE FROM st2_stream_readers WHERE expires_at < ?", time.time() - READER_TTL)

    def _run(self) -> None:
        next_chores = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_chores:
                    self._housekeeping()
                    next_chores = time.monotonic() + READER_TTL / 3
                self.wakeup.wait(self._last, timeout=1.0)
                if not self._stop.is_set():
                    self._pass_on()
            except Exception:
                log.exception("relaying the st2 stream failed; retrying")
                self._stop.wait(1.0)

    def _pass_on(self) -> None:
        floor = self._last - WINDOW if self.db.dialect == "postgresql" else self._last
        with self.db.read() as tx:
            rows = tx.all(
                "SELECT seq, org_uid, origin, name, data FROM st2_stream WHERE seq > ? ORDER BY seq", floor
            )
        for r in rows:
            seq = int(r["seq"])
            self._last = max(self._last, seq)
            if seq in self._seen:
                continue
            self._seen[seq] = None
            if r["origin"] != PROCESS:
                self.deliver(r["org_uid"], r["name"], jload(r["data"]))
        while len(self._seen) > WINDOW * 8:
            self._seen.popitem(last=False)
