"""Database engines behind one small interface.

SQLite (the embedded default) runs in WAL mode with synchronous=FULL and a busy timeout; all
writes in a process go through one lock, so there is one writer. PostgreSQL uses a connection
pool. SQL is written once with `?` placeholders; `Tx` rewrites them for psycopg.

    with db.write() as tx:
        tx.run("UPDATE environments SET name = ? WHERE uid = ?", name, uid)
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

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


class Tx:
    """One transaction. Methods take SQL with `?` placeholders and positional parameters."""

    def __init__(self, conn: Any, dialect: str) -> None:
        self._conn = conn
        self.dialect = dialect

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

    def run(self, sql: str, *params: Any) -> int:
        """Execute a statement; answers the number of rows it touched."""
        cur = self._exec(sql, params)
        return int(cur.rowcount)

    def script(self, sql: str) -> None:
        for statement in split_statements(sql):
            self._conn.execute(statement)


def split_statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";\n") if _has_code(s)]


def _has_code(s: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in s.splitlines())


class Database:
    """A database by URL: `sqlite:///path/file.db` or `postgresql://...`."""

    def __init__(self, url: str, *, pool_size: int = 16) -> None:
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
                kwargs={"row_factory": dict_row, "autocommit": False},
                open=True,
            )
        elif parsed.scheme == "sqlite":
            self.dialect = "sqlite"
            path = unquote(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else parsed.path
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.path = path
            self._local = threading.local()
            self._write_lock = threading.Lock()
            self._all: list[sqlite3.Connection] = []
            self._all_lock = threading.Lock()
        else:
            raise ValueError(f"unsupported database URL {url!r}: use sqlite:///file or postgresql://...")

    # -- SQLite connections: one per thread, shared writer lock --------------------------------
    def _sqlite(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only transaction with a consistent snapshot."""
        if self.dialect == "sqlite":
            conn = self._sqlite()
            conn.execute("BEGIN")
            try:
                yield Tx(conn, "sqlite")
            finally:
                conn.execute("COMMIT")
        else:
            with self._pool.connection() as pconn, pconn.transaction():
                yield Tx(pconn, "postgresql")

    @property
    def reads_are_local(self) -> bool:
        """Reads are in-process file reads (SQLite), cheap enough to run on the event loop."""
        return self.dialect == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """A write transaction: all of it commits, or none of it does."""
        if _READS_ONLY.get():
            raise NeedsThread
        if self.dialect == "sqlite":
            conn = self._sqlite()
            with self._write_lock:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield Tx(conn, "sqlite")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
        else:
            with self._pool.connection() as pconn, pconn.transaction():
                yield Tx(pconn, "postgresql")

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
