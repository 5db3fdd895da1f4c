"""Consumers with durable cursors: the delivery contract of `core.consumers`, from the pure loop state
to real processes SIGKILLed again and again while a write burst goes on."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from stackyard.core import consumers, events
from stackyard.core.consumers import ALL, Consumer, Progress
from stackyard.core.wakeup import Wakeup
from stackyard.settings import Settings
from stackyard.store.engine import Database, Row, Tx
from tests.conftest import wait_for
from tests.core.consumer_proc import CONSUMED, Stack, make_stack, record

PROC = Path(__file__).with_name("consumer_proc.py")


def write(db: Database, stack: Stack, count: int = 1) -> None:
    with db.write() as tx:
        record(tx, stack, count)


def cursor(db: Database, name: str, api_key: str | None = None) -> int:
    with db.read() as tx:
        return consumers.position(tx, name, api_key=api_key)


# -- the loop's state, without a database ------------------------------------------------------------


def test_progress_acknowledges_the_last_position_of_a_batch_in_its_scope() -> None:
    batch = [{"gseq": 7, "seq": 2}, {"gseq": 9, "seq": 3}]
    assert Progress(ALL).upto(batch) == 9
    assert Progress("blt1").upto(batch) == 3
    assert Progress(ALL).upto([]) is None


def test_progress_never_moves_back() -> None:
    p = Progress(ALL)
    p.acked(5)
    p.acked(3)
    assert p.position == 5
    p.acked(8)
    assert p.position == 8


def test_progress_reads_on_a_newer_head_only_once_drained() -> None:
    p = Progress("blt1", batch=10)
    assert p.due(None) and p.due(4)  # never drained: look
    assert p.more(10) and not p.more(9)
    p.drained(4)
    assert not p.due(4) and not p.due(3)
    assert p.due(5)
    p.drained(2)  # an older snapshot never lowers it
    assert p.checked == 4
    assert p.due(None)  # no wake-up source: always look


def test_progress_backs_off_doubling_up_to_a_cap_and_resets_once_drained() -> None:
    p = Progress(ALL)
    assert [p.failed(0.5, 3.0) for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    p.drained(1)
    assert p.failed(0.5, 3.0) == 0.5


def test_a_batch_holds_at_least_one_event() -> None:
    with pytest.raises(ValueError):
        Progress(ALL, batch=0)


# -- cursors ---------------------------------------------------------------------------------------


def test_reading_after_the_cursor_for_one_stack_and_for_all(db: Database) -> None:
    # given events of two stacks, interleaved
    a, b = make_stack(db, "A"), make_stack(db, "B")
    write(db, a, 2)
    write(db, b, 1)
    write(db, a, 1)
    write(db, b, 2)
    with db.write() as tx:
        # when a consumer of stack A and one of all stacks read from scratch
        of_a = consumers.read(tx, "c", api_key=a.api_key)
        every = consumers.read(tx, "c")
        # then A's reader gets A's events by seq, the other all of them by gseq
        assert [(e["api_key"], e["seq"]) for e in of_a] == [(a.api_key, 1), (a.api_key, 2), (a.api_key, 3)]
        assert [e["gseq"] for e in every] == [1, 2, 3, 4, 5, 6]
        assert {e["type"] for e in every} == {"environment.create"}
        # and after acknowledging part of it, they get the rest, with limits
        consumers.ack(tx, "c", 2, api_key=a.api_key)
        consumers.ack(tx, "c", 4)
        assert [e["seq"] for e in consumers.read(tx, "c", api_key=a.api_key)] == [3]
        assert [e["gseq"] for e in consumers.read(tx, "c", limit=1)] == [5]
        assert [e["gseq"] for e in consumers.read(tx, "c", lock=True)] == [5, 6]
    assert cursor(db, "c", a.api_key) == 2
    assert cursor(db, "c") == 4
    assert cursor(db, "c", b.api_key) == 0


def test_ack_only_moves_forward(db: Database) -> None:
    with db.write() as tx:
        assert consumers.ack(tx, "c", 5) == 5
        assert consumers.ack(tx, "c", 3) == 5
        assert consumers.ack(tx, "c", 5) == 5
    with db.write() as tx:
        assert consumers.ack(tx, "c", 2) == 5
        assert consumers.ack(tx, "c", 9) == 9
        with pytest.raises(ValueError):
            consumers.ack(tx, "c", -1)
    assert cursor(db, "c") == 9


def test_two_consumers_have_independent_cursors(db: Database) -> None:
    stack = make_stack(db)
    write(db, stack, 4)
    with db.write() as tx:
        consumers.ack(tx, "delivery-cache", 3)
        consumers.ack(tx, "edge-purge", 1)
    with db.read() as tx:
        assert [e["gseq"] for e in consumers.read(tx, "delivery-cache")] == [4]
        assert [e["gseq"] for e in consumers.read(tx, "edge-purge")] == [2, 3, 4]
        assert [e["gseq"] for e in consumers.read(tx, "automation-triggers")] == [1, 2, 3, 4]


def test_an_ack_in_the_callers_transaction_rolls_back_with_it(db: Database) -> None:
    stack = make_stack(db)
    write(db, stack, 3)
    with db.write() as tx:
        consumers.ack(tx, "c", 1)

    # when a transaction acknowledges, writes its effect, and then fails
    with pytest.raises(RuntimeError), db.write() as tx:
        batch = consumers.read(tx, "c", lock=True)
        consumers.ack(tx, "c", batch[-1]["gseq"])
        tx.run("UPDATE stacks SET name = 'changed' WHERE api_key = ?", stack.api_key)
        raise RuntimeError("the handler failed")

    # then neither the effect nor the acknowledgement is stored: the events come again
    assert cursor(db, "c") == 1
    with db.read() as tx:
        assert tx.scalar("SELECT name FROM stacks WHERE api_key = ?", stack.api_key) == "Test stack"
        assert [e["gseq"] for e in consumers.read(tx, "c")] == [2, 3]


def test_a_new_consumer_starts_at_the_beginning_or_at_the_head(db: Database) -> None:
    a, b = make_stack(db, "A"), make_stack(db, "B")
    write(db, a, 3)
    write(db, b, 2)
    with db.write() as tx:
        assert consumers.subscribe(tx, "replay") == 0
        assert consumers.subscribe(tx, "new", start="latest") == 5
        assert consumers.subscribe(tx, "new-a", api_key=a.api_key, start="latest") == 3
        assert consumers.subscribe(tx, "new", start="earliest") == 5  # it exists: unchanged
        with pytest.raises(ValueError):
            consumers.subscribe(tx, "x", start="middle")  # type: ignore[arg-type]
    write(db, a, 1)
    with db.read() as tx:
        assert [e["gseq"] for e in consumers.read(tx, "new")] == [6]
        assert [e["seq"] for e in consumers.read(tx, "new-a", api_key=a.api_key)] == [4]
        assert len(consumers.read(tx, "replay")) == 6


# -- the Consumer loop ------------------------------------------------------------------------------


def test_run_once_handles_a_batch_and_acknowledges_it(db: Database) -> None:
    stack = make_stack(db)
    write(db, stack, 5)
    seen: list[list[int]] = []
    c = Consumer(db, "c", handle=lambda batch: seen.append([e["gseq"] for e in batch]), batch=2)
    assert c.run_once() == 2
    assert cursor(db, "c") == 2
    assert c.drain() == 3
    assert c.run_once() == 0
    assert seen == [[1, 2], [3, 4], [5]]
    assert cursor(db, "c") == c.position == 5


def test_a_failing_handler_gets_the_same_events_again(db: Database) -> None:
    stack = make_stack(db)
    write(db, stack, 2)
    calls: list[list[int]] = []

    def flaky(batch: list[Row]) -> None:
        calls.append([e["gseq"] for e in batch])
        if len(calls) == 1:
            raise ConnectionError("the edge is down")

    c = Consumer(db, "c", handle=flaky)
    with pytest.raises(ConnectionError):
        c.run_once()
    assert cursor(db, "c") == 0
    assert c.run_once() == 2
    assert calls == [[1, 2], [1, 2]]
    assert cursor(db, "c") == 2


def test_a_failing_handler_in_the_transaction_keeps_none_of_its_writes(db: Database) -> None:
    stack = make_stack(db)
    write(db, stack, 3)
    fail = [True]

    def rename(tx: Tx, batch: list[Row]) -> None:
        tx.run("UPDATE stacks SET name = ? WHERE api_key = ?", f"seen {batch[-1]['gseq']}", stack.api_key)
        if fail[0]:
            raise RuntimeError("boom")

    c = Consumer(db, "c", handle_in_tx=rename)
    with pytest.raises(RuntimeError):
        c.run_once()
    with db.read() as tx:
        assert tx.scalar("SELECT name FROM stacks WHERE api_key = ?", stack.api_key) == "Test stack"
    assert cursor(db, "c") == 0
    fail[0] = False
    assert c.run_once() == 3
    with db.read() as tx:
        assert tx.scalar("SELECT name FROM stacks WHERE api_key = ?", stack.api_key) == "seen 3"
    assert cursor(db, "c") == 3


def test_a_consumer_of_one_stack_sees_only_that_stack(db: Database) -> None:
    a, b = make_stack(db, "A"), make_stack(db, "B")
    write(db, b, 2)
    write(db, a, 2)
    got: list[tuple[str, int]] = []
    c = Consumer(
        db, "c", api_key=a.api_key, handle=lambda batch: got.extend((e["api_key"], e["seq"]) for e in batch)
    )
    assert c.drain() == 2
    assert got == [(a.api_key, 1), (a.api_key, 2)]
    assert cursor(db, "c", a.api_key) == 2 and cursor(db, "c") == 0


def test_the_thread_runner_drains_every_commit_of_a_burst(db: Database) -> None:
    # given a running consumer that would poll only every 60 s without wake-ups
    stack = make_stack(db)
    got: list[int] = []
    with Wakeup(db, cross_process=False) as wakeup:
        c = Consumer(
            db,
            "c",
            handle=lambda batch: got.extend(e["gseq"] for e in batch),
            wakeup=wakeup,
            batch=7,
            check_seconds=60,
        )
        with c:
            # when 300 events are written in 60 transactions from two threads
            threads = [
                threading.Thread(target=lambda: [write(db, stack, 5) for _ in range(30)]) for _ in range(2)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            # then every one is handled, once, in order, soon after its commit
            wait_for(lambda: len(got) >= 300, what="all 300 events")
            t0 = time.monotonic()
            write(db, stack)
            wait_for(lambda: len(got) == 301, what="the next event")
            assert time.monotonic() - t0 < 2
        assert c._thread is not None and not c._thread.is_alive()
    assert got == list(range(1, 302))
    assert cursor(db, "c") == 301


def test_the_asyncio_runner_drains_on_wake_ups_until_cancelled(db: Database) -> None:
    stack = make_stack(db)
    got: list[int] = []

    async def main(wakeup: Wakeup) -> None:
        c = Consumer(
            db,
            "c",
            handle=lambda batch: got.extend(e["gseq"] for e in batch),
            wakeup=wakeup,
            check_seconds=60,
        )
        task = asyncio.create_task(c.run_async())
        await asyncio.sleep(0.2)
        await asyncio.to_thread(write, db, stack, 3)
        for _ in range(500):
            if len(got) == 3:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with Wakeup(db, cross_process=False) as wakeup:
        asyncio.run(main(wakeup))
    assert got == [1, 2, 3]
    assert cursor(db, "c") == 3


def test_the_same_consumer_twice_in_transactions_handles_each_event_once(db: Database) -> None:
    # given two runners of one exactly-once consumer, racing over the same log
    stack = make_stack(db)
    write(db, stack, 200)
    handled: list[tuple[str, int]] = []
    lock = threading.Lock()

    def handler(who: str) -> Callable[[Tx, list[Row]], None]:
        def handle(tx: Tx, batch: list[Row]) -> None:
            time.sleep(0.002)  # hold the cursor a little while the other one tries
            with lock:
                handled.extend((who, e["gseq"]) for e in batch)

        return handle

    runners = [Consumer(db, "triggers", handle_in_tx=handler(w), batch=9) for w in ("one", "two")]
    threads = [threading.Thread(target=r.drain) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then each event was handled by exactly one of them
    assert sorted(g for _, g in handled) == list(range(1, 201))
    assert cursor(db, "triggers") == 200


def test_from_settings() -> None:
    s = Settings(consumer_batch=7, event_check_seconds=3.0, consumer_retry_seconds=0.25)
    db = Database("sqlite:///:memory:")
    try:
        c = Consumer.from_settings(db, s, "c", handle=lambda batch: None, api_key="blt1")
        assert (c._progress.batch, c.check_seconds, c.retry_seconds, c.api_key) == (7, 3.0, 0.25, "blt1")
        with pytest.raises(ValueError):
            Consumer(db, "c")
        with pytest.raises(ValueError):
            Consumer(db, "c", handle=lambda b: None, handle_in_tx=lambda tx, b: None)
    finally:
        db.close()


# -- real processes, SIGKILLed ------------------------------------------------------------------------


class ConsumerProcess:
    """tests/core/consumer_proc.py consuming the test database."""

    def __init__(self, db: Database, log: Path, name: str, mode: str) -> None:
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(PROC), "consume", db.url, name, mode, "16"],
                stdout=subprocess.PIPE,
                stderr=out,
            )
        assert self.process.stdout is not None
        with self.process.stdout:
            assert self.process.stdout.readline() == b"ready\n", log.read_text()[-3000:]

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.mark.parametrize("mode", ["tx", "plain"])
def test_a_consumer_killed_again_and_again_receives_every_event(
    db: Database, tmp_path: Path, mode: str
) -> None:
    total = 2000
    stack = make_stack(db)
    with db.write() as tx:
        tx.run(CONSUMED)
    rng = random.Random()
    written = [0]

    def burst() -> None:  # many small transactions, spread over a few seconds
        while written[0] < total:
            n = min(total - written[0], rng.randint(1, 9))
            write(db, stack, n)
            written[0] += n
            time.sleep(0.01)

    # given a write burst going on
    writer = threading.Thread(target=burst)
    writer.start()
    # when the consumer process is SIGKILLed at random points, and started again each time
    procs: list[tuple[int, int]] = []  # (pid, the cursor when it started)
    killed_at: list[int] = []
    log = tmp_path / "consumer.log"
    try:
        while writer.is_alive() or len(killed_at) < 5:
            start_cursor = cursor(db, "proc")
            proc = ConsumerProcess(db, log, "proc", mode)
            procs.append((proc.process.pid, start_cursor))
            time.sleep(rng.uniform(0.05, 0.5))
            proc.kill()
            killed_at.append(cursor(db, "proc"))
        writer.join()
        with db.read() as tx:
            last = events.last_position(tx)
        start_cursor = cursor(db, "proc")
        proc = ConsumerProcess(db, log, "proc", mode)
        procs.append((proc.process.pid, start_cursor))
        wait_for(lambda: cursor(db, "proc") == last, timeout=30, what="the last consumer to catch up")
        proc.process.terminate()
        assert proc.process.wait(timeout=10) == 0, log.read_text()[-3000:]
    finally:
        writer.join()
        with db.read() as tx:
            rows = tx.all("SELECT gseq, pid FROM consumed WHERE consumer = 'proc'")
        with db.write() as tx:
            tx.run("DROP TABLE consumed")

    # then the kills hit it mid-way, with events still to come
    assert last == total
    assert any(0 < c < total for c in killed_at), killed_at
    # and every event was received
    counts = Counter(int(r["gseq"]) for r in rows)
    assert set(counts) == set(range(1, total + 1))
    # and no process received an event acknowledged before it started
    by_pid: dict[int, list[int]] = {}
    for r in rows:
        by_pid.setdefault(int(r["pid"]), []).append(int(r["gseq"]))
    for pid, started_after in procs:
        assert all(g > started_after for g in by_pid.get(pid, [])), (pid, started_after)
    if mode == "tx":
        # and, handled and acknowledged in one transaction, each exactly once
        assert max(counts.values()) == 1
    else:
        # and a repeat went only to a later process (after a kill between handling and acknowledging),
        # at most one batch of 16 per kill
        assert all(len(set(got)) == len(got) for got in by_pid.values())
        assert sum(n - 1 for n in counts.values()) <= 16 * len(killed_at)
