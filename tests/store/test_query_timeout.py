"""Every statement has a time limit (`query_timeout_ms`): one that runs past it answers a 503 and
leaves its connection usable; `unlimited_queries()` (migrations, jobs) lifts the limit."""

from __future__ import annotations

import time

import pytest

from stackyard.errors import ServerError
from stackyard.store import migrations
from stackyard.store.engine import Database, unlimited_queries


def _count_to(n: int) -> str:
    return (
        "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < "
        f"{int(n)}) SELECT COUNT(*) AS n FROM r"
    )


def test_a_read_past_the_limit_is_stopped_with_a_503(db: Database) -> None:
    # given a limit of 100 ms
    db.limit_queries(100)
    # when a read runs for far longer
    started = time.monotonic()
    with pytest.raises(ServerError) as err, db.read() as tx:
        tx.scalar(_count_to(50_000_000))
    took = time.monotonic() - started
    # then it is stopped near the limit, with a 503 saying why
    assert took < 2, took
    assert err.value.status == 503 and err.value.error_code == 503
    assert "query_timeout_ms" in err.value.error_message
    # and the connection (the same thread's, or the pool's) serves the next read
    for _ in range(3):
        with db.read() as tx:
            assert tx.scalar("SELECT 1 AS one") == 1


def test_unlimited_work_and_migrations_are_not_cut(db: Database) -> None:
    db.limit_queries(1)
    with unlimited_queries(), db.read() as tx:
        assert tx.scalar(_count_to(300_000)) == 300_000
    assert migrations.upgrade(db) == []
    # and the limit is back for the next read
    with pytest.raises(ServerError), db.read() as tx:
        tx.scalar(_count_to(50_000_000))


def test_without_a_limit_nothing_is_stopped(db: Database) -> None:
    db.limit_queries(0)
    with db.read() as tx:
        assert tx.scalar(_count_to(300_000)) == 300_000


def test_on_postgresql_a_write_past_the_limit_rolls_back_alone(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite limits reads only: an interrupted write would roll back its whole commit group")
    db.limit_queries(100)
    with pytest.raises(ServerError), db.write() as tx:
        tx.run("CREATE TABLE IF NOT EXISTS slow_probe (n INTEGER)")
        tx.run(f"INSERT INTO slow_probe (n) {_count_to(50_000_000).replace('COUNT(*) AS n', 'i')}")
    with db.write() as tx:
        assert tx.scalar("SELECT to_regclass('slow_probe') IS NULL AS gone") is True
