"""Delivery reads: (a) one entry by uid, (b) 25 entries filtered by a number field and sorted, (c) 25
entries with their author included; uncached and cached, and the same reads from a minimal floor
server (`bench_delivery_floor.py`) on the same data, for Stackyard / floor ratios.

Dataset (`--articles`, default 1,000; `--authors`, 50): the `author` and `article` content types,
one author and one article made and published through the CMA, then that published article and
author cloned into `published` rows with fresh uids, titles, ratings 0..999 and authors (the
generator writes the snapshot table directly, with the columns publishing writes, the stored spans
of `include[]` splicing included: publishing 100,000 entries one by one through the CMA would take
longer than the bench). A delivery token for `production` reads them.

Per engine, one server with the response cache off (`delivery_cache_bytes=0`: every request runs
the query), then one with it on, on the same database; then the floor (SQLite only).

    .venv/bin/python bench/bench_delivery.py --engine both --seconds 8
    .venv/bin/python bench/bench_delivery.py --engine sqlite --articles 100000 --only b,c
    .venv/bin/python bench/bench_delivery.py --set workers=2
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from harness import (
    EMAIL,
    PASSWORD,
    RESULTS,
    SERVE,
    Server,
    common_args,
    drive,
    engines,
    free_port,
    postgres_database,
    print_table,
    server_settings,
    wait_healthy,
    write_results,
)

TITLE = {"display_name": "Title", "uid": "title", "data_type": "text", "mandatory": True, "unique": False}
OPTIONS = {"is_page": False, "singleton": False, "title": "title", "sub_title": []}
AUTHOR = {
    "content_type": {
        "title": "Author",
        "uid": "author",
        "schema": [TITLE, {"display_name": "Bio", "uid": "bio", "data_type": "text"}],
        "options": OPTIONS,
    }
}
ARTICLE = {
    "content_type": {
        "title": "Article",
        "uid": "article",
        "schema": [
            TITLE,
            {
                "display_name": "Body",
                "uid": "body",
                "data_type": "text",
                "field_metadata": {"multiline": True},
            },
            {"display_name": "Rating", "uid": "rating", "data_type": "number"},
            {"display_name": "Author", "uid": "author", "data_type": "reference", "reference_to": ["author"]},
        ],
        "options": OPTIONS,
    }
}


@contextlib.contextmanager
def process(
    env: dict[str, str], cmd: list[str], log_name: str, cwd: str
) -> Iterator[subprocess.Popen[bytes]]:
    with open(RESULTS / log_name, "wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def stackyard(url: str, data_dir: str, settings: dict[str, str], log: str) -> Iterator[Server]:
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
    with process(env, [sys.executable, "-c", SERVE], log, data_dir) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, proc)
        wait_listening(port, int(settings.get("workers", "1")))
        yield Server(url=base, port=port, process=proc)


def wait_listening(port: int, sockets: int, timeout: float = 60) -> None:
    """Wait until `sockets` sockets listen on `port`: with `--workers` each worker listens on a
    socket of its own once it has started (`server/listen.py`), and /healthz answers as soon as
    the first one does; connections made before the others listen all land on that one."""
    if sockets <= 1:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listening = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError), open(table) as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        listening += 1
        if listening >= sockets or not Path("/proc/net/tcp").exists():
            return
        time.sleep(0.05)
    raise RuntimeError(f"only some of the {sockets} workers listen on port {port}")


@contextlib.contextmanager
def floor(db_path: str, env_uid: str) -> Iterator[Server]:
    port = free_port()
    env = {**os.environ, "STACKYARD_FLOOR_DB": db_path, "STACKYARD_FLOOR_ENV": env_uid}
    here = str(Path(__file__).resolve().parent)
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "bench_delivery_floor:app", "--port", str(port)]
    cmd += ["--log-level", "warning", "--no-access-log", "--http", "httptools", "--loop", "uvloop"]
    with process(env, cmd, "server-delivery-floor.log", here) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, proc)
        yield Server(url=base, port=port, process=proc)


def prepare(server: Server, url: str, articles: int, authors: int) -> dict[str, Any]:
    """Content types, a token, one published article and author via the CMA, then the clones."""
    with httpx.Client(base_url=server.url, timeout=60) as c:
        r = c.post("/v3/user-session", json={"user": {"email": EMAIL, "password": PASSWORD}})
        r.raise_for_status()
        token = r.json()["user"]["authtoken"]
        r = c.post(
            "/v3/stacks",
            json={"stack": {"name": "Bench", "master_locale": "en-us"}},
            headers={"authtoken": token},
        )
        r.raise_for_status()
        api_key = r.json()["stack"]["api_key"]
        c.headers.update({"authtoken": token, "api_key": api_key})
        c.post("/v3/environments", json={"environment": {"name": "production"}}).raise_for_status()
        for body in (AUTHOR, ARTICLE):
            c.post("/v3/content_types", json=body).raise_for_status()
        r = c.post(
            "/v3/stacks/delivery_tokens",
            json={
                "token": {
                    "name": "Bench",
                    "scope": [{"module": "environment", "environments": ["production"]}],
                }
            },
        )
        r.raise_for_status()
        delivery = r.json()["token"]["token"]
        au = c.post(
            "/v3/content_types/author/entries", json={"entry": {"title": "Author 0", "bio": "Writes."}}
        ).json()["entry"]
        art = c.post(
            "/v3/content_types/article/entries",
            json={
                "entry": {
                    "title": "Article 0",
                    "body": "Body text. " * 30,
                    "rating": 1,
                    "author": [{"uid": au["uid"], "_content_type_uid": "author"}],
                }
            },
        ).json()["entry"]
        pub = {"entry": {"environments": ["production"], "locales": ["en-us"]}, "locale": "en-us"}
        for ct, e in (("author", au), ("article", art)):
            c.post(f"/v3/content_types/{ct}/entries/{e['uid']}/publish", json=pub).raise_for_status()
    from stackyard.content.publishing.snapshots import document_columns
    from stackyard.store.engine import Database, jload

    db = Database(url)
    rng = random.Random(7)
    with db.write() as tx:
        rows = {
            r["content_type_uid"]: r for r in tx.all("SELECT * FROM published WHERE api_key = ?", api_key)
        }
        env_uid = rows["article"]["environment"]
        templates = {ct: jload(r["document"]) for ct, r in rows.items()}
        author_uids = [au["uid"]] + [f"bltauthor{i:07d}" for i in range(1, authors)]
        batch: list[tuple[Any, ...]] = []

        def add(ct: str, uid: str, doc: dict[str, Any], at: str) -> None:
            r = rows[ct]
            batch.append(
                (
                    api_key,
                    env_uid,
                    "en-us",
                    "entry",
                    uid,
                    ct,
                    "en-us",
                    1,
                    *document_columns(db.dialect, "entry", doc),
                    at,
                    r["published_by"],
                )
            )

        for i, uid in enumerate(author_uids[1:], 1):
            add(
                "author",
                uid,
                {**templates["author"], "uid": uid, "title": f"Author {i}"},
                rows["author"]["published_at"],
            )
        for i in range(1, articles):
            uid = f"bltarticle{i:08d}"
            doc = {
                **templates["article"],
                "uid": uid,
                "title": f"Article {i}",
                "rating": rng.randrange(1000),
                "author": [{"uid": rng.choice(author_uids), "_content_type_uid": "author"}],
            }
            add("article", uid, doc, f"2026-01-01T00:00:{i % 60:02d}.{i % 1000:03d}Z")
            if len(batch) >= 5000:
                tx.run_many(_INSERT, batch)
                batch.clear()
        tx.run_many(_INSERT, batch)
        uids = [r["uid"] for r in tx.all(
            "SELECT uid FROM published WHERE api_key = ? AND content_type_uid = 'article' ORDER BY uid LIMIT 100", api_key
        )]  # fmt: skip
    if db.dialect == "postgresql":
        with db.write() as tx:
            tx.run("ANALYZE published")
    else:
        with db.write() as tx:
            tx.run("ANALYZE")
    db.close()
    return {"api_key": api_key, "token": delivery, "env_uid": env_uid, "uids": uids}


_INSERT = (
    "INSERT INTO published (api_key, branch, environment, locale, kind, uid, content_type_uid, source_locale, "
    "version, document, spans, published_at, published_by) VALUES (?, 'main', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def scenarios(data: dict[str, Any], only: set[str]) -> list[tuple[str, list[dict[str, Any]]]]:
    headers = {"api_key": data["api_key"], "access_token": data["token"], "environment": "production"}
    base = "/v3/content_types/article/entries"
    out = []
    if "a" in only:
        out.append(
            (
                "(a) entry by uid",
                [{"method": "GET", "path": f"{base}/{u}", "headers": headers} for u in data["uids"]],
            )
        )
    if "b" in only:
        reqs = []
        for x in range(0, 1000, 50):
            q = quote(json.dumps({"rating": {"$gte": x}}))
            reqs.append(
                {"method": "GET", "path": f"{base}?query={q}&desc=rating&limit=25", "headers": headers}
            )
        out.append(("(b) filter + sort, 25", reqs))
    if "c" in only:
        reqs = [
            {
                "method": "GET",
                "path": f"{base}?include%5B%5D=author&limit=25&skip={25 * k}",
                "headers": headers,
            }
            for k in range(20)
        ]
        out.append(("(c) 25 + author", reqs))
    return out


def main() -> None:
    p = common_args(__doc__.splitlines()[0] if __doc__ else "")
    p.add_argument("--articles", type=int, default=1000)
    p.add_argument("--authors", type=int, default=50)
    p.add_argument("--only", default="a,b,c", help="scenarios to run, e.g. b,c")
    p.add_argument("--no-floor", action="store_true", help="skip the floor server")
    args = p.parse_args()
    only = set(args.only.split(","))
    settings = server_settings(args)
    rows: list[dict[str, Any]] = []
    RESULTS.mkdir(parents=True, exist_ok=True)

    def run(engine: str, label: str, server: Server, reqs: list[dict[str, Any]], name: str) -> None:
        result = drive(
            server, reqs, connections=args.clients, seconds=args.seconds, warmup=args.warmup,
            processes=args.load_procs, profile=f"profile-delivery-{label}-{engine}" if args.profile else "",
        )  # fmt: skip
        rows.append({"engine": engine, "scenario": f"{name} {label}", "articles": args.articles, **result})
        print_table(rows[-1:])

    for engine in engines(args.engine):
        with contextlib.ExitStack() as stack:
            data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="stackyard-bench-"))
            url = (
                f"sqlite:///{data_dir}/stackyard.db"
                if engine == "sqlite"
                else stack.enter_context(postgres_database())
            )
            with stackyard(
                url,
                data_dir,
                {**settings, "delivery_cache_bytes": "0"},
                f"server-delivery-{engine}-uncached.log",
            ) as server:
                data = prepare(server, url, args.articles, args.authors)
                for name, reqs in scenarios(data, only):
                    run(engine, "uncached", server, reqs, name)
            with stackyard(url, data_dir, settings, f"server-delivery-{engine}-cached.log") as server:
                for name, reqs in scenarios(data, only):
                    run(engine, "cached", server, reqs, name)
            if engine == "sqlite" and not args.no_floor:
                with floor(f"{data_dir}/stackyard.db", data["env_uid"]) as server:
                    for name, reqs in scenarios(data, only):
                        run("floor", "floor", server, reqs, name)
    ratios(rows)
    path = write_results("delivery", args, rows)
    print()
    print_table(rows)
    print(f"results: {path}")


def ratios(rows: list[dict[str, Any]]) -> None:
    floors = {r["scenario"].removesuffix(" floor"): r["rps"] for r in rows if r["engine"] == "floor"}
    for r in rows:
        base = r["scenario"].rsplit(" ", 1)[0]
        if r["engine"] != "floor" and floors.get(base):
            r["floor_ratio"] = round(r["rps"] / floors[base], 2)
    print()
    for r in rows:
        if "floor_ratio" in r:
            print(
                f"{r['engine']:<11} {r['scenario']:<32} {r['rps']:>9.1f} req/s  = {r['floor_ratio']:.2f} x floor"
            )


if __name__ == "__main__":
    main()
