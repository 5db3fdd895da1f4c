"""What every bench shares: a real `stackyard serve` on a fresh database, a logged-in owner with a
stack, the load generator in separate processes, and the summary written to bench/results/.

The server runs as `stackyard serve` runs it (its `run` function, in a subprocess, with settings from
STACKYARD_* variables), so the figures include uvicorn, middleware, the access log and the rate
limiter. The load generator is
another process (or several), so it competes for the same two cores but never for the server's GIL.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_SERVER = os.environ.get("STACKYARD_BENCH_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
SERVE = "from stackyard.server.serve import run; from stackyard.settings import Settings; run(Settings.from_sources())"
EMAIL, PASSWORD = "bench@example.com", "bench password 1234"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the PostgreSQL server, dropped afterwards."""
    import psycopg

    name = "stackyard_bench_" + secrets.token_hex(4)
    with psycopg.connect(PG_SERVER, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlunparse(urlparse(PG_SERVER)._replace(path="/" + name))
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def fresh_database_url(engine: str) -> Iterator[str]:
    """The URL of a new, migrated database on `engine` (a temporary SQLite file or a fresh
    PostgreSQL database), removed afterwards. For benches that drive the store without HTTP."""
    from stackyard.store import migrations
    from stackyard.store.engine import Database

    with contextlib.ExitStack() as stack:
        if engine == "sqlite":
            url = f"sqlite:///{stack.enter_context(tempfile.TemporaryDirectory())}/bench.db"
        else:
            url = stack.enter_context(postgres_database())
        db = Database(url)
        migrations.upgrade(db)
        db.close()
        yield url


@dataclass
class Server:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    headers: dict[str, str] = field(default_factory=dict)
    database_url: str = ""  # the server's database, for a bench that fills or inspects it directly

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=30)


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the server did not become healthy")


@contextlib.contextmanager
def serve(engine: str, settings: dict[str, str], log_name: str) -> Iterator[Server]:
    """`stackyard serve` on a fresh database of `engine`, with an owner, a stack and its api_key header.

    The server is started as `stackyard serve` does it (`stackyard.server.serve.run` with settings
    from STACKYARD_* variables), without going through the CLI's argument parser, so a bench does
    not depend on the client commands registered there. `settings` adds STACKYARD_<NAME> variables.
    """
    RESULTS.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="stackyard-bench-"))
        url = f"sqlite:///{data_dir}/stackyard.db"
        if engine == "postgresql":
            url = stack.enter_context(postgres_database())
        port = free_port()
        env = {
            **os.environ,
            "STACKYARD_ADMIN_EMAIL": EMAIL,
            "STACKYARD_ADMIN_PASSWORD": PASSWORD,
            "STACKYARD_DATABASE_URL": url,
            "STACKYARD_PORT": str(port),
            "STACKYARD_DATA_DIR": data_dir,
            **{"STACKYARD_" + k.upper(): v for k, v in settings.items()},
        }
        log = stack.enter_context(open(RESULTS / log_name, "wb"))
        cmd = [sys.executable, "-c", SERVE]
        process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=data_dir)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base, process)
            server = Server(url=base, port=port, process=process, database_url=url)
            with httpx.Client(base_url=base, timeout=30) as c:
                r = c.post("/v3/user-session", json={"user": {"email": EMAIL, "password": PASSWORD}})
                r.raise_for_status()
                token = r.json()["user"]["authtoken"]
                r = c.post(
                    "/v3/stacks",
                    json={"stack": {"name": "Bench", "master_locale": "en-us"}},
                    headers={"authtoken": token},
                )
                r.raise_for_status()
                server.headers = {"authtoken": token, "api_key": r.json()["stack"]["api_key"]}
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def process_tree_cpu(root: int) -> float:
    """CPU seconds used so far by a process and its descendants (uvicorn workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += stats.get(pid, (0, 0.0))[1]
        todo += [child for child, (parent, _) in stats.items() if parent == pid]
    return total


def drive(
    server: Server,
    requests: list[dict[str, Any]],
    *,
    connections: int,
    seconds: float,
    expect: int = 200,
    processes: int = 1,
    warmup: float = 1.0,
    profile: str = "",
) -> dict[str, Any]:
    """Run the load generator in `processes` processes sharing `connections`; answers the merged figures.

    With `profile`, py-spy samples the server during the measured seconds and writes collapsed
    stacks to bench/results/<profile>.txt (see `hotspots`).
    """
    procs = []
    cpu_before, children_before = process_tree_cpu(server.process.pid), os.times()
    share = [connections // processes + (1 if i < connections % processes else 0) for i in range(processes)]
    for i, n in enumerate(share):
        plan = {
            "host": "127.0.0.1",
            "port": server.port,
            "connections": n,
            "seconds": seconds,
            "warmup": warmup,
            "expect": expect,
            "requests": requests,
            "offset": sum(share[:i]),
            "tag": f"{i}-{secrets.token_hex(3)}",
        }
        p = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "loadgen.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert p.stdin is not None
        p.stdin.write(json.dumps(plan).encode())
        p.stdin.close()
        procs.append(p)
    spy = None
    if profile:
        time.sleep(warmup)
        spy = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(server.process.pid),
                "--duration",
                str(int(seconds) - 1),
                "--format",
                "raw",
                "--subprocesses",
                "--nonblocking",
                "--rate",
                os.environ.get("BENCH_PROFILE_RATE", "100"),
                *(["--gil"] if os.environ.get("BENCH_PROFILE_GIL") else []),
                "-o",
                str(RESULTS / f"{profile}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    parts = []
    for p in procs:
        assert p.stdout is not None
        out = p.stdout.read()
        if p.wait() != 0:
            raise RuntimeError("a load generator failed")
        parts.append(json.loads(out))
    server_cpu = process_tree_cpu(server.process.pid) - cpu_before
    after = os.times()
    load_cpu = after.children_user + after.children_system
    load_cpu -= children_before.children_user + children_before.children_system
    if spy is not None:
        spy.wait()
    out = summarize(parts, seconds)
    # CPU over the whole run (warmup included): what one request costs the server, and the generator's share.
    total = out["requests"] * (warmup + seconds) / seconds or 1
    out["server_cpu_us_per_req"] = round(server_cpu / total * 1e6, 1)
    out["server_cores"] = round(server_cpu / (warmup + seconds), 2)
    out["loadgen_cores"] = round(load_cpu / (warmup + seconds), 2)
    return out


def summarize(parts: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    lat = sorted(x for p in parts for x in p["latencies_us"])
    statuses: dict[str, int] = {}
    for p in parts:
        for k, v in p["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v

    def pct(q: float) -> float:
        return round(lat[min(len(lat) - 1, int(q * len(lat)))] / 1000, 2) if lat else 0.0

    return {
        "requests": len(lat),
        "rps": round(len(lat) / seconds, 1),
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": round(lat[-1] / 1000, 2) if lat else 0.0,
        "errors": sum(p["errors"] for p in parts),
        "statuses": statuses,
        "error_samples": [s for p in parts for s in p.get("error_samples", [])][:3],
    }


def common_args(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--clients", type=int, default=64, help="concurrent keep-alive connections")
    p.add_argument("--seconds", type=float, default=10.0, help="measured seconds per scenario")
    p.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each scenario")
    p.add_argument("--load-procs", type=int, default=1, help="load generator processes")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a server setting (repeatable), passed as STACKYARD_NAME, e.g. --set workers=2 --set access_log=false",
    )
    p.add_argument("--label", default="", help="a name for this run in the results file")
    p.add_argument(
        "--profile",
        action="store_true",
        help="sample the server with py-spy (pip install py-spy into .venv) into bench/results/profile-*.txt",
    )
    return p


def server_settings(args: argparse.Namespace) -> dict[str, str]:
    """The `--set` settings; rate limits off unless set: a bench measures capacity with one
    organization, which the per-organization limits exist to keep well below it."""
    pairs = [item.partition("=") for item in args.set]
    return {"rate_limit_enabled": "false", **{name.strip(): value.strip() for name, _, value in pairs}}


def engines(choice: str) -> list[str]:
    return ["sqlite", "postgresql"] if choice == "both" else [choice]


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "load_before": os.getloadavg(), "python": sys.version.split()[0]}


def write_results(name: str, args: argparse.Namespace, rows: list[dict[str, Any]]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    label = f"-{args.label}" if args.label else ""
    path = RESULTS / f"{name}-{stamp}{label}.json"
    doc = {"bench": name, "args": vars(args), "machine": machine(), "results": rows}
    path.write_text(json.dumps(doc, indent=2))
    return path


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'engine':<11} {'scenario':<22} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'errors':>7} {'srv us/req':>10} {'srv cores':>9} {'gen cores':>9}"
    )
    for r in rows:
        print(
            f"{r['engine']:<11} {r['scenario']:<22} {r['rps']:>9.1f} {r['p50_ms']:>8.2f} "
            f"{r['p99_ms']:>8.2f} {r['max_ms']:>8.2f} {r['errors']:>7} {r['server_cpu_us_per_req']:>10} "
            f"{r['server_cores']:>9} {r['loadgen_cores']:>9}"
        )
        for sample in r.get("error_samples", []):
            print(f"    error sample: {sample}")
