"""The floor for bench_delivery.py: the same three reads from a minimal server of our own, raw ASGI
+ sqlite3 + orjson on the same SQLite file, with no auth, no cache, no framework.

    uvicorn --factory bench_delivery_floor:app   (STACKYARD_FLOOR_DB=/path/stackyard.db)

Routes (the bench sends the same paths and query strings as to Stackyard, and the same headers):
    /v3/content_types/{ct}/entries/{uid}                       (a) one entry by uid
    /v3/content_types/{ct}/entries?query=...&desc=F&limit=25   (b) filtered by a number field, sorted
    /v3/content_types/{ct}/entries?include[]=author&limit=25&skip=N   (c) with the author included
It reads `published` rows the way a hand-written service would: one statement per read (two for
(c): the page, then its authors), documents spliced into the answer without re-encoding where
nothing changes in them, over the same indexes (the primary key, the listing index, and
Stackyard's expression index on `rating`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from typing import Any
from urllib.parse import parse_qs

import orjson

_local = threading.local()


def _db() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(os.environ["STACKYARD_FLOOR_DB"], check_same_thread=False)
        conn.execute("PRAGMA query_only=1")
        _local.conn = conn
    return conn


def _frag(text: str) -> orjson.Fragment:
    return orjson.Fragment(text)


def _value(field: str) -> str:
    """The typed value of a top-level number field, as Stackyard's expression index holds it."""
    path = f"'$.\"{field}\"'"
    return f"(CASE WHEN json_type(document, {path}) IN ('integer', 'real') THEN json_extract(document, {path}) END)"


def handle(path: str, qs: dict[str, list[str]], env: str, api_key: str) -> tuple[int, bytes]:
    if path == "/healthz":
        return 200, b'{"status":"ok"}'
    parts = path.strip("/").split("/")
    if len(parts) < 4 or parts[:2] != ["v3", "content_types"] or parts[3] != "entries":
        return 404, b'{"error_code":404}'
    ct = parts[2]
    db = _db()
    if len(parts) == 5:
        row = db.execute(
            "SELECT document FROM published WHERE api_key = ? AND branch = 'main' AND environment = ? "
            "AND kind = 'entry' AND content_type_uid = ? AND uid = ? AND locale = 'en-us'",
            (api_key, env, ct, parts[4]),
        ).fetchone()
        if row is None:
            return 422, b'{"error_code":141}'
        return 200, orjson.dumps({"entry": _frag(row[0])})
    limit = int(qs.get("limit", ["100"])[0])
    skip = int(qs.get("skip", ["0"])[0])
    if "query" in qs:
        q = json.loads(qs["query"][0])
        ((field, cond),) = q.items()
        ((op, value),) = cond.items()
        sql_op = {"$gte": ">=", "$gt": ">", "$lt": "<", "$lte": "<="}[op]
        desc = qs.get("desc", [field])[0]
        rows = db.execute(
            "SELECT document FROM published WHERE api_key = ? AND branch = 'main' AND environment = ? "
            f"AND kind = 'entry' AND content_type_uid = ? AND locale = 'en-us' AND {_value(field)} {sql_op} ? "
            f"ORDER BY {_value(desc)} DESC, uid LIMIT ? OFFSET ?",
            (api_key, env, ct, value, limit, skip),
        ).fetchall()
        return 200, orjson.dumps({"entries": [_frag(r[0]) for r in rows]})
    rows = db.execute(
        "SELECT document FROM published WHERE api_key = ? AND branch = 'main' AND environment = ? "
        "AND kind = 'entry' AND content_type_uid = ? AND locale = 'en-us' ORDER BY published_at DESC, uid DESC "
        "LIMIT ? OFFSET ?",
        (api_key, env, ct, limit, skip),
    ).fetchall()
    docs = [orjson.loads(r[0]) for r in rows]
    if "include[]" in qs:
        field = qs["include[]"][0]
        uids = sorted({s["uid"] for d in docs for s in d.get(field) or []})
        marks = ",".join("?" * len(uids))
        found = {
            u: orjson.loads(doc)
            for u, doc in db.execute(
                f"SELECT uid, document FROM published WHERE api_key = ? AND branch = 'main' AND environment = ? "
                f"AND kind = 'entry' AND uid IN ({marks}) AND locale = 'en-us'",
                (api_key, env, *uids),
            )
        }
        for d in docs:
            d[field] = [
                {**found[s["uid"]], "_content_type_uid": s["_content_type_uid"]}
                for s in d.get(field) or []
                if s["uid"] in found
            ]
    return 200, orjson.dumps({"entries": docs})


class Floor:
    def __init__(self) -> None:
        env = os.environ.get("STACKYARD_FLOOR_ENV", "")
        self.env = env

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        qs = parse_qs(scope.get("query_string", b"").decode())
        api_key = next((v.decode() for k, v in scope["headers"] if k == b"api_key"), "")
        status, body = handle(scope["path"], qs, self.env, api_key)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def app() -> Floor:
    return Floor()
