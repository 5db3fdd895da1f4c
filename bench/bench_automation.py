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
  timer lateness        an IntervalTimer rule (every second) runs during the 64-client load;
                        lateness = when the trigger instance was made - when the tick was due
  st2 run core.echo     the unchanged st2 CLI (from .venv-st2, made by the test suite), end to end
"""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    EMAIL,
    PASSWORD,
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


def lateness(server: Server, h: dict[str, str]) -> dict[str, Any]:
    with httpx.Client(base_url=server.url, headers=h, timeout=60) as c:
        rule = c.get("/api/v1/rules/bench.tick").json()
        items = c.get(
            "/api/v1/triggerinstances", params={"trigger": rule["trigger"]["ref"], "limit": 100}
        ).json()
        c.put("/api/v1/rules/bench.tick", json={**rule, "enabled": False})
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
    args = p.parse_args()
    rows: list[dict[str, Any]] = []
    extra: list[dict[str, Any]] = []
    for engine in engines(args.engine):
        with serve(engine, server_settings(args), f"bench_automation-{engine}.log") as server:
            token, h = setup_rules(server)
            for clients in (16, 64):
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
            agreed = counts(server, h)
            late = lateness(server, h)
            run = st2_run(server, token, args.st2_runs)
            extra.append(
                {
                    "engine": engine,
                    "counts": agreed,
                    "counts_agree": len(set(agreed.values())) == 1,
                    "timer": late,
                    "st2_run_core_echo": run,
                }
            )
        with reference(engine) as ref:
            for clients in (16, 64):
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
        for clients in (16, 64):
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
