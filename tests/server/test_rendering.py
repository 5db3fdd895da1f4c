"""Answers are rendered where their handler ran: for GETs that ran on the event loop, on the loop,
a heavy page (a big page of entries) too. Its encoder holds the GIL for the whole of a call, so a
worker thread would keep the loop waiting just as long, and only add the hand-off."""

from __future__ import annotations

import threading
from typing import Any

from starlette.applications import Starlette

from stackyard.api import routing
from stackyard.api.routing import Req, Router, build_routes
from stackyard.core.ratelimit import RateLimiter
from stackyard.server.app import AppState
from stackyard.settings import Settings
from stackyard.store import migrations
from stackyard.store.engine import Database
from tests.server.test_inline_reads import _get


def test_answers_of_gets_run_on_the_loop_are_rendered_there(tmp_path: Any, monkeypatch: Any) -> None:
    # given a SQLite app (GETs run on the loop) with a small and a heavy answer
    db = Database(f"sqlite:///{tmp_path}/s.db")
    migrations.upgrade(db)
    router = Router()

    @router.get("/v3/small")
    def small(r: Req) -> Any:
        return {"entry": {"uid": "a", "title": "t"}}

    @router.get("/v3/heavy")
    def heavy(r: Req) -> Any:
        return {"entries": [{"uid": str(i), "nums": list(range(100))} for i in range(100)]}

    rendered: dict[str, str] = {}
    real = routing.JSONResponse.render

    def spy(self: Any, content: Any) -> bytes:
        rendered["entries" if "entries" in content else "entry"] = threading.current_thread().name
        return real(self, content)

    monkeypatch.setattr(routing.JSONResponse, "render", spy)
    state = AppState(
        settings=Settings(data_dir=str(tmp_path), access_log=False), db=db, limiter=RateLimiter({})
    )
    app = Starlette(routes=build_routes(state, [router]))
    here = threading.current_thread().name
    try:
        # when both are fetched
        a, b = _get(app, "/v3/small"), _get(app, "/v3/heavy")
    finally:
        db.close()
    # then both answer in full, each rendered on the loop, with no hop to a thread
    assert a.status_code == 200 and b.status_code == 200 and len(b.json()["entries"]) == 100
    assert rendered == {"entry": here, "entries": here}
