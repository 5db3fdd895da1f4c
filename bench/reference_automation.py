"""A minimal reference server for bench_automation: the same work as a webhook -> rule -> core.noop
run, with nothing else. It accepts `POST /api/v1/webhooks/<hook>` with an X-Auth-Token, checks the
token against a table, and in one transaction writes a trigger instance, an enforcement and a
finished execution row (the no-op, run inline), then answers 202 echoing the body. Same engines and
durability as Stackyard (SQLite in WAL with synchronous=FULL; PostgreSQL), one connection per
request thread from a small pool, no framework but uvicorn.

    python bench/reference_automation.py PORT DATABASE_URL TOKEN
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import sqlite3
import sys
import threading
import time
from typing import Any

import anyio
import uvicorn

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, org TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS instances (id TEXT PRIMARY KEY, org TEXT, trigger TEXT, payload TEXT, at TEXT)",
    "CREATE TABLE IF NOT EXISTS enforcements (id TEXT PRIMARY KEY, org TEXT, instance TEXT, execution TEXT, at TEXT)",
    "CREATE TABLE IF NOT EXISTS executions (id TEXT PRIMARY KEY, org TEXT, action TEXT, status TEXT, doc TEXT, at TEXT)",
]


class Store:
    def __init__(self, url: str) -> None:
        self.pg = url.startswith("postgresql")
        self.pool: queue.Queue[Any] = queue.Queue()
        self.lock = threading.Lock()  # SQLite: one writer, as in Stackyard
        for _ in range(8):
            self.pool.put(self._connect(url))
        conn = self.pool.get()
        for sql in SCHEMA:
            conn.execute(sql)
        conn.commit()
        self.pool.put(conn)
        self.ph = "%s" if self.pg else "?"

    def _connect(self, url: str) -> Any:
        if self.pg:
            import psycopg

            return psycopg.connect(url)
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=5000")
        return conn

    def add_token(self, token: str) -> None:
        conn = self.pool.get()
        try:
            conn.execute(f"INSERT INTO tokens VALUES ({self.ph}, {self.ph})", (token, "org"))
            conn.commit()
        finally:
            self.pool.put(conn)

    def webhook(self, token: str, hook: str, body: bytes) -> bool:
        p = self.ph
        conn = self.pool.get()
        try:
            row = conn.execute(f"SELECT org FROM tokens WHERE token = {p}", (token,)).fetchone()
            if row is None:
                return False
            org = row[0]
            now = time.strftime("%Y-%m-%dT%H:%M:%S")
            ids = [secrets.token_hex(12) for _ in range(3)]
            doc = json.dumps({"action": "core.noop", "status": "succeeded", "result": {"return_code": 0}})
            with self.lock if not self.pg else _Nothing():
                if not self.pg:
                    conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    f"INSERT INTO instances VALUES ({p}, {p}, {p}, {p}, {p})",
                    (ids[0], org, hook, body.decode(), now),
                )
                conn.execute(
                    f"INSERT INTO executions VALUES ({p}, {p}, {p}, {p}, {p}, {p})",
                    (ids[2], org, "core.noop", "succeeded", doc, now),
                )
                conn.execute(
                    f"INSERT INTO enforcements VALUES ({p}, {p}, {p}, {p}, {p})",
                    (ids[1], org, ids[0], ids[2], now),
                )
                conn.execute("COMMIT") if not self.pg else conn.commit()
            return True
        finally:
            self.pool.put(conn)


class _Nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def app_for(store: Store) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = dict(scope["headers"])
        path = scope["path"]
        if path == "/healthz":
            status, out = 200, b'{"status":"ok"}'
        elif scope["method"] == "POST" and path.startswith("/api/v1/webhooks/"):
            token = headers.get(b"x-auth-token", b"").decode()
            ok = await anyio.to_thread.run_sync(store.webhook, token, path.rsplit("/", 1)[1], body)
            status, out = (202, body) if ok else (401, b'{"faultstring":"Unauthorized"}')
        else:
            status, out = 404, b'{"faultstring":"not found"}'
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(out)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": out})

    return app


def main() -> None:
    port, url, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    store = Store(url)
    store.add_token(token)
    uvicorn.run(app_for(store), host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
