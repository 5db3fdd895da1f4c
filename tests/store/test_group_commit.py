"""Concurrent write transactions: each is all-or-nothing and durable once it returns, also when SQLite
lets the writers queued behind each other share one commit."""

from __future__ import annotations

import random
import threading

import pytest

from stackyard.store.engine import Database

THREADS, WRITES = 12, 60


class Boom(Exception):
    pass


def test_concurrent_writes_keep_their_own_outcome(db: Database) -> None:
    # given a table and a counter every write bumps
    with db.write() as tx:
        tx.run("CREATE TABLE gc_items (k TEXT PRIMARY KEY)")
        tx.run("CREATE TABLE gc_counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        tx.run("INSERT INTO gc_counter (id, n) VALUES (1, 0)")
    done: list[str] = []
    failed: list[str] = []
    lock = threading.Lock()
    rng = random.Random(7)
    plans = [[rng.random() for _ in range(WRITES)] for _ in range(THREADS)]

    def writer(w: int) -> None:
        for i, roll in enumerate(plans[w]):
            key = f"{w}-{i}"
            try:
                with db.write() as tx:
                    tx.run("INSERT INTO gc_items (k) VALUES (?)", key)
                    tx.run("UPDATE gc_counter SET n = n + 1 WHERE id = 1")
                    if roll < 0.1:
                        raise Boom  # the handler fails after writing
                    if roll < 0.15:
                        tx.run("INSERT INTO gc_items (k) VALUES (?)", key)  # a constraint error
            except Boom:
                with lock:
                    failed.append(key)
            except Exception as e:
                assert "unique" in str(e).lower() or "duplicate" in str(e).lower(), e
                with lock:
                    failed.append(key)
            else:
                with lock:
                    done.append(key)

    # when many threads write at once, some of them failing half-way
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # then exactly the writes that returned are stored, and none of a failed one is
    with db.read() as tx:
        stored = {r["k"] for r in tx.all("SELECT k FROM gc_items")}
        count = tx.scalar("SELECT n FROM gc_counter WHERE id = 1")
    with db.write() as tx:  # PostgreSQL's test database outlives this test
        tx.run("DROP TABLE gc_items")
        tx.run("DROP TABLE gc_counter")
    assert failed and done
    assert stored == set(done)
    assert count == len(done)
    assert db.integrity_check() == "ok"


def test_a_write_that_fails_alone_leaves_the_next_one_working(tmp_path) -> None:
    # given SQLite with grouping on, a write that raises inside its transaction
    db = Database(f"sqlite:///{tmp_path}/g.db", group_commit=8)
    try:
        with db.write() as tx:
            tx.run("CREATE TABLE g (k TEXT PRIMARY KEY)")
        with pytest.raises(Boom), db.write() as tx:
            tx.run("INSERT INTO g (k) VALUES ('lost')")
            raise Boom
        # when the next write runs, then it commits and the failed one left nothing behind
        with db.write() as tx:
            tx.run("INSERT INTO g (k) VALUES ('kept')")
        fresh = Database(f"sqlite:///{tmp_path}/g.db")
        try:
            with fresh.read() as tx:
                assert [r["k"] for r in tx.all("SELECT k FROM g")] == ["kept"]
        finally:
            fresh.close()
    finally:
        db.close()


def test_two_handles_on_one_file_take_turns(tmp_path) -> None:
    # given two handles on one SQLite file, as two server processes (--workers 2) have
    url = f"sqlite:///{tmp_path}/two.db"
    first, second = Database(url), Database(url)
    try:
        with first.write() as tx:
            tx.run("CREATE TABLE two (k TEXT PRIMARY KEY)")
        stored: list[str] = []
        lock = threading.Lock()

        def writer(db: Database, name: str) -> None:
            for i in range(40):
                try:
                    with db.write() as tx:
                        tx.run("INSERT INTO two (k) VALUES (?)", f"{name}-{i}")
                        if i % 7 == 0:
                            raise Boom  # a failed group member must not keep the other handle waiting
                except Boom:
                    continue
                with lock:
                    stored.append(f"{name}-{i}")

        # when threads write through both at once, some failing
        threads = [
            threading.Thread(target=writer, args=(db, f"{n}{t}"))
            for n, db in (("a", first), ("b", second))
            for t in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads), "a writer is stuck"
        # then both handles see exactly the writes that returned
        for db in (first, second):
            with db.read() as tx:
                assert {r["k"] for r in tx.all("SELECT k FROM two")} == set(stored)
    finally:
        first.close()
        second.close()
