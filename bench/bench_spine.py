"""The event spine's write cost: events recorded per second, and how long the counters are held.

No HTTP: `spine.record` on a fresh database, as every write site calls it. Run:

    .venv/bin/python bench/bench_spine.py --engine both --events 10000

Scenarios:
  bulk 1 tx        N events in one transaction (a bulk publish): total time, and the time from
                   the flush (where the stack row and the event clock are taken) to the commit
  small txs        N transactions of one event each, from 4 threads
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import engines, fresh_database_url, write_results

from stackyard.core import events, spine
from stackyard.identity import organizations, users
from stackyard.stacks import stacks
from stackyard.store.engine import Database, Tx


@dataclass(frozen=True)
class BenchCaller:
    actor: str = "bench"
    kind: str = "user"
    request_id: str = ""
    remote_addr: str = ""
    user_uid: str = ""


@contextlib.contextmanager
def database(engine: str) -> Iterator[Database]:
    with fresh_database_url(engine) as url:
        db = Database(url, pool_size=8)
        try:
            yield db
        finally:
            db.close()


def scope(db: Database) -> spine.StackScope:
    with db.write() as tx:
        user_uid, _ = users.create(tx, "bench@example.com", password="correct horse battery")
        org_uid = organizations.create(tx, user_uid, "Bench")
        caller: Any = BenchCaller(actor=user_uid, user_uid=user_uid)
        api_key = stacks.create(tx, caller, {"name": "Bench"}, org_uid)
    return spine.StackScope(caller, api_key, org_uid)


def bulk(db: Database, where: spine.StackScope, n: int) -> dict[str, Any]:
    marks: dict[str, float] = {}
    flush = events._flush

    def timed_flush(tx: Tx) -> None:  # the counters are taken from here until COMMIT
        marks["counters"] = time.perf_counter()
        flush(tx)

    events._flush = timed_flush  # type: ignore[assignment]  # buffer() registers events._flush by name
    start = time.perf_counter()
    with db.write() as tx:
        for i in range(n):
            spine.record(
                tx,
                where,
                "entry.update",
                f"blt{i}",
                {"title": None},
                content_type="a",
                locale="en-us",
                version=1,
            )
        marks["recorded"] = time.perf_counter()
    end = time.perf_counter()
    events._flush = flush  # type: ignore[assignment]
    return {
        "scenario": "bulk 1 tx",
        "events": n,
        "seconds": round(end - start, 3),
        "events_per_s": round(n / (end - start)),
        "flush_and_commit_ms": round((end - marks["recorded"]) * 1000, 1),
        "counters_held_ms": round((end - marks["counters"]) * 1000, 1),
    }


def small(db: Database, where: spine.StackScope, n: int, threads: int = 4) -> dict[str, Any]:
    def loop(count: int) -> None:
        for i in range(count):
            with db.write() as tx:
                spine.record(tx, where, "label.create", f"l{i}", {"name": "x"})

    start = time.perf_counter()
    workers = [threading.Thread(target=loop, args=(n // threads,)) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    end = time.perf_counter()
    done = n // threads * threads
    return {
        "scenario": "small txs",
        "events": done,
        "seconds": round(end - start, 3),
        "events_per_s": round(done / (end - start)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    rows = []
    for engine in engines(args.engine):
        with database(engine) as db:
            where = scope(db)
            for row in (bulk(db, where, args.events), small(db, where, min(args.events, 2000))):
                row["engine"] = engine
                rows.append(row)
                print(row, flush=True)
    print(write_results("spine", args, rows))


if __name__ == "__main__":
    main()
