"""Event wake-ups: latency from a commit in one process to a consumer in another, SQLite and PostgreSQL.

No HTTP: this process writes events through the spine, one write transaction each, with a pause
between them; a child process runs a `Wakeup` and a `Consumer` of all stacks, as a server does.
Both stamp times with CLOCK_MONOTONIC (`time.monotonic`, one clock for every process on Linux):

  wake       commit returned in the writer (its after-commit hook)  ->  `Wakeup.wait` returned in the child
  delivered  commit returned in the writer                          ->  the child's handler got the event

The child's CPU while nothing is written is reported too (`idle cpu %`): the price of the SQLite
change check, which polls `PRAGMA data_version`; PostgreSQL's LISTEN should cost nothing. Run:

    .venv/bin/python bench/bench_wakeup.py --engine both --events 500
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import engines, fresh_database_url, process_tree_cpu, write_results

from stackyard.core import events, spine
from stackyard.core.consumers import Consumer
from stackyard.core.wakeup import Wakeup
from stackyard.identity import organizations, users
from stackyard.ids import now, uid
from stackyard.store.engine import Database, Row, jdump


class Caller:
    actor, kind, request_id, remote_addr = "bench", "user", "bench", "127.0.0.1"


def make_stack(db: Database) -> spine.StackScope:
    with db.write() as tx:
        owner, _ = users.create(tx, "bench@example.com")
        org_uid = organizations.create(tx, owner, "Bench")
        api_key, t = "blt" + secrets.token_hex(8), now()
        tx.run(
            "INSERT INTO stacks (api_key, uid, org_uid, name, master_locale, owner_uid, settings, "
            "stack_settings, created_by, updated_by, created_at, updated_at) "
            "VALUES (?, ?, ?, 'Bench', 'en-us', ?, ?, ?, ?, ?, ?, ?)",
            *(api_key, uid(), org_uid, owner, jdump({}), jdump({}), owner, owner, t, t),
        )
    return spine.StackScope(Caller(), api_key, org_uid)


def child(url: str, count: int, check_ms: int) -> None:
    """The consumer process: prints "ready", then one JSON line {gseq: [woke, delivered]} at the end."""
    db = Database(url, pool_size=2)
    delivered: dict[int, float] = {}

    def handle(batch: list[Row]) -> None:
        t = time.monotonic()
        for e in batch:
            delivered[int(e["gseq"])] = t

    woke: dict[int, float] = {}
    with Wakeup(db, change_check_ms=check_ms) as wakeup:
        consumer = Consumer(db, "bench", handle=handle, wakeup=wakeup, start="latest")
        consumer.drain()
        head = wakeup.latest
        print("ready", flush=True)
        while len(delivered) < count:
            newer = wakeup.wait(head, timeout=30)
            t = time.monotonic()
            for g in range(head + 1, newer + 1):
                woke.setdefault(g, t)
            head = max(head, newer)
            consumer.drain()
    db.close()
    print(json.dumps({g: [woke.get(g), at] for g, at in delivered.items()}), flush=True)


def scenario(engine: str, args: argparse.Namespace) -> dict[str, Any]:
    with fresh_database_url(engine) as url:
        db = Database(url)
        try:
            scope = make_stack(db)
            commits: dict[int, float] = {}

            def committed(gseq: int) -> None:
                commits[gseq] = time.monotonic()

            events.committed_listeners.append(committed)
            proc = subprocess.Popen(
                [sys.executable, __file__, "--child", url, str(args.events), str(args.check_ms)],
                stdout=subprocess.PIPE,
            )
            assert proc.stdout is not None
            try:
                if proc.stdout.readline() != b"ready\n":
                    raise RuntimeError("the consumer process did not start")
                cpu0, t0 = process_tree_cpu(proc.pid), time.monotonic()
                time.sleep(args.idle)
                idle_cpu = (process_tree_cpu(proc.pid) - cpu0) / (time.monotonic() - t0)
                rng = random.Random(1)
                for i in range(args.events):
                    with db.write() as tx:
                        spine.record(tx, scope, "environment.create", uid(), {"name": f"e{i}"})
                    time.sleep(rng.uniform(0.5, 1.5) * args.gap_ms / 1000)
                out, _ = proc.communicate(timeout=60)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                events.committed_listeners.remove(committed)
        finally:
            db.close()
    seen = {int(g): v for g, v in json.loads(out.splitlines()[-1]).items()}
    wake = sorted((seen[g][0] - t) * 1000 for g, t in commits.items() if seen[g][0] is not None)
    delivered = sorted((seen[g][1] - t) * 1000 for g, t in commits.items())
    return {
        "engine": engine,
        "events": len(commits),
        "check_ms": args.check_ms if engine == "sqlite" else None,
        "idle_cpu_pct": round(idle_cpu * 100, 2),
        **{f"wake_{k}": v for k, v in percentiles(wake).items()},
        **{f"delivered_{k}": v for k, v in percentiles(delivered).items()},
    }


def percentiles(ms: list[float]) -> dict[str, float]:
    def pct(q: float) -> float:
        return round(ms[min(len(ms) - 1, int(q * len(ms)))], 2)

    return {"p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99), "max_ms": round(ms[-1], 2)}


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--events", type=int, default=500, help="events written, one transaction each")
    p.add_argument("--gap-ms", type=float, default=10.0, help="mean pause between commits (uniform ±50%%)")
    p.add_argument(
        "--check-ms", type=int, default=5, help="SQLite change check interval (sqlite_change_check_ms)"
    )
    p.add_argument("--idle", type=float, default=2.0, help="seconds the consumer's idle CPU is measured")
    p.add_argument("--label", default="", help="a name for this run in the results file")
    args = p.parse_args()
    rows = []
    for engine in engines(args.engine):
        rows.append(scenario(engine, args))
    path = write_results("wakeup", args, rows)
    print(
        f"{'engine':<11} {'events':>6} {'check ms':>8} {'idle cpu %':>10}  "
        f"{'wake p50/p95/p99/max ms':<26} {'delivered p50/p95/p99/max ms':<28}"
    )
    for r in rows:
        wake = "/".join(f"{r[f'wake_{k}']:.1f}" for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
        got = "/".join(f"{r[f'delivered_{k}']:.1f}" for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
        print(
            f"{r['engine']:<11} {r['events']:>6} {r['check_ms'] or '-':>8} {r['idle_cpu_pct']:>10}  {wake:<26} {got:<28}"
        )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
