"""Database engines behind one small interface.

SQLite (the embedded default) runs in WAL mode with synchronous=FULL and a busy timeout; all
writes in a process go through one lock, so there is one writer. Writers that queue up behind each
other share one commit (group commit, see `Database.write`): each keeps its own all-or-nothing
savepoint, and none returns before the fsync that makes it durable. PostgreSQL uses a connection
pool. SQL is written once with `?` placeholders; `Tx` rewrites them for psycopg.

    with db.write() as tx:
        tx.run("UPDATE environments SET name = ? WHERE uid = ?", name, uid)

Transactions, their statements and their time limits are in `tx.py`; this module re-exports
`Tx`, `Row`, `jload`, `jdump` and `unlimited_queries` for the rest of the code.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

try:
    import fcntl
except ImportError:  # not POSIX: processes sharing a file meet only SQLite's busy timeout
    fcntl = None  # type: ignore[assignment]

from stackyard.store.tx import (
    _UNLIMITED,
    PROGRESS_STEPS,
    Row,
    Tx,
    _Clock,
    _Connection,
    jdump,
    jload,
    query_timeout,
    split_statements,
    unlimited_queries,
)

# What the rest of the code imports from here (the transaction itself lives in tx.py).
__all__ = [
    "Database",
    "GroupCommitFailed",
    "NeedsThread",
    "Row",
    "Tx",
    "in_reads_only",
    "jdump",
    "jload",
    "query_timeout",
    "reads_only",
    "split_statements",
    "unlimited_queries",
]


class NeedsThread(BaseException):
    """Raised by `Database.write()` inside `reads_only()`: the work must start over on a worker thread.

    A BaseException, so a handler's own `except Exception` cannot swallow it on the way out.
    """


_READS_ONLY: ContextVar[bool] = ContextVar("stackyard_reads_only", default=False)


@contextmanager
def reads_only() -> Iterator[None]:
    """Run code that is expected only to read (on the event loop); a write attempt raises `NeedsThread`
    before it touches the database, so the caller can re-run the same code on a thread."""
    token = _READS_ONLY.set(True)
    try:
        yield
    finally:
        _READS_ONLY.reset(token)


def in_reads_only() -> bool:
    """Whether this runs inside `reads_only()` (on the event loop): work whose cost the caller cannot
    bound may raise `NeedsThread` there, to be run on a worker thread instead."""
    return _READS_ONLY.get()


# Prepared statements kept per connection. The app has a few hundred distinct statements (more with
# the query compiler); the drivers' defaults (SQLite 128, psycopg 100) would keep re-preparing them.
STATEMENT_CACHE = 1024


def _configure_pg(conn: Any) -> None:
    conn.prepared_max = STATEMENT_CACHE


def _private_files(path: str) -> None:
    """Make the database file, and its `-wal` and `-shm` files, readable by the server's user only.

    SQLite creates `-wal` and `-shm` with the database file's mode, so creating that file 0600
    (inside a 0700 directory when the directory is new) covers all three; files of an older
    version, created 0644, are tightened.
    """
    Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path, path + "-wal", path + "-shm"):
        try:
            if os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)
        except (FileNotFoundError, PermissionError):
            pass


class _Group:
    """Write transactions sharing one SQLite commit; `done` is set once it succeeded or failed."""

    __slots__ = ("done", "error", "size")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.size = 0


class GroupCommitFailed(sqlite3.OperationalError):
    """The shared commit a write joined failed, so that write is not stored either."""


class Database:
    """A database by URL: `sqlite:///path/file.db` or `postgresql://...`."""

    def __init__(
        self, url: str, *, pool_size: int = 16, group_commit: int = 32, query_timeout_ms: int = 0
    ) -> None:
        """`group_commit`: most SQLite write transactions that may share one commit (1 turns it off);
        `query_timeout_ms`: the time limit of a statement (0: none), see `limit_queries`."""
        self.url = url
        self._closers: list[Callable[[], None]] = []
        self.query_timeout_ms = max(0, query_timeout_ms)
        parsed = urlparse(url)
        if parsed.scheme in ("postgres", "postgresql"):
            self.dialect = "postgresql"
            from psycopg.rows import dict_row
            from psycopg_pool import ConnectionPool

            self._pool = ConnectionPool(
                url,
                min_size=1,
                max_size=pool_size,
                # Writes open their own transaction (`transaction()` sends BEGIN/COMMIT); reads run
                # as single statements, see `read`.
                kwargs={"row_factory": dict_row, "autocommit": True},
                configure=_configure_pg,
                open=True,
            )
        elif parsed.scheme == "sqlite":
            self.dialect = "sqlite"
            path = unquote(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else parsed.path
            if path != ":memory:":
                _private_files(path)
            self.path = path
            self._local = threading.local()
            self._write_lock = threading.Lock()
            self._all: list[sqlite3.Connection] = []
            self._all_lock = threading.Lock()
            self._max_group = max(1, group_commit) if path != ":memory:" else 1
            self._writer: sqlite3.Connection | None = None
            self._group: _Group | None = None
            self._waiting = 0
            self._waiting_lock = threading.Lock()
            self._lock_fd: int | None = None
        else:
            raise ValueError(f"unsupported database URL {url!r}: use sqlite:///file or postgresql://...")

    # -- SQLite connections: one per thread, shared writer lock --------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=False,
            timeout=30,
            cached_statements=STATEMENT_CACHE,
            factory=_Connection,
        )
        assert isinstance(conn, _Connection)
        conn.clock = _Clock()
        conn.set_progress_handler(conn.clock.expired, PROGRESS_STEPS)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA foreign_keys=ON")
        with self._all_lock:
            self._all.append(conn)
        return conn

    def _sqlite(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """Reads. On SQLite, one transaction: every statement sees the same snapshot. On PostgreSQL,
        statements in autocommit mode, each seeing all data committed before it started: what a
        READ COMMITTED transaction gave anyway, without the BEGIN and COMMIT round trips."""
        if self.dialect == "sqlite":
            conn = self._sqlite()
            conn.execute("BEGIN")
            limit = 0 if _UNLIMITED.get() else self.query_timeout_ms
            try:
                yield Tx(conn, "sqlite", self, reading=True, limit_ms=limit)
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")
        else:
            with self._pool.connection() as pconn:
                self._pg_limit(pconn)
                yield Tx(pconn, "postgresql", self, reading=True)

    def limit_queries(self, timeout_ms: int) -> None:
        """Set the time limit of every statement from now on (`query_timeout_ms`; 0: none)."""
        self.query_timeout_ms = max(0, timeout_ms)

    def _pg_limit(self, pconn: Any) -> None:
        """Bring a pooled connection's statement_timeout to what this checkout needs (a round trip
        only when it changes: a new connection, or one used by `unlimited_queries` work before)."""
        want = 0 if _UNLIMITED.get() else self.query_timeout_ms
        if getattr(pconn, "_stackyard_timeout", None) != want:
            pconn.execute(f"SET statement_timeout = {int(want)}")
            pconn._stackyard_timeout = want

    @property
    def reads_are_local(self) -> bool:
        """Reads are in-process file reads (SQLite), cheap enough to run on the event loop."""
        return self.dialect == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """A write transaction: all of it commits, or none of it does."""
        if _READS_ONLY.get():
            raise NeedsThread
        if self.dialect == "sqlite" and self._max_group == 1:
            conn = self._sqlite()
            with self._write_lock:
                conn.execute("BEGIN IMMEDIATE")
                tx = Tx(conn, "sqlite", self)
                try:
                    yield tx
                    tx._finish()
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            tx._committed()
        elif self.dialect == "sqlite":
            with self._grouped() as tx:
                yield tx
        else:
            with self._pool.connection() as pconn:
                self._pg_limit(pconn)  # outside the transaction: a rollback would undo the SET
                with pconn.transaction():
                    tx = Tx(pconn, "postgresql", self)
                    yield tx
                    tx._finish()
            tx._committed()

    @contextmanager
    def _grouped(self) -> Iterator[Tx]:
        """One SQLite write transaction, committed together with the writers queued behind it.

        The lock holder runs its work inside a savepoint on the shared writer connection (undone
        alone if it fails). If another writer is already waiting for the lock, it hands the still
        open transaction over and waits; the last writer of the group commits for everyone (one
        fsync instead of one each). Nobody returns before that commit, and if it fails every
        member fails, so an acknowledged write is always a durable one.
        """
        with self._waiting_lock:
            self._waiting += 1
        self._write_lock.acquire()
        with self._waiting_lock:
            self._waiting -= 1
        holding = True
        try:
            if self._writer is None:
                self._writer = self._connect()
            conn = self._writer
            group = self._group
            if group is None:
                self._between_processes(lock=True)
                try:
                    conn.execute("BEGIN IMMEDIATE")
                except BaseException:
                    self._between_processes(lock=False)
                    raise
                group = self._group = _Group()
            failure: BaseException | None = None
            tx = Tx(conn, "sqlite", self)
            try:
                conn.execute("SAVEPOINT unit")
                try:
                    yield tx
                    tx._finish()
                except BaseException as e:
                    failure = e
                    conn.execute("ROLLBACK TO unit")
                conn.execute("RELEASE unit")
            except BaseException as e:
                # The transaction itself is broken (I/O error, disk full): the whole group is lost.
                self._abort(conn, group, e)
                raise
            group.size += 1
            if self._waiting and group.size < self._max_group:
                holding = False
                self._write_lock.release()
                group.done.wait()
                if failure is not None:
                    raise failure
                if group.error is not None:
                    raise GroupCommitFailed(f"the shared commit failed: {group.error}") from group.error
                tx._committed()
                return
            self._group = None
            try:
                conn.execute("COMMIT")
            except BaseException as e:
                self._abort(conn, group, e)
                raise
            self._between_processes(lock=False)
            group.done.set()
            if failure is not None:
                raise failure
            holding = False
            self._write_lock.release()
            tx._committed()
        finally:
            if holding:
                self._write_lock.release()

    def _abort(self, conn: sqlite3.Connection, group: _Group, error: BaseException) -> None:
        self._group = None
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        self._between_processes(lock=False)
        group.error = error
        group.done.set()

    def _between_processes(self, *, lock: bool) -> None:
        """Take or drop an exclusive lock on `<db>-writelock` around a group's transaction.

        Server processes on one file (`--workers`) then queue for the write lock in the kernel and
        are woken as soon as it is free, instead of SQLite's busy handler sleeping and retrying
        (up to 100 ms at a time, long enough for one busy process to starve the others). Other
        programs on the file still meet SQLite's own locking and busy timeout.
        """
        if fcntl is None or self.path == ":memory:":
            return
        if self._lock_fd is None:
            if not lock:
                return
            self._lock_fd = os.open(self.path + "-writelock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX if lock else fcntl.LOCK_UN)

    def integrity_check(self) -> str:
        """SQLite's own integrity check ('ok' when sound); PostgreSQL answers 'ok' when reachable."""
        with self.read() as tx:
            if self.dialect == "sqlite":
                return str(tx.scalar("PRAGMA integrity_check"))
            tx.scalar("SELECT 1")
            return "ok"

    def on_close(self, fn: Callable[[], None]) -> None:
        """Run `fn` when this database is closed: for connections of their own that per-database
        helpers keep beside the pool (a cache's clock probe), so none outlives it."""
        self._closers.append(fn)

    def close(self) -> None:
        closers, self._closers = self._closers, []
        for fn in closers:
            fn()
        if self.dialect == "postgresql":
            self._pool.close()
        else:
            with self._all_lock:
                for conn in self._all:
                    try:
                        conn.close()
                    except sqlite3.Error:
                        pass
                self._all.clear()
            self._local = threading.local()
            self._writer = None
            self._group = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
