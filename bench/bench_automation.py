"""Automation: webhook -> rule -> core.noop throughput and latency, `st2 run core.echo` round trip,
and interval-timer lateness, on SQLite and PostgreSQL, beside a minimal reference server doing the
same work (`reference_automation.py`: accept the webhook, write the trigger instance, enforcement
and execution rows, run the no-op), for a ratio. Run:

    .venv/bin/python bench/bench_automation.py --engine both --seconds 10

Per engine:
  webhook 16 / 64       closed-loop clients POST /api/v1/webhooks/bench (a rule runs core.noop);
                        afterwards the counts of trigger instances, enforcements and executions
                        are read back and must agree
  reference 16 / 64     the same load on the reference server
  paced webhooks        webhooks sent at --rate per second (open loop, from threads of this
                        process) for --timer-seconds while an IntervalTimer rule (every second)
                        fires; timer lateness = when the trigger instance was made - when the tick
                        was due, over the ticks due in that window (with --set workers=2, each
                        tick must fire once)
  st2 run core.echo     the unchanged st2 CLI (from .venv-st2, made by the test suite), end to end
  execution list        with --executions N (the issue's figure is 1,000,000): N more finished
                        executions written straight into the database (copies of a real one, in
                        big transactions), then the st2 CLI's `execution list` request timed
                        sequentially, and the query plans of the list on the engine
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    EMAIL,
    PASSWORD,
    RESULTS,
    ROOT,
    Server,
    common_args,
    drive,
    engines,
    free_port,
    postgres_database,
    print_table,
    serve,
    server_settings,
    wait_healthy,
    write_results,
)

ST2 = ROOT / ".venv-st2" / "bin" / "st2"


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def setup_rules(server: Server) -> tuple[str, dict[str, str]]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        r = c.post("/auth/v1/tokens", auth=(EMAIL, PASSWORD), json={})
        r.raise_for_status()
        token = r.json()["token"]
        h = {"X-Auth-Token": token}
        for rule in (
            {
                "name": "bench",
                "pack": "bench",
                "enabled": True,
                "trigger": {"type": "core.st2.webhook", "parameters": {"url": "bench"}},
                "action": {"ref": "core.noop"},
            },
            {
                "name": "tick",
                "pack": "bench",
                "enabled": True,
                "trigger": {"type": "core.st2.IntervalTimer", "parameters": {"unit": "seconds", "delta": 1}},
                "action": {"ref": "core.noop"},
            },
        ):
            c.post("/api/v1/rules", json=rule, headers=h).raise_for_status()
    return token, h


def counts(server: Server, h: dict[str, str]) -> dict[str, int]:
    with httpx.Client(base_url=server.url, headers=h, timeout=60) as c:
        rule = c.get("/api/v1/rules/bench.bench").json()
        out = {}
        for name, path, params in (
            ("trigger_instances", "/api/v1/triggerinstances", {"trigger": rule["trigger"]["ref"]}),
            ("enforcements", "/api/v1/ruleenforcements", {"rule_ref": "bench.bench"}),
            ("executions", "/api/v1/executions", {"rule": "bench.bench"}),
        ):
            out[name] = int(c.get(path, params={**params, "limit": 1}).headers["X-Total-Count"])
    return out


def lateness(server: Server, h: dict[str, str], since: float) -> dict[str, Any]:
    with httpx.Client(base_url=server.url, headers=h, timeout=60) as c:
        rule = c.get("/api/v1/rules/bench.tick").json()
        items = c.get(
            "/api/v1/triggerinstances", params={"trigger": rule["trigger"]["ref"], "limit": 100}
        ).json()
        c.put("/api/v1/rules/bench.tick", json={**rule, "enabled": False})
    items = [i for i in items if _ts(i["payload"]["due_at"]) >= since]
    late = sorted((_ts(i["occurrence_time"]) - _ts(i["payload"]["due_at"])) * 1000 for i in items)
    dues = [i["payload"]["due_at"] for i in items]
    if not late:
        return {"ticks": 0}
    return {
        "ticks": len(late),
        "duplicate_ticks": len(dues) - len(set(dues)),
        "lateness_p50_ms": round(late[len(late) // 2], 2),
        "lateness_p99_ms": round(late[min(len(late) - 1, int(0.99 * len(late)))], 2),
        "lateness_max_ms": round(late[-1], 2),
    }


def paced_webhooks(server: Server, h: dict[str, str], rate: float, seconds: float) -> dict[str, Any]:
    """Webhooks at `rate` per second for `seconds`, open loop: 16 threads with keep-alive clients,
    each sending at its share of the rate (at once when it is behind)."""
    threads = 16
    took: list[float] = []
    failed = [0]
    start = time.monotonic() + 0.2

    def run(i: int) -> None:
        headers = {**h, "Content-Type": "application/json"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as c:
            due = start + i / rate
            while due < start + seconds:
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                t = time.monotonic()
                r = c.post("/api/v1/webhooks/bench", content=b'{"source": "paced"}')
                took.append((time.monotonic() - t) * 1000)
                failed[0] += r.status_code != 202
                due += threads / rate

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    took.sort()
    return {
        "rate_asked": rate,
        "rate_done": round(len(took) / seconds, 1),
        "errors": failed[0],
        "p50_ms": round(statistics.median(took), 2),
        "p99_ms": round(took[int(0.99 * (len(took) - 1))], 2),
    }


def st2_run(server: Server, token: str, runs: int) -> dict[str, Any]:
    if not ST2.exists():
        return {"skipped": f"{ST2} is missing (the test suite creates it)"}
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": tempfile.mkdtemp(),
        "ST2_AUTH_TOKEN": token,
        "ST2_CLI_SKIP_CONFIG": "1",
        "ST2_AUTH_URL": server.url + "/auth/v1",
        "ST2_API_URL": server.url + "/api/v1",
        "ST2_STREAM_URL": server.url + "/stream/v1",
    }
    took = []
    for i in range(runs):
        t = time.monotonic()
        done = subprocess.run(
            [str(ST2), "run", "core.echo", f"message=bench {i}", "-j"],
            env=env,
            capture_output=True,
            text=True,
        )
        took.append((time.monotonic() - t) * 1000)
        if done.returncode != 0 or '"succeeded"' not in done.stdout:
            return {"error": done.stdout[-300:] + done.stderr[-300:]}
    took.sort()
    startup = []
    for _ in range(max(3, runs // 2)):
        t = time.monotonic()
        subprocess.run([str(ST2), "--version"], env=env, capture_output=True)
        startup.append((time.monotonic() - t) * 1000)
    # The same calls `st2 run` makes (GET action, GET runner, POST), without the CLI's start-up.
    wire = []
    with httpx.Client(base_url=server.url, headers={"X-Auth-Token": token}) as c:
        for i in range(runs * 5):
            t = time.monotonic()
            c.get("/api/v1/actions/core.echo")
            c.get("/api/v1/runnertypes/", params={"name": "local-shell-cmd"})
            c.post(
                "/api/v1/executions",
                json={"action": "core.echo", "parameters": {"message": f"w{i}"}, "user": None},
            )
            wire.append((time.monotonic() - t) * 1000)
    return {
        "runs": runs,
        "p50_ms": round(statistics.median(took), 1),
        "max_ms": round(took[-1], 1),
        "cli_startup_p50_ms": round(statistics.median(startup), 1),
        "wire_p50_ms": round(statistics.median(wire), 2),
    }


COLUMNS = (
    "id, org_uid, action_ref, status, username, parent, rule_ref, trigger_instance, start_timestamp, "
    "end_timestamp, doc"
)
# What `st2 execution list` asks (st2_api.md: the CLI adds parent=null without --showall).
CLI_LIST = {
    "limit": "50",
    "parent": "null",
    "sort_desc": "True",
    "include_attributes": "id,action.ref,context.user,status,start_timestamp,end_timestamp",
}


def _db(url: str) -> Any:
    if url.startswith("postgresql"):
        import psycopg

        return psycopg.connect(url, autocommit=True)
    import sqlite3

    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")  # the fill only; the server keeps its own settings
    return conn


def bulk_executions(server: Server, n: int) -> dict[str, Any]:
    """Write `n` finished executions, copies of the newest one with their own ids and start times
    (one every 0.5 s, ending an hour ago), in transactions of 50,000 rows (COPY on PostgreSQL)."""
    t0 = time.monotonic()
    conn = _db(server.database_url)
    pg = server.database_url.startswith("postgresql")
    cur = conn.cursor()
    cur.execute(f"SELECT {COLUMNS} FROM st2_executions ORDER BY start_timestamp DESC LIMIT 1")
    template = list(cur.fetchone())
    doc = template[-1] if isinstance(template[-1], str) else json.dumps(template[-1])
    first = time.time() - 3600 - n * 0.5

    def rows(start: int, stop: int) -> Iterator[tuple[Any, ...]]:
        for i in range(start, stop):
            ts = first + i * 0.5
            new_id = f"{int(ts):08x}{i:016x}"
            stamp = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            yield (new_id, *template[1:8], stamp, stamp, doc.replace(template[0], new_id))

    step = 50_000
    for start in range(0, n, step):
        stop = min(n, start + step)
        if pg:
            with conn.transaction(), cur.copy(f"COPY st2_executions ({COLUMNS}) FROM STDIN") as copy:
                for row in rows(start, stop):
                    copy.write_row(row)
        else:
            cur.execute("BEGIN")
            cur.executemany(
                f"INSERT INTO st2_executions ({COLUMNS}) VALUES ({', '.join('?' * 11)})", rows(start, stop)
            )
            cur.execute("COMMIT")
    if pg:
        cur.execute("VACUUM ANALYZE st2_executions")  # what autovacuum does after a bulk insert
    conn.close()
    return {"executions_added": n, "fill_seconds": round(time.monotonic() - t0, 1)}


def list_plans(server: Server, org_uid: str) -> list[str]:
    """The engine's plan for the page `execution list` reads (the statement executions.list_ runs)."""
    conn = _db(server.database_url)
    pg = server.database_url.startswith("postgresql")
    sql = (
        f"SELECT id FROM st2_executions WHERE org_uid = {'%s' if pg else '?'} AND parent IS NULL "
        "ORDER BY start_timestamp DESC, id DESC LIMIT 50"
    )
    explain = "EXPLAIN " if pg else "EXPLAIN QUERY PLAN "
    out = [" ".join(str(c) for c in r[-1:]) for r in conn.execute(explain + sql, (org_uid,)).fetchall()]
    conn.close()
    return out


def execution_list(server: Server, token: str, runs: int) -> dict[str, Any]:
    h = {"X-Auth-Token": token}
    took, failed = [], 0
    with httpx.Client(base_url=server.url, headers=h, timeout=60) as c:
        first = c.get("/api/v1/executions", params={"limit": 1})
        total = int(first.headers.get("X-Total-Count", -1))
        org_uid = c.get("/api/v1/user").json()["organization"]
        for _ in range(runs):
            t = time.monotonic()
            r = c.get("/api/v1/executions/", params=CLI_LIST)
            took.append((time.monotonic() - t) * 1000)
            failed += r.status_code != 200
    took.sort()
    return {
        "stored": total,
        "errors": failed,
        "runs": runs,
        "p50_ms": round(statistics.median(took), 2),
        "p95_ms": round(took[int(0.95 * (len(took) - 1))], 2),
        "max_ms": round(took[-1], 2),
        "plan": list_plans(server, org_uid),
    }


@contextlib.contextmanager
def job_workers(server: Server, n: int) -> Iterator[None]:
    """`stackyard worker` processes on the server's database (they take the jobs: timers, queued
    executions, action triggers) beside the API process."""
    data = Path(server.database_url.removeprefix("sqlite:///")).parent
    if server.database_url.startswith("postgresql"):
        data = Path(tempfile.mkdtemp(prefix="stackyard-bench-worker-"))
    env = {**os.environ, "STACKYARD_DATABASE_URL": server.database_url, "STACKYARD_DATA_DIR": str(data)}
    log = RESULTS / "bench_automation-workers.log"
    with open(log, "ab") as out:
        procs = [
            subprocess.Popen([sys.executable, "-m", "stackyard", "worker"], env=env, stdout=out, stderr=out)
            for _ in range(n)
        ]
    try:
        time.sleep(2 if n else 0)  # started and listening for jobs
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(15)


@contextlib.contextmanager
def reference(engine: str) -> Iterator[Server]:
    with contextlib.ExitStack() as stack:
        data = stack.enter_context(tempfile.TemporaryDirectory(prefix="reference-"))
        url = f"sqlite:///{data}/ref.db" if engine == "sqlite" else stack.enter_context(postgres_database())
        port = free_port()
        cmd = [sys.executable, str(ROOT / "bench" / "reference_automation.py"), str(port), url, "reftoken"]
        process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", process)
            yield Server(
                url=f"http://127.0.0.1:{port}",
                port=port,
                process=process,
                headers={"X-Auth-Token": "reftoken"},
            )
        finally:
            process.terminate()
            process.wait(15)


def webhook_requests(h: dict[str, str]) -> list[dict[str, Any]]:
    body = '{"n": "{n}", "source": "bench"}'
    return [
        {
            "method": "POST",
            "path": "/api/v1/webhooks/bench",
            "headers": {**h, "Content-Type": "application/json"},
            "body": body,
        }
    ]


def main() -> None:
    p = common_args(__doc__ or "")
    p.add_argument("--st2-runs", type=int, default=10, help="`st2 run core.echo` round trips to time")
    p.add_argument(
        "--executions", type=int, default=0, help="executions to add before timing `execution list`"
    )
    p.add_argument("--rate", type=float, default=500, help="webhooks per second while the timer is timed")
    p.add_argument("--timer-seconds", type=float, default=10, help="seconds of paced load with the timer")
    p.add_argument(
        "--job-workers", type=int, default=0, help="`stackyard worker` processes beside the server"
    )
    p.add_argument("--list-runs", type=int, default=100, help="`execution list` requests to time")
    p.add_argument(
        "--webhook-clients",
        default="16,64",
        help="the closed-loop webhook scenarios' connection counts, comma-separated",
    )
    p.add_argument(
        "--webhooks-only",
        action="store_true",
        help="only the closed-loop webhook scenarios and the counts check (no paced run, timer, st2 run, reference)",
    )
    args = p.parse_args()
    webhook_clients = [int(n) for n in args.webhook_clients.split(",") if n.strip()]
    rows: list[dict[str, Any]] = []
    extra: list[dict[str, Any]] = []
    for engine in engines(args.engine):
        with contextlib.ExitStack() as stack:
            server = stack.enter_context(
                serve(engine, server_settings(args), f"bench_automation-{engine}.log")
            )
            token, h = setup_rules(server)
            stack.enter_context(job_workers(server, args.job_workers))
            for clients in webhook_clients:
                out = drive(
                    server,
                    webhook_requests(h),
                    profile=f"profile-automation-{engine}-{clients}" if args.profile else "",
                    connections=clients,
                    seconds=args.seconds,
                    expect=202,
                    warmup=args.warmup,
                    processes=args.load_procs,
                )
                rows.append({"engine": engine, "scenario": f"webhook {clients}", **out})
            if args.webhooks_only:
                agreed = counts(server, h)
                extra.append(
                    {"engine": engine, "counts": agreed, "counts_agree": len(set(agreed.values())) == 1}
                )
                continue
            since = time.time()
            paced = paced_webhooks(server, h, args.rate, args.timer_seconds)
            late = lateness(server, h, since)
            agreed = counts(server, h)
            run = st2_run(server, token, args.st2_runs)
            listed: dict[str, Any] = {}
            if args.executions:
                listed = bulk_executions(server, args.executions)
                listed.update(execution_list(server, token, args.list_runs))
            extra.append(
                {
                    "engine": engine,
                    "counts": agreed,
                    "counts_agree": len(set(agreed.values())) == 1,
                    "paced_webhooks": paced,
                    "timer": late,
                    "st2_run_core_echo": run,
                    **({"execution_list": listed} if listed else {}),
                }
            )
        with reference(engine) as ref:
            for clients in webhook_clients:
                out = drive(
                    ref,
                    webhook_requests(ref.headers),
                    connections=clients,
                    seconds=args.seconds,
                    expect=202,
                    warmup=args.warmup,
                    processes=args.load_procs,
                )
                rows.append({"engine": engine, "scenario": f"reference {clients}", **out})
        for clients in webhook_clients:
            ours = next(r for r in rows if r["engine"] == engine and r["scenario"] == f"webhook {clients}")
            ref_row = next(
                r for r in rows if r["engine"] == engine and r["scenario"] == f"reference {clients}"
            )
            ours["ratio_to_reference"] = round(ours["rps"] / ref_row["rps"], 2) if ref_row["rps"] else None
    print_table(rows)
    for r in rows:
        if "ratio_to_reference" in r:
            print(f"{r['engine']:<11} {r['scenario']:<22} ratio to reference: {r['ratio_to_reference']}")
    for e in extra:
        print(e)
    path = write_results("bench_automation", args, rows + extra)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
