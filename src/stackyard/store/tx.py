"""One transaction: statements with `?` placeholders (rewritten for psycopg), their time limit, and
the work a transaction does at its end (`before_commit`, `after_commit`). `Database` (engine.py)
opens them.

Every statement has a time limit, `query_timeout_ms` (see `Database.limit_queries`); one that runs
past it is stopped and answers a 503 (error_code 503), and its connection stays usable. On
PostgreSQL that is the connection's `statement_timeout`. On SQLite it is a progress handler that
interrupts statements of read transactions: reads are what run on the event loop, and an
interrupted write statement would roll back the whole transaction, with the other writes sharing
its group commit (writes run on worker threads, one at a time). Work that may take long, such as
migrations and background jobs, runs inside `unlimited_queries()`.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

import orjson

from stackyard.errors import ServerError

Row = dict[str, Any]


def jload(value: Any) -> Any:
    """Decode a JSON column: SQLite hands back text, PostgreSQL's JSONB is already decoded."""
    if isinstance(value, str | bytes):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:  # what only Python's parser reads (integers past 64 bits)
            return json.loads(value)
    return value


# orjson refuses these types (so the standard library is asked, and refuses them too, as before).
_NOT_NATIVE = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
# A float orjson writes otherwise than Python's repr: below 1e-4 (orjson `0.00001`, repr `1e-05`)
# or with a one-digit negative exponent (`1e-7`, repr `1e-07`). Every other number, and every
# string, is written alike by both. `_repr_differs` finds those forms by their literal part (fast
# scans), then looks behind for the start of a number: text in a string that looks like one (`a:1e-5`)
# only costs a second encoding, and hex ids or timestamps (`...5e-6`, `12:50.000012Z`) none.
_SMALL_FLOAT = b"0.0000"
_SHORT_EXPONENT = re.compile(rb"e-[0-9](?![0-9])")
_MANTISSA = frozenset(b"0123456789.")
_BEFORE_NUMBER = frozenset(b":,[")


def _number_starts(out: bytes, at: int) -> bool:
    """Does a JSON number start at `at` (after `:`, `,` or `[`, or at the very start; a minus sign
    before it belongs to it)?"""
    if at > 0 and out[at - 1] == 0x2D:  # "-"
        at -= 1
    return at == 0 or out[at - 1] in _BEFORE_NUMBER


def _repr_differs(out: bytes) -> bool:
    """Might orjson's text `out` hold a float Python's repr writes otherwise?"""
    at = out.find(_SMALL_FLOAT)
    while at >= 0:
        if _number_starts(out, at):
            return True
        at = out.find(_SMALL_FLOAT, at + 1)
    if b"e-" not in out:
        return False
    for found in _SHORT_EXPONENT.finditer(out):
        start = found.start()
        while start > 0 and out[start - 1] in _MANTISSA:
            start -= 1
        if start < found.start() and _number_starts(out, start):
            return True
    return False


def jdump(value: Any) -> str:
    """A JSON column's text: compact, UTF-8, keys in order, exactly what
    `json.dumps(value, separators=(",", ":"), ensure_ascii=False)` writes (stored bytes do not
    change), made by orjson (about a tenth of the time for an execution's document). What orjson
    refuses (integers past 64 bits, non-string keys, unpaired surrogates, deep nesting) or writes
    otherwise (`_repr_differs`: some small floats) is written by the standard library. The one
    value written differently: a float NaN or infinity becomes null (input never holds one, see
    `core.json_input`, and PostgreSQL's JSON types refuse them)."""
    try:
        out = orjson.dumps(value, option=_NOT_NATIVE)
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if _repr_differs(out):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return out.decode()


@lru_cache(maxsize=4096)
def _to_pyformat(sql: str) -> str:
    """`?` placeholders to psycopg's `%s`, escaping literal percent signs. `?` never occurs in our SQL otherwise."""
    return sql.replace("%", "%%").replace("?", "%s")


_UNLIMITED: ContextVar[bool] = ContextVar("stackyard_unlimited_queries", default=False)


@contextmanager
def unlimited_queries() -> Iterator[None]:
    """Run work whose statements may take longer than `query_timeout_ms` (migrations, jobs)."""
    token = _UNLIMITED.set(True)
    try:
        yield
    finally:
        _UNLIMITED.reset(token)


def query_timeout(limit_ms: int) -> ServerError:
    """The answer to a statement stopped at its time limit: 503, the server gave up on it."""
    return ServerError(
        f"The query took longer than the {limit_ms} ms the server allows (query_timeout_ms). "
        "Narrow it (fewer or simpler conditions, a lower limit) and try again.",
        error_code=503,
        errors={"query": [f"took longer than {limit_ms} ms."]},
    )


# SQLite virtual machine steps between looks at the clock: ~0.1-1 ms of work, too rare to cost.
PROGRESS_STEPS = 10_000


class _Clock:
    """The deadline of the statement running on one SQLite connection (None: no limit)."""

    __slots__ = ("deadline",)

    def __init__(self) -> None:
        self.deadline: float | None = None

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline


class _Connection(sqlite3.Connection):
    clock: _Clock


class _Statement:
    """Around one statement and its fetch: arms the SQLite deadline, turns a stop into a 503."""

    __slots__ = ("limit_ms", "tx")

    def __init__(self, tx: Tx, limit_ms: int) -> None:
        self.tx = tx
        self.limit_ms = limit_ms

    def __enter__(self) -> None:
        if self.limit_ms and self.tx.dialect == "sqlite":
            self.tx._conn.clock.deadline = time.monotonic() + self.limit_ms / 1000

    def __exit__(self, kind: Any, error: BaseException | None, tb: Any) -> None:
        if self.limit_ms and self.tx.dialect == "sqlite":
            self.tx._conn.clock.deadline = None
        if error is None:
            return
        if isinstance(error, sqlite3.OperationalError) and str(error) == "interrupted" and self.limit_ms:
            raise query_timeout(self.limit_ms) from error
        if getattr(error, "sqlstate", None) == "57014":  # PostgreSQL query_canceled: statement_timeout
            raise query_timeout(self.tx.db.query_timeout_ms if self.tx.db else 0) from error


class Tx:
    """One transaction. Methods take SQL with `?` placeholders and positional parameters.

    A write transaction also carries work to do at its end: `before_commit` callbacks run last
    inside it (the event spine appends its buffered events there, so the counters it locks are held
    only for the commit), `after_commit` callbacks once it is durable (waking consumers).

    `db` is the Database it runs on (per-process caches hang off it, `core.cache`); `reading` is
    true for `Database.read()` transactions, the only ones such caches serve and fill: a write
    transaction reads its own uncommitted changes, which may yet roll back.
    """

    def __init__(
        self, conn: Any, dialect: str, db: Any = None, *, reading: bool = False, limit_ms: int = 0
    ) -> None:
        self._conn = conn
        self.dialect = dialect
        self.db = db
        self.reading = reading
        self.state: dict[str, Any] = {}
        # `limit_ms` arms SQLite's deadline per statement; PostgreSQL's is the connection's own.
        self._statement = _Statement(self, limit_ms)
        self._before: dict[str, Callable[[Tx], object]] = {}
        self._after: dict[str, Callable[[], None]] = {}

    @property
    def for_update(self) -> str:
        """`" FOR UPDATE"` on PostgreSQL, to end a SELECT of rows this transaction goes on to change
        (a concurrent writer of them waits for its commit); `""` on SQLite, whose one writer holds
        the whole database already."""
        return " FOR UPDATE" if self.dialect == "postgresql" else ""

    def before_commit(self, key: str, fn: Callable[[Tx], object]) -> None:
        """Run `fn(tx)` at the end of this transaction, inside it; once per `key`."""
        self._before.setdefault(key, fn)

    def after_commit(self, key: str, fn: Callable[[], None]) -> None:
        """Run `fn()` once this transaction is committed (never if it rolls back); once per `key`."""
        self._after.setdefault(key, fn)

    def _finish(self) -> None:
        while self._before:
            key = next(iter(self._before))
            self._before.pop(key)(self)

    def _committed(self) -> None:
        for fn in self._after.values():
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
        with self._statement:
            rows = self._exec(sql, params).fetchall()
        if self.dialect == "sqlite":
            return [dict(r) for r in rows]
        return list(rows)

    def one(self, sql: str, *params: Any) -> Row | None:
        with self._statement:
            row = self._exec(sql, params).fetchone()
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
        with self._statement:
            return int(self._exec(sql, params).rowcount)

    def run_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Execute one statement for each parameter tuple (one round of the driver, not one per row)."""
        if not rows:
            return
        with self._statement:
            if self.dialect == "postgresql":
                with self._conn.cursor() as cur:
                    cur.executemany(_to_pyformat(sql), rows)
            else:
                self._conn.executemany(sql, rows)

    @contextmanager
    def savepoint(self, name: str = "part") -> Iterator[None]:
        """Undo only this block's writes when it raises (the exception goes on): a bulk job's item that
        fails leaves the items before it standing. Writes buffered in `state` for the commit (events,
        audit entries) are cut back to where they stood, so nothing undone is recorded either."""
        marks = {k: len(v) for k, v in self.state.items() if isinstance(v, list)}
        self.run(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.run(f"ROLLBACK TO SAVEPOINT {name}")
            self.run(f"RELEASE SAVEPOINT {name}")
            for key, value in self.state.items():
                if isinstance(value, list):
                    del value[marks.get(key, 0) :]
            raise
        self.run(f"RELEASE SAVEPOINT {name}")

    def script(self, sql: str) -> None:
        for statement in split_statements(sql):
            self._conn.execute(statement)


def split_statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";\n") if _has_code(s)]


def _has_code(s: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in s.splitlines())
