"""st2 event stream: `GET /stream/v1/stream` as server-sent events, authenticated by query parameter.

Frames are `event: <name>` + `data: <one JSON line>`; `events` (comma list of fnmatch globs) picks
the names, `action_refs` and `execution_ids` narrow executions, and the stream ends after an
`end_event` whose execution is `end_execution_id` and completed. A lone newline is sent as a
heartbeat every HEARTBEAT_SECONDS. Events committed by other processes (a `stackyard worker`
running the execution) come through this process's `relay.Reader`, started by the first stream;
a stream waiting for `end_execution_id` also looks at that execution every END_CHECK_SECONDS, so
it ends even if its last update came before the other process saw this one listening.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse

from stackyard.api.routing import Req, Router
from stackyard.api.st2.common import principal, route
from stackyard.automation import bus, executions, relay

router = Router(api="st2")
HEARTBEAT_SECONDS = 25.0
END_CHECK_SECONDS = 2.0
DEFAULT_EVENTS = ["st2.announcement__*", "st2.execution__*", "st2.liveaction__*"]


def _execution_id(name: str, data: dict[str, Any]) -> str | None:
    if name.startswith("st2.execution.output"):
        return data.get("execution_id")
    return data.get("id")


def _finished(r: Req, p: Any, execution_id: str) -> dict[str, Any] | None:
    with r.db.read() as tx:
        row = executions.load(tx, execution_id, p.org_uid)
    if row is None or row["status"] not in bus.COMPLETED:
        return None
    return executions.rendered(row)


@route(router, "GET", "/stream/v1/stream")
def stream(r: Req) -> StreamingResponse:
    with r.db.read() as tx:
        p = principal(r, tx)
    q = r.query
    patterns = [e for e in (q.get("events") or "").split(",") if e] or DEFAULT_EVENTS
    refs = {x for x in (q.get("action_refs") or "").split(",") if x}
    ids = {x for x in (q.get("execution_ids") or "").split(",") if x}
    end_event, end_id = q.get("end_event"), q.get("end_execution_id")

    def accept(name: str, data: dict[str, Any]) -> bool:
        if not any(fnmatch.fnmatchcase(name, pat) for pat in patterns):
            return False
        if ids and _execution_id(name, data) not in ids:
            return False
        if refs:
            ref = data.get("action_ref") or (data.get("action") or {}).get("ref")
            if ref not in refs:
                return False
        return True

    def frame(name: str, data: dict[str, Any]) -> bytes:
        return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()

    async def frames() -> AsyncIterator[bytes]:
        sub = bus.Subscriber(p.org_uid, asyncio.get_running_loop(), accept=accept)
        bus.subscribe(sub)
        try:
            await asyncio.to_thread(relay.ensure_reader, r.db, r.settings, bus.publish, bus.has_subscribers)
            yield b"\n"
            ending = bool(end_id and end_event == "st2.execution__update")
            if ending:
                # The execution may have finished before this stream opened (`st2 execution tail`
                # looks at it first): then its last update is sent at once, and the stream ends.
                done = await asyncio.to_thread(_finished, r, p, str(end_id))
                if done is not None:
                    yield frame(str(end_event), done)
                    return
            quiet = 0.0
            while True:
                step = END_CHECK_SECONDS if ending else HEARTBEAT_SECONDS
                try:
                    name, data = await asyncio.wait_for(sub.queue.get(), step)
                except TimeoutError:
                    quiet += step
                    if ending:
                        done = await asyncio.to_thread(_finished, r, p, str(end_id))
                        if done is not None:
                            yield frame(str(end_event), done)
                            return
                    if quiet >= HEARTBEAT_SECONDS:
                        yield b"\n"
                        quiet = 0.0
                    continue
                quiet = 0.0
                yield frame(name, data)
                if (
                    end_event
                    and name == end_event
                    and data.get("id") == end_id
                    and data.get("status") in bus.COMPLETED
                ):
                    return
        finally:
            bus.unsubscribe(sub)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(frames(), media_type="text/event-stream; charset=UTF-8", headers=headers)
