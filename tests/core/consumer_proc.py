"""Processes for the consumer and wake-up tests, and the helpers those tests share with them.

python consumer_proc.py consume <db url> <consumer> <tx|plain> <batch>
    runs a `Consumer` of all stacks that records every event it handles as a row
    (consumer, gseq, pid) of the table `consumed` (made by the test): with `tx`, in the
    transaction that acknowledges it (exactly once); with `plain`, in a transaction of its own
    before the acknowledgement (at least once). Prints "ready" once running; SIGTERM stops it.
python consumer_proc.py write <db url> <api_key> <count>
    records `count` events in the stack, one write transaction each, then prints the last gseq.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import threading
from dataclasses import dataclass

from stackyard.core import consumers, events, spine
from stackyard.core.wakeup import Wakeup
from stackyard.identity import organizations, users
from stackyard.ids import now, uid
from stackyard.store.engine import Database, Row, Tx, jdump

CONSUMED = (
    "CREATE TABLE IF NOT EXISTS consumed (consumer TEXT NOT NULL, gseq BIGINT NOT NULL, pid INTEGER NOT NULL)"
)


@dataclass(frozen=True)
class FakeCaller:
    actor: str
    kind: str = "user"
    request_id: str = "req-test"
    remote_addr: str = "127.0.0.1"


@dataclass(frozen=True)
class Stack:
    api_key: str
    org_uid: str
    owner: str

    def scope(self) -> spine.StackScope:
        return spine.StackScope(FakeCaller(self.owner), self.api_key, self.org_uid)


def make_stack(db: Database, name: str = "Test stack") -> Stack:
    """A real stack row, with its owner and organization, made through the identity services."""
    with db.write() as tx:
        owner, _ = users.create(tx, f"owner-{secrets.token_hex(4)}@example.com")
        org_uid = organizations.create(tx, owner, f"{name} org")
        api_key = "blt" + secrets.token_hex(8)
        t = now()
        tx.run(
            "INSERT INTO stacks (api_key, uid, org_uid, name, master_locale, owner_uid, settings, "
            "stack_settings, created_by, updated_by, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, 'en-us', ?, ?, ?, ?, ?, ?, ?)",
            api_key,
            uid(),
            org_uid,
            name,
            owner,
            jdump({}),
            jdump({}),
            owner,
            owner,
            t,
            t,
        )
    return Stack(api_key, org_uid, owner)


def record(tx: Tx, stack: Stack, count: int = 1) -> None:
    """`count` environment.create events in `stack`, through the spine."""
    for _ in range(count):
        spine.record(tx, stack.scope(), "environment.create", uid(), {"name": "env-" + secrets.token_hex(3)})


def write(db: Database, stack: Stack, count: int) -> int:
    """`count` events, one write transaction each; answers the last global position."""
    for _ in range(count):
        with db.write() as tx:
            record(tx, stack)
    with db.read() as tx:
        return events.last_position(tx)


def consume(url: str, name: str, mode: str, batch: int) -> None:
    db = Database(url, pool_size=2)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    pid = os.getpid()

    def rows(batch: list[Row]) -> list[tuple[str, int, int]]:
        return [(name, int(e["gseq"]), pid) for e in batch]

    def in_tx(tx: Tx, batch: list[Row]) -> None:
        tx.run_many("INSERT INTO consumed (consumer, gseq, pid) VALUES (?, ?, ?)", rows(batch))

    def plain(batch: list[Row]) -> None:
        with db.write() as tx:
            in_tx(tx, batch)

    wakeup = Wakeup(db, change_check_ms=2, retry_seconds=0.1)
    wakeup.start()
    if mode == "tx":
        consumer = consumers.Consumer(db, name, handle_in_tx=in_tx, wakeup=wakeup, batch=batch)
    else:
        consumer = consumers.Consumer(db, name, handle=plain, wakeup=wakeup, batch=batch)
    consumer.start()
    print("ready", flush=True)
    stop.wait()
    consumer.stop()
    wakeup.stop()
    db.close()


def main(argv: list[str]) -> None:
    command, url = argv[0], argv[1]
    if command == "consume":
        consume(url, argv[2], argv[3], int(argv[4]))
    elif command == "write":
        db = Database(url, pool_size=2)
        try:
            with db.read() as tx:
                org_uid = tx.scalar("SELECT org_uid FROM stacks WHERE api_key = ?", argv[2])
                owner = tx.scalar("SELECT owner_uid FROM stacks WHERE api_key = ?", argv[2])
            print(write(db, Stack(argv[2], org_uid, owner), int(argv[3])), flush=True)
        finally:
            db.close()
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
