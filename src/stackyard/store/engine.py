"""Database engines behind one small interface.

SQLite (the embedded default) runs in WAL mode with synchronous=FULL and a busy timeout; all
writes in a process go through one lock, so there is one writer. Writers that queue up behind each
other share one commit (group commit, see `Database.write`): each keeps its own all-or-nothing
savepoint, and none returns before the fsync that makes it durable. PostgreSQL uses a connection
pool. SQL is written once with `?` placeholders; `Tx` rewrites them for psycopg.

    with db.write() as tx:
        tx.run("UPDATE environments SET name = ? WHERE uid = ?", name, uid)
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

try:
    import fcntl
except ImportError:  # not POSIX: processes sharing a file meet only SQLite's busy timeout
    fcntl = None  # type: ignore[assignment]

Row = dict[str, Any]


def jload(value: Any) -> Any:
    """Decode a JSON column: SQLite hands back text, PostgreSQL's JSONB is already decoded."""
    if isinstance(value, str | bytes):
        return json.loads(value)
    return value


def jdump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@lru_cache(maxsize=4096)
def _to_pyformat(sql: str) -> str:
    """`?` placeholders to psycopg's `%s`, escaping literal percent signs. `?` never occurs in our SQL otherwise."""
    return sql.replace("%", "%%").replace("?", "%s")


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


# Prepared statements kept per connection. The app has a few hundred distinct statements (more with
# the query compiler); the drivers' defaults (SQLite 128, psycopg 100) would keep re-preparing them.
STATEMENT_CACHE = 1024


def _configure_pg(conn: Any) -> None:
    conn.prepared_max = STATEMENT_CACHE


class Tx:
    """One transaction. Methods take SQL with `?` placeholders and positional parameters.

    A write transaction also carries work to do at its end: `before_commit` callbacks run last
    inside it (the event spine appends its buffered events there, so the counters it locks are held
    only for the commit), `after_commit` callbacks once it is durable (waking consumers).

    `db` is the Database it runs on (per-process caches hang off it, `core.cache`); `reading` is
    true for `Database.read()` transactions, the only ones such caches serve and fill: a write
    transaction reads its own uncommitted changes, which may yet roll back.
    """

    def __init__(self, conn: Any, dialect: str, db: Database | None = None, *, reading: bool = False) -> None:
        self._conn = conn
        self.dialect = dialect
        self.db = db
        self.reading = reading
        self.state: dict[str, Any] = {}
        self._before: dict[str, Callable[[Tx], object]] = {}
        self._after: list[Callable[[], None]] = []

    def before_commit(self, key: str, fn: Callable[[Tx], object]) -> None:
        """Run `fn(tx)` at the end of this transaction, inside it; once per `key`."""
        self._before.setdefault(key, fn)

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run `fn()` once this transaction is committed (never if it rolls back)."""
        self._after.append(fn)

    def _finish(self) -> None:
        while self._before:
            key = next(iter(self._before))
            self._before.pop(key)(self)

    def _committed(self) -> None:
        for fn in self._after:
            try:
                fn()
            except Exception:  # a wake-up that fails must not turn a durable write into an error
                logging.getLogger("stackyard.store").exception("after-commit callback failed")
        self._after.clear()

    def _exec(self, sql: str, params: tuple[Any, ...]) -> Any:
        if self.dialect == "postgresql":
            return self._conn.execute(_to_pyformat(sql), params)
        return self._conn.execute(sql, params)

    def all(self, sql: str, *params: Any) -> list[Row]:
        cur = self._exec(sql, params)
        rows = cur.fetchall()
        if self.dialect == "sqlite":
            return [dict(r) for r in rows]
        return list(rows)

    def one(self, sql: str, *params: Any) -> Row | None:
        cur = self._exec(sql, params)
        row = cur.fetchone()
        if row is None:
            return None
        return dict(row) if self.dialect == "sqlite" else row

    def scalar(self, sql: str, *params: Any) -> Any:
        row = self.one(sql, *params)
        if row is None:
            return None
        return next(iter(row.values()))

    def page(
        self,
        table: str,
        where: str,
        params: tuple[Any, ...],
        order: str,
        skip: int,
        limit: int,
        *,
        count: bool = False,
    ) -> tuple[list[Row], int | None]:
        """One page of `table`'s rows matching `where` in `order`, and, with `count`, how many match
        in all (None without). Counting visits every matching row, however small the page, so lists
        count only when the client asks (`include_count=true`, the only time Contentstack answers `count`).

        `table`, `where` and `order` are SQL written by the caller (never user text); values go in `params`.
        """
        total = self.scalar(f"SELECT COUNT(*) AS n FROM {table} WHERE {where}", *params) if count else None
        rows = self.all(
            f"SELECT * FROM {table} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?", *params, limit, skip
        )
        return rows, (int(total or 0) if count else None)

    def run(self, sql: str, *params: Any) -> int:
        """Execute a statement; answers the number of rows it touched."""
        cur = self._exec(sql, params)
        return int(cur.rowcount)

    def run_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Execute one statement for each parameter tuple (one round of the driver, not one per row)."""
        if not rows:
            return
        if self.dialect == "postgresql":
            with self._conn.cursor() as cur:
                cur.executemany(_to_pyformat(sql), rows)
        else:
            self._conn.executemany(sql, rows)

    def script(self, sql: str) -> None:
        for statement in split_statements(sql):
            self._conn.execute(statement)


def split_statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";\n") if _has_code(s)]


def _has_code(s: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in s.splitlines())


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

    def __init__(self, url: str, *, pool_size: int = 16, group_commit: int = 32) -> None:
        """`group_commit`: most SQLite write transactions that may share one commit (1 turns it off)."""
        self.url = url
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
        )
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
            try:
                yield Tx(conn, "sqlite", self, reading=True)
            finally:
                conn.execute("COMMIT")
        else:
            with self._pool.connection() as pconn:
                yield Tx(pconn, "postgresql", self, reading=True)

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
            with self._pool.connection() as pconn, pconn.transaction():
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

    def close(self) -> None:
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
