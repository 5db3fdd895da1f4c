"""Wake-ups: a commit in this process or in another one wakes a waiting consumer; on PostgreSQL by
LISTEN with no query while idle, on SQLite by a change check that reads the clock only on a change;
sources start and stop cleanly and come back after a lost connection."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from stackyard.core import events
from stackyard.core.wakeup import Wakeup
from stackyard.settings import Settings
from stackyard.store.engine import Database
from tests.core.consumer_proc import Stack, make_stack, record
from tests.core.test_consumers import wait_for

PROC = Path(__file__).with_name("consumer_proc.py")


def write(db: Database, stack: Stack, count: int = 1) -> None:
    with db.write() as tx:
        record(tx, stack, count)


def later(seconds: float, fn: Callable[..., object], *args: object) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        fn(*args)

    t = threading.Thread(target=run)
    t.start()
    return t


def listener_backends(db: Database) -> list[dict]:
    with db.read() as tx:
        return tx.all(
            "SELECT pid, state, query, query_start FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = 'stackyard-wakeup'"
        )


def test_a_commit_in_this_process_wakes_a_waiter(db: Database) -> None:
    stack = make_stack(db)
    write(db, stack, 2)
    with Wakeup(db) as wakeup:
        # given the log's head, read at start
        assert wakeup.latest == 2
        # then a waiter for something older returns at once, and one for something newer times out
        assert wakeup.wait(1, timeout=5) == 2
        t0 = time.monotonic()
        assert wakeup.wait(2, timeout=0.2) == 2
        assert time.monotonic() - t0 >= 0.19
        # when a commit appends three events while a waiter waits
        t = later(0.1, write, db, stack, 3)
        t0 = time.monotonic()
        woke = wakeup.wait(2, timeout=10)
        t.join()
        # then it wakes with the newest position, soon after
        assert woke == 5
        assert time.monotonic() - t0 < 2
    assert wakeup.notify not in events.committed_listeners


def test_a_rolled_back_write_wakes_nobody(db: Database) -> None:
    stack = make_stack(db)
    with Wakeup(db, cross_process=False) as wakeup:
        with pytest.raises(RuntimeError), db.write() as tx:
            record(tx, stack, 2)
            raise RuntimeError("rolled back")
        assert wakeup.wait(0, timeout=0.3) == 0


def test_poke_releases_waiters_and_until_decides_who_stays(db: Database) -> None:
    with Wakeup(db, cross_process=False) as wakeup:
        stopping = threading.Event()
        results: list[int] = []
        waiters = [
            threading.Thread(target=lambda: results.append(wakeup.wait(0, timeout=10))),
            threading.Thread(
                target=lambda: results.append(wakeup.wait(0, timeout=10, until=stopping.is_set))
            ),
        ]
        for w in waiters:
            w.start()
        time.sleep(0.1)
        wakeup.poke()
        waiters[0].join(2)
        assert not waiters[0].is_alive()
        assert waiters[1].is_alive()  # its until() is still false
        stopping.set()
        wakeup.poke()
        waiters[1].join(2)
        assert not waiters[1].is_alive()
        assert results == [0, 0]


def test_an_event_loop_waits_without_a_thread(db: Database) -> None:
    stack = make_stack(db)

    async def main(wakeup: Wakeup) -> tuple[int, int, float]:
        t = later(0.1, write, db, stack, 2)
        t0 = time.monotonic()
        woke = await wakeup.wait_async(0, timeout=10)
        elapsed = time.monotonic() - t0
        await asyncio.to_thread(t.join)
        timed_out = await wakeup.wait_async(woke, timeout=0.1)
        poker = later(0.1, wakeup.poke)
        t1 = time.monotonic()
        assert await wakeup.wait_async(woke, timeout=10) == woke  # released by a poke, without news
        assert time.monotonic() - t1 < 2
        await asyncio.to_thread(poker.join)
        return woke, timed_out, elapsed

    with Wakeup(db, cross_process=False) as wakeup:
        woke, timed_out, elapsed = asyncio.run(main(wakeup))
        assert not wakeup._futures
    assert (woke, timed_out) == (2, 2)
    assert elapsed < 2


def test_a_commit_in_another_process_wakes_a_waiter(db: Database) -> None:
    # given a stack, and two wake-up sources here: one watching other processes, one only this one
    stack = make_stack(db)
    write(db, stack)
    with Wakeup(db, change_check_ms=2) as across, Wakeup(db, cross_process=False) as local:
        assert across.latest == local.latest == 1
        # when another process commits ten events
        writer = subprocess.Popen(
            [sys.executable, str(PROC), "write", db.url, stack.api_key, "10"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        woke = across.wait(1, timeout=30)
        t_woke = time.monotonic()
        out, err = writer.communicate(timeout=30)
        assert writer.returncode == 0, err.decode()[-2000:]
        # then the first commit woke the cross-process waiter, and it comes to know the last one
        assert woke >= 2
        assert wait_for(lambda: across.latest == 11, timeout=5, what="the last event")
        assert int(out) == 11
        assert time.monotonic() - t_woke < 30
        # and the in-process source alone heard nothing of it
        assert local.latest == 1


def test_postgresql_listens_without_polling(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    with Wakeup(db, check_seconds=30) as wakeup:
        # given the listener connection, idle after LISTEN and its look at the clock
        [backend] = listener_backends(db)
        assert (backend["state"], backend["query"]) == ("idle", "SELECT gseq FROM event_clock WHERE id = 1")
        reads = wakeup.stats["clock_reads"]
        # when nothing happens for a second
        time.sleep(1.0)
        # then it ran no statement at all
        [again] = listener_backends(db)
        assert again["query_start"] == backend["query_start"]
        assert wakeup.stats["clock_reads"] == reads
        # and a notification from another connection wakes a waiter at once
        import psycopg

        with psycopg.connect(db.url, autocommit=True) as other:
            other.execute(f"NOTIFY {events.CHANNEL}, '41'")
        assert wakeup.wait(0, timeout=5) == 41
        assert wakeup.stats["notifications"] == 1
    # and stopping closes the connection
    assert wait_for(lambda: not listener_backends(db), timeout=5, what="the listener to disconnect")


def test_postgresql_listens_again_after_losing_its_connection(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    stack = make_stack(db)
    import psycopg

    with Wakeup(db, retry_seconds=0.05) as wakeup, psycopg.connect(db.url, autocommit=True) as other:
        [backend] = listener_backends(db)
        # when the server drops the listener's connection, and something commits meanwhile
        other.execute("SELECT pg_terminate_backend(%s)", (backend["pid"],))
        events.committed_listeners.remove(wakeup.notify)  # hear it only through the database
        try:
            write(db, stack, 3)
            # then it reconnects, catches up from the clock, and hears later notifications again
            assert wakeup.wait(0, timeout=10) == 3
            wait_for(lambda: wakeup.stats["connects"] == 2, what="a second connection")
            other.execute(f"NOTIFY {events.CHANNEL}, '99'")
            assert wakeup.wait(3, timeout=5) == 99
        finally:
            events.committed_listeners.append(wakeup.notify)


def test_sqlite_reads_the_clock_only_when_the_file_changed(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the change check is SQLite's")
    with Wakeup(db, change_check_ms=2) as wakeup:
        time.sleep(0.1)
        checks, reads = wakeup.stats["checks"], wakeup.stats["clock_reads"]
        # when nothing commits for a while
        time.sleep(0.3)
        # then it checked often and read the clock never
        assert wakeup.stats["checks"] - checks >= 20
        assert wakeup.stats["clock_reads"] == reads
    assert wakeup._thread is None


def test_start_and_stop(db: Database) -> None:
    before = threading.active_count()
    wakeup = Wakeup(db)
    wakeup.start()
    assert wakeup.notify in events.committed_listeners
    with pytest.raises(RuntimeError):
        wakeup.start()
    thread = wakeup._thread
    assert thread is not None and thread.is_alive()
    wakeup.stop()
    assert not thread.is_alive()
    assert wakeup.notify not in events.committed_listeners
    assert wakeup._pipe is None
    assert threading.active_count() == before
    with pytest.raises(RuntimeError):
        wakeup.start()


def test_from_settings() -> None:
    s = Settings(sqlite_change_check_ms=9, event_check_seconds=4.0, event_listen_retry_seconds=0.5)
    db = Database("sqlite:///:memory:")
    try:
        w = Wakeup.from_settings(db, s)
        assert (w.change_check_ms, w.check_seconds, w.retry_seconds) == (9, 4.0, 0.5)
        with pytest.raises(ValueError):
            Wakeup(db, change_check_ms=0)
    finally:
        db.close()
