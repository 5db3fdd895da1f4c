"""GET handlers on SQLite run on the event loop; one that writes is started over on a worker thread."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import httpx
from starlette.applications import Starlette

from stackyard.api.routing import Req, Router, build_routes
from stackyard.core.ratelimit import RateLimiter
from stackyard.server.app import AppState
from stackyard.settings import Settings
from stackyard.store import migrations
from stackyard.store.engine import Database


def _get(app: Any, path: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stackyard.test") as c:
            return await c.get(path)

    return anyio.run(go)


def test_reads_stay_on_the_loop_and_a_writing_get_moves_to_a_thread(tmp_path) -> None:
    # given a SQLite app with a read-only GET and a GET that writes
    db = Database(f"sqlite:///{tmp_path}/s.db")
    migrations.upgrade(db)
    with db.write() as tx:
        tx.run("CREATE TABLE touches (n INTEGER)")
    router = Router()
    seen: dict[str, list[str]] = {"read": [], "touch": []}

    @router.get("/v3/read")
    def read(r: Req) -> Any:
        seen["read"].append(threading.current_thread().name)
        with r.db.read() as tx:
            return {"n": tx.scalar("SELECT COUNT(*) AS n FROM touches")}

    @router.get("/v3/touch")
    def touch(r: Req) -> Any:
        seen["touch"].append(threading.current_thread().name)
        with r.db.read() as tx:
            before = tx.scalar("SELECT COUNT(*) AS n FROM touches")
        with r.db.write() as tx:
            tx.run("INSERT INTO touches (n) VALUES (?)", before)
        return {"before": before}

    state = AppState(
        settings=Settings(data_dir=str(tmp_path), access_log=False), db=db, limiter=RateLimiter({})
    )
    app = Starlette(routes=build_routes(state, [router]))
    here = threading.current_thread().name
    try:
        # when both are called
        touched = _get(app, "/v3/touch")
        counted = _get(app, "/v3/read")
    finally:
        db.close()
    # then the writing GET ran once on the loop, stopped before writing, and once on a thread
    assert touched.status_code == 200 and touched.json() == {"before": 0}
    assert seen["touch"][0] == here and len(seen["touch"]) == 2 and seen["touch"][1] != here
    # and it wrote exactly once, while the plain read never left the loop
    assert counted.json() == {"n": 1}
    assert seen["read"] == [here]
