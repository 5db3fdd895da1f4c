"""The edge data plane beside nginx `proxy_cache`, in front of one local origin (`edge_origin.py`).

    python bench/bench_edge.py [--seconds 5] [--clients 64] [--nodes 2] [--no-nginx]

Scenarios, each for the edge (`--nodes` data-plane processes on one port, SO_REUSEPORT, purges
through Redis) and for nginx (`worker_processes` = `--nodes`, Debian's package, installed with
apt-get when missing; skipped with a message when that is impossible):

- cached hits of 1.4 KB and 40 KB bodies: req/s, p50, p99 with `--clients` connections (wrk from
  Debian's package when installed, else `loadgen.py` in two processes);
- misses through to the origin (`Cache-Control: no-store`);
- purge to fresh: a purge sent through Redis until the sender learns that every node confirmed it
  (progress 1.0: it waits in Redis for the last confirmation, `publish_purge(wait=...)`), idle and
  under a hit load, and a read right after each confirmation (any stale read is counted); idle,
  beside the floor of the same hops with trivial subscribers (`purge_floor.py`) for a ratio;
- a tag purge of 10,000 cached objects (the node's apply step, in this process);
- publish to edge-fresh: an entry.publish committed on the spine until the edge serves the new
  version (the purge-on-publish consumer, woken by the commit, in this process with one node);
- collapsing: 100 concurrent misses of one key: origin fetches, and how long after the first
  waiter the last one was answered.

Results go to bench/results/bench_edge-*.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import purge_floor
from harness import ROOT, free_port, machine, process_tree_cpu, write_results

STACK = "bltbench0000000000"
REDIS = os.environ.get("STACKYARD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
DOMAIN = "bench.cdn"


@dataclass(frozen=True)
class BenchCaller:
    actor: str = "bench"
    kind: str = "user"
    request_id: str = "bench"
    remote_addr: str = "127.0.0.1"


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return round(s[min(len(s) - 1, int(q * len(s)))], 3) if s else 0.0


# -- processes ------------------------------------------------------------------------------------


def start(
    cmd: list[str], log: Path, ready: str | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    out = open(log, "wb")  # noqa: SIM115 - the process keeps it
    p = subprocess.Popen(
        cmd, stdout=subprocess.PIPE if ready else out, stderr=out, env={**os.environ, **(env or {})}
    )
    if ready:
        assert p.stdout is not None
        line = p.stdout.readline().decode()
        if ready not in line:
            raise RuntimeError(f"{cmd[:3]} did not start: {line!r}, see {log}")
    return p


def stop(p: subprocess.Popen[bytes]) -> None:
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()


def node_main(args: argparse.Namespace) -> None:
    """One data-plane process (`bench_edge.py node ...`)."""
    from stackyard.edge import fanout
    from stackyard.edge.proxy.plane import DataPlane
    from stackyard.settings import Settings
    from stackyard.store.engine import Database

    settings = Settings(
        data_dir=args.dir,
        allow_private_outbound=True,
        edge_disk_cache_bytes=0,
        access_log=False,
        edge_metrics_flush_seconds=5,
        edge_node_ttl_seconds=3,
    )
    hub = fanout.RedisHub(REDIS, node_ttl=3, prefix=args.prefix)
    fanout.use(hub)
    db = Database(args.db, pool_size=2)
    plane = DataPlane(db, settings, hub=hub)

    async def run() -> None:
        task = asyncio.ensure_future(plane.serve_forever("127.0.0.1", args.port))
        await asyncio.sleep(0.2)
        print("ready", flush=True)
        await task

    import uvloop

    uvloop.run(run())


# -- load -----------------------------------------------------------------------------------------


def load(
    port: int,
    path: str,
    *,
    clients: int,
    seconds: float,
    host: str = DOMAIN,
    pids: tuple[int, ...] = (),
    profile: str = "",
) -> dict[str, Any]:
    """Closed-loop keep-alive load: wrk when installed, else loadgen.py in two processes. With
    `pids`, the CPU those processes (and their children) spent per request, warmup included; with
    `profile`, py-spy samples the first of them into bench/results/profile-<profile>.txt."""
    cpu = sum(process_tree_cpu(p) for p in pids)
    spy = None
    if profile and pids:
        spy = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(pids[0]),
                "--duration",
                str(max(1, round(seconds))),
                "--format",
                "raw",
                "--nonblocking",
                "-o",
                str(ROOT / "bench" / "results" / f"profile-{profile}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    out = _load(port, path, clients=clients, seconds=seconds, host=host)
    if spy is not None:
        spy.wait()
    if pids:
        spent = sum(process_tree_cpu(p) for p in pids) - cpu
        requests = out["rps"] * (seconds + out.pop("warmup")) or 1
        out["srv_us_per_req"] = round(spent / requests * 1e6, 1)
    else:
        out.pop("warmup")
    return out


def _load(port: int, path: str, *, clients: int, seconds: float, host: str) -> dict[str, Any]:
    if shutil.which("wrk"):
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{clients}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "-H",
                f"Host: {host}",
                f"http://127.0.0.1:{port}{path}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

        def lat(q: str) -> float:
            m = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s)", out, re.M)
            if m is None:
                return 0.0
            v, unit = float(m.group(1)), m.group(2)
            return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        socket_errors = re.search(r"Socket errors: (.*)", out)
        return {
            "tool": "wrk",
            "rps": round(rps),
            "p50_ms": round(lat("50"), 3),
            "p99_ms": round(lat("99"), 3),
            "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else "",
            "warmup": 0.0,
        }
    from harness import Server, drive

    server = Server(
        url=f"http://127.0.0.1:{port}", port=port, process=subprocess.Popen(["sleep", str(seconds + 5)])
    )
    out = drive(
        server,
        [{"method": "GET", "path": path, "headers": {"Host": host}}],
        connections=clients,
        seconds=seconds,
        processes=2,
    )
    return {
        "tool": "loadgen",
        "rps": round(out["rps"]),
        "p50_ms": out["p50_ms"],
        "p99_ms": out["p99_ms"],
        "non_2xx": out["errors"],
        "warmup": 1.0,
    }


NGINX_CONF = """
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;  # as the edge: a client connection is never closed after N requests
    proxy_cache_path {dir}/cache levels=1:2 keys_zone=bench:50m max_size=1g inactive=60m use_temp_path=off;
    upstream origin {{ server 127.0.0.1:{origin}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port} reuseport;
        location / {{
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache bench;
            proxy_cache_lock on;
            add_header X-Cache $upstream_cache_status;
        }}
    }}
}}
"""


def nginx_binary() -> str | None:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if found:
        return found
    try:
        subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "nginx-light"],
            check=True,
            capture_output=True,
            timeout=300,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    except (OSError, subprocess.SubprocessError) as e:
        print(f"nginx is not installed and could not be installed ({e}); skipping the nginx comparison")
        return None
    return shutil.which("nginx") or "/usr/sbin/nginx"


# -- the in-process measurements ----------------------------------------------------------------


def tag_purge_10k() -> dict[str, Any]:
    """The node's apply step for a tag purge of 10,000 cached objects; then the sweep that frees
    them (which a node runs afterwards in slices between requests), and a lookup that must miss."""
    from stackyard.edge.proxy import purge
    from stackyard.edge.proxy.store import Cache, Entry

    times, sweeps = [], []
    for _ in range(5):
        cache = Cache(None, memory_bytes=10**10, disk_bytes=0, max_object_bytes=10**9)
        for i in range(10_000):
            e = Entry(
                key=f"k{i}",
                base=f"k{i}",
                site_id="s",
                path=f"/o/{i}",
                target=f"/o/{i}",
                status=200,
                headers=[],
                lheaders={},
                body=b"x",
                head=b"",
                stored_at=0.0,
                initial_age=0.0,
                ttl=60.0,
                swr=0.0,
                sie=0.0,
                revalidate_always=False,
                must_revalidate=False,
                etag=None,
                last_modified=None,
                tags=("bulk", f"o{i}"),
                size=100,
            )
            cache.vary[f"k{i}"] = ()
            cache.put(e, ())
        item = {
            "host": None,
            "path": "/",
            "target": "/",
            "recursive": True,
            "any_query": False,
            "invalidate": False,
            "selectors": [{"type": "TAG", "name": "", "values": ["bulk"]}],
        }
        swept: list[tuple[str, set[str]]] = []
        t = time.perf_counter()
        n = purge.apply(cache, item, ["s"], lambda tag, keys, out=swept: out.append((tag, keys)))
        times.append((time.perf_counter() - t) * 1000)
        assert n == 10_000 and cache.get("k5", lambda _: None) is None
        t = time.perf_counter()
        for tag, keys in swept:
            while keys:
                cache.sweep(tag, keys, 2000)
        sweeps.append((time.perf_counter() - t) * 1000)
        assert len(cache) == 0, len(cache)
    return {
        "objects": 10_000,
        "best_ms": round(min(times), 3),
        "median_ms": round(statistics.median(times), 3),
        "sweep_median_ms": round(statistics.median(sweeps), 1),
    }


def purge_to_fresh(hub: Any, site_id: str, edge_port: int, origin_port: int, rounds: int) -> dict[str, Any]:
    """Publish a purge of /versioned through Redis; time until the sender learns that every node
    confirmed it (progress 1.0, counted by the last confirmation); then read."""
    from stackyard.edge import purges

    acked, stale = [], 0
    with (
        httpx.Client(base_url=f"http://127.0.0.1:{edge_port}", headers={"host": DOMAIN}) as edge,
        httpx.Client(base_url=f"http://127.0.0.1:{origin_port}") as origin,
    ):
        for _ in range(4):
            edge.get("/versioned")
        for _ in range(rounds):
            for _ in range(4):
                edge.get("/versioned")  # cached on the nodes
            version = origin.get("/bump").text
            message = purges.tag_purge([site_id], ["bench.versioned"])
            t0 = time.perf_counter()
            # answered when the last node's confirmation counted the progress to 1.0 (in Redis)
            if hub.publish_purge(message, wait=5.0) < 1.0:
                raise RuntimeError("a purge was not confirmed by every node within 5 s")
            acked.append((time.perf_counter() - t0) * 1000)
            for _ in range(4):
                if edge.get("/versioned").text != f"v{version}":
                    stale += 1
    return {
        "rounds": rounds,
        "p50_ms": pct(acked, 0.5),
        "p99_ms": pct(acked, 0.99),
        "max_ms": round(max(acked), 3),
        "stale_reads_after_ack": stale,
    }


def in_process(db_url: str, data_dir: str, origin_port: int, rounds: int) -> dict[str, Any]:
    """Publish to edge-fresh and collapsing, with one node and the consumer in this process."""

    from stackyard.core import spine
    from stackyard.core.wakeup import Wakeup
    from stackyard.edge import fanout, publish
    from stackyard.edge.proxy.plane import DataPlane
    from stackyard.settings import Settings
    from stackyard.store.engine import Database

    db = Database(db_url, pool_size=4)
    fanout.use(fanout.LocalHub())
    settings = Settings(
        data_dir=data_dir,
        allow_private_outbound=True,
        edge_disk_cache_bytes=0,
        port=origin_port,
        access_log=False,
        edge_metrics_flush_seconds=3600,
    )
    plane = DataPlane(db, settings)
    plane.start("127.0.0.1", 0)
    wakeup = Wakeup(db, change_check_ms=2)
    wakeup.start()
    consumer = publish.consumer(db, settings, wakeup)
    consumer.start()
    with db.read() as tx:
        org = str(tx.scalar("SELECT org_uid FROM stacks WHERE api_key = ?", STACK))
    scope = spine.StackScope(BenchCaller(), STACK, org)
    out: dict[str, Any] = {}
    try:
        fresh = []
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{plane.port}", headers={"host": DOMAIN}) as edge,
            httpx.Client(base_url=f"http://127.0.0.1:{origin_port}") as origin,
        ):
            for i in range(rounds):
                edge.get("/versioned"), edge.get("/versioned")
                version = origin.get("/bump").text
                t0 = time.perf_counter()
                with db.write() as tx:
                    spine.record(
                        tx,
                        scope,
                        "entry.publish",
                        "blt1",
                        {"title": "t", "source_locale": "en-us"},
                        content_type="blog",
                        locale="en-us",
                        environment="production",
                        version=i + 2,
                    )
                while edge.get("/versioned").text != f"v{version}":
                    if time.perf_counter() - t0 > 5:
                        raise RuntimeError("the publish never reached the edge")
                fresh.append((time.perf_counter() - t0) * 1000)
        out["publish_to_fresh"] = {
            "rounds": rounds,
            "p50_ms": pct(fresh, 0.5),
            "p99_ms": pct(fresh, 0.99),
            "max_ms": round(max(fresh), 2),
        }
        out["collapsing"] = asyncio.run(collapse(plane.port, origin_port))
    finally:
        consumer.stop()
        wakeup.stop()
        plane.stop()
        db.close()
    return out


async def collapse(edge_port: int, origin_port: int, n: int = 100) -> dict[str, Any]:
    key = secrets.token_hex(4)
    before = json.loads(httpx.get(f"http://127.0.0.1:{origin_port}/stats").text).get("/slow", 0)
    request = f"GET /slow?k={key} HTTP/1.1\r\nHost: {DOMAIN}\r\n\r\n".encode()

    async def one() -> float:
        reader, writer = await asyncio.open_connection("127.0.0.1", edge_port)
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"Content-Length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
        await reader.readexactly(length)
        done = time.perf_counter()
        writer.close()
        return done

    done = await asyncio.gather(*(one() for _ in range(n)))
    after = json.loads(httpx.get(f"http://127.0.0.1:{origin_port}/stats").text).get("/slow", 0)
    return {
        "concurrent_misses": n,
        "origin_fetches": after - before,
        "release_spread_ms": round((max(done) - min(done)) * 1000, 2),
    }


# -- main -----------------------------------------------------------------------------------------


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=5.0, help="measured seconds per load scenario")
    p.add_argument("--clients", type=int, default=64, help="keep-alive connections")
    p.add_argument("--nodes", type=int, default=2, help="edge data-plane processes (and nginx workers)")
    p.add_argument("--rounds", type=int, default=200, help="purge and publish rounds")
    p.add_argument("--no-nginx", action="store_true", help="skip the nginx comparison")
    p.add_argument("--label", default="", help="a name for this run in the results file")
    p.add_argument(
        "--profile",
        action="store_true",
        help="sample one edge node with py-spy during each load into bench/results/profile-edge-*.txt",
    )
    sub = p.add_subparsers(dest="role")
    n = sub.add_parser("node", help="(internal) one data-plane process")
    for a in ("--db", "--dir", "--prefix"):
        n.add_argument(a, required=True)
    n.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    if args.role == "node":
        node_main(args)
        return
    run(args)


def run(args: argparse.Namespace) -> None:
    from stackyard.content.delivery import tags
    from stackyard.edge import fanout, sites, stacks
    from stackyard.edge.access import EdgeCaller
    from stackyard.identity import organizations, users
    from stackyard.ids import now
    from stackyard.store import migrations
    from stackyard.store.engine import Database

    work = Path(tempfile.mkdtemp(prefix="bench-edge-"))
    db_url = f"sqlite:///{work}/bench.db"
    db = Database(db_url)
    migrations.upgrade(db)
    origin_port, edge_port, nginx_port = free_port(), free_port(), free_port()
    procs: list[subprocess.Popen[bytes]] = []
    rows: list[dict[str, Any]] = []
    try:
        with db.write() as tx:
            user, _ = users.create(tx, "bench@example.com", password_hash="x")
            org = organizations.create(tx, user, "bench")
            caller = EdgeCaller(org, "bench")
            t = now()
            tx.run(
                "INSERT INTO stacks (api_key, uid, org_uid, name, master_locale, owner_uid, settings, stack_settings, "
                "created_by, updated_by, created_at, updated_at) VALUES (?, 'bench', ?, 'bench', 'en-us', ?, '{}', '{}', ?, ?, ?, ?)",
                STACK,
                org,
                user,
                user,
                user,
                t,
                t,
            )
            stack_id = stacks.create(tx, caller, {"name": "bench"})["id"]
            site_id = sites.create(
                tx,
                caller,
                stack_id,
                {"domain": DOMAIN, "origin": {"hostname": "127.0.0.1", "port": origin_port}},
            )["id"]
        procs.append(
            start(
                [
                    sys.executable,
                    str(ROOT / "bench" / "edge_origin.py"),
                    str(origin_port),
                    f"bench.versioned,{tags.entry(STACK, 'blt1')}",
                ],
                work / "origin.log",
                "ready",
            )
        )
        prefix = "stackyard-bench:" + secrets.token_hex(4)
        for i in range(args.nodes):
            procs.append(
                start(
                    [
                        sys.executable,
                        __file__,
                        "node",
                        "--db",
                        db_url,
                        "--dir",
                        str(work / f"n{i}"),
                        "--prefix",
                        prefix,
                        "--port",
                        str(edge_port),
                    ],
                    work / f"node{i}.log",
                    "ready",
                    env={"PYTHONPATH": str(ROOT / "src")},
                )
            )
        hub = fanout.RedisHub(REDIS, node_ttl=3, prefix=prefix)
        deadline = time.monotonic() + 20
        while len(hub.live_nodes()) < args.nodes:
            if time.monotonic() > deadline:
                raise RuntimeError("the edge nodes did not join")
            time.sleep(0.1)
        nginx = None if args.no_nginx else nginx_binary()
        if nginx:
            (work / "nginx").mkdir()
            # nginx's workers run as an unprivileged user: let them reach their cache directory.
            work.chmod(0o755)
            (work / "nginx").chmod(0o777)
            conf = work / "nginx" / "nginx.conf"
            conf.write_text(
                NGINX_CONF.format(workers=args.nodes, dir=work / "nginx", origin=origin_port, port=nginx_port)
            )
            procs.append(
                start(
                    [nginx, "-c", str(conf), "-p", str(work / "nginx"), "-g", "daemon off;"],
                    work / "nginx.log",
                )
            )
            time.sleep(0.5)
        node_pids = tuple(p_.pid for p_ in procs[1 : 1 + args.nodes])
        targets = [("edge", edge_port, node_pids)] + (
            [("nginx", nginx_port, (procs[-1].pid,))] if nginx else []
        )
        for path, label in (("/small", "hit 1.4 KB"), ("/large", "hit 40 KB"), ("/nostore", "miss (origin)")):
            for name, port, pids in targets:
                with httpx.Client(headers={"host": DOMAIN}) as c:  # warm the caches of every process
                    for _ in range(20):
                        r = c.get(f"http://127.0.0.1:{port}{path}")
                        assert r.status_code == 200, r.text
                row = {
                    "target": name,
                    "scenario": label,
                    **load(
                        port,
                        path,
                        clients=args.clients,
                        seconds=args.seconds,
                        pids=pids,
                        profile=f"{name}-{path.strip('/')}" if args.profile and name == "edge" else "",
                    ),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
        idle = purge_to_fresh(hub, site_id, edge_port, origin_port, args.rounds)
        rows.append({"target": "edge", "scenario": "purge to fresh, idle", **idle})
        print(json.dumps(rows[-1]), flush=True)
        floor = purge_floor.measure(REDIS, args.nodes, args.rounds)
        rows.append(
            {
                "target": "floor",
                "scenario": "purge to fresh, idle",
                "rounds": args.rounds,
                "p50_ms": pct(floor, 0.5),
                "p99_ms": pct(floor, 0.99),
                "max_ms": round(max(floor), 3),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
        background: dict[str, Any] = {}
        loader = threading.Thread(
            target=lambda: background.update(
                load(edge_port, "/small", clients=args.clients, seconds=args.seconds + 2)
            )
        )
        loader.start()
        time.sleep(1)
        busy = purge_to_fresh(hub, site_id, edge_port, origin_port, max(20, args.rounds // 4))
        loader.join()
        rows.append(
            {
                "target": "edge",
                "scenario": "purge to fresh, under load",
                **busy,
                "load_rps": background.get("rps"),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
        hub.close()
        rows.append({"target": "edge", "scenario": "tag purge of 10,000 objects", **tag_purge_10k()})
        print(json.dumps(rows[-1]), flush=True)
        for p_ in procs[1:]:
            stop(p_)
        procs = procs[:1]
        found = in_process(db_url, str(work / "inproc"), origin_port, max(20, args.rounds // 4))
        rows.append({"target": "edge", "scenario": "publish to edge-fresh", **found["publish_to_fresh"]})
        rows.append({"target": "edge", "scenario": "collapsed misses", **found["collapsing"]})
        for r in rows[-2:]:
            print(json.dumps(r), flush=True)
    finally:
        for p_ in procs:
            stop(p_)
        db.close()
        shutil.rmtree(work, ignore_errors=True)
    ratios = {}
    peers = [r for r in rows if r["target"] in ("nginx", "floor")]
    for e in rows:
        n_ = next((r for r in peers if e["target"] == "edge" and r["scenario"] == e["scenario"]), None)
        if n_:
            ratios[e["scenario"]] = {
                **({"rps_ratio": round(e["rps"] / max(1, n_["rps"]), 2)} if "rps" in n_ else {}),
                "p99_ratio": round(e["p99_ms"] / max(0.001, n_["p99_ms"]), 2),
            }
    rows.append({"target": "edge/peer", "scenario": "ratios", **ratios})
    path = write_results("bench_edge", args, rows)
    print()
    print(
        f"{'scenario':<30} {'edge req/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'us/req':>6}"
        f" | {'peer':<5} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'us/req':>6} | {'req/s x':>7} {'p99 x':>6}"
    )
    for r in rows[:-1]:
        if r["target"] != "edge":
            continue
        p50, p99 = r.get("p50_ms", r.get("best_ms", "")), r.get("p99_ms", "")
        line = (
            f"{r['scenario']:<30} {r.get('rps', ''):>10} {p50:>7} {p99:>7} {r.get('srv_us_per_req', ''):>6}"
        )
        peer = next((n for n in peers if n["scenario"] == r["scenario"]), None)
        if peer is not None:
            ratio = ratios.get(r["scenario"], {})
            line += (
                f" | {peer['target']:<5} {peer.get('rps', ''):>7} {peer['p50_ms']:>7} {peer['p99_ms']:>7}"
                f" {peer.get('srv_us_per_req', ''):>6} | {ratio.get('rps_ratio', ''):>7} {ratio.get('p99_ratio', ''):>6}"
            )
        print(line)
    print(f"machine: {machine()}; results: {path}")


if __name__ == "__main__":
    main()
