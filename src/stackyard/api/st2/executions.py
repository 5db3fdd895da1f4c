"""st2 executions: run, list, get, cancel, re-run, output, children."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from stackyard.api.routing import Req, Router
from stackyard.api.st2.common import API, counted, obj, one, page, principal, route
from stackyard.automation import actions, bus, executions, launch
from stackyard.errors import BadRequest

router = Router(api="st2")


def _finished_soon(r: Req, row: dict[str, Any]) -> dict[str, Any]:
    """Wait (up to automation_inline_wait_ms) for a short action to finish, so the CLI's first look
    finds it done; answers the execution as it then is."""
    if row["status"] not in executions.COMPLETED and row["status"] != "delayed":
        wait = r.settings.automation_inline_wait_ms / 1000
        if wait > 0:
            bus.wait_finished(row["id"], wait)
            with r.db.read() as tx:
                row = executions.load(tx, row["id"]) or row
    return executions.rendered(row)


@route(router, "POST", API + "/executions")
def run(r: Req) -> tuple[int, dict[str, Any]]:
    data = obj(r)
    ref = data.get("action")
    if not isinstance(ref, str) or not ref:
        raise BadRequest("'action' is a required property (an action reference).")
    given = data.get("parameters") or {}
    context = data.get("context") or {}
    header = r.headers.get("st2-context")
    if header:
        try:
            extra = json.loads(header)
        except ValueError:
            raise BadRequest("The st2-context header must be a JSON object.") from None
        if isinstance(extra, dict):
            context = {**extra, **context}
    if not isinstance(context, dict) or not isinstance(given, dict):
        raise BadRequest("'parameters' and 'context' must be objects.")
    delay = data.get("delay") or 0
    if not isinstance(delay, int) or delay < 0:
        raise BadRequest("delay must be a non-negative integer (milliseconds).")
    with r.db.read() as tx:  # the credential is checked before the writer is taken
        p = principal(r, tx)
    p.require_admin()
    with r.db.write() as tx:
        action = actions.find(tx, p.org_uid, ref)
        if action is None:
            raise BadRequest(f'Action "{ref}" cannot be found.')
        allowed = {k: v for k, v in context.items() if k in ("trace_context", "source_channel", "api_user")}
        row = launch.start(
            tx, r.settings, p.org_uid, p.username, action, given, context=allowed, delay_ms=delay
        )
    return 201, _finished_soon(r, row)


@route(router, "GET", API + "/executions")
def list_executions(r: Req) -> list[dict[str, Any]]:
    with r.db.read() as tx:
        p = principal(r, tx)
        offset, limit = page(r, p, 100)
        items, total = executions.list_(tx, p, r.query, offset, limit)
    return counted(r, items, total, limit)


@route(router, "GET", API + "/executions/{id}")
def get_execution(r: Req) -> dict[str, Any]:
    with r.db.read() as tx:
        return one(r, executions.rendered(executions.get(tx, principal(r, tx), r.path["id"])))


@route(router, "DELETE", API + "/executions/{id}")
def cancel(r: Req) -> dict[str, Any]:
    with r.db.write() as tx:
        return executions.cancel(tx, principal(r, tx), r.path["id"])


@route(router, "PUT", API + "/executions/{id}")
def update(r: Req) -> dict[str, Any]:
    status = obj(r).get("status")
    if status in ("canceling", "canceled"):
        return cancel(r)
    raise BadRequest(
        f'Changing an execution to "{status}" is not supported (pause and resume are for workflows).'
    )


@route(router, "POST", API + "/executions/{id}/re_run")
def rerun(r: Req) -> tuple[int, dict[str, Any]]:
    data = obj(r)
    with r.db.write() as tx:
        p = principal(r, tx)
        ask = executions.rerun_request(tx, r.settings, p, r.path["id"], data)
        row = launch.start(
            tx,
            r.settings,
            p.org_uid,
            p.username,
            ask["action"],
            ask["parameters"],
            context=ask["context"],
            delay_ms=ask["delay"],
        )
    return 201, _finished_soon(r, row)


@route(router, "GET", API + "/executions/{id}/output")
def output(r: Req) -> Response:
    with r.db.read() as tx:
        text = executions.output(tx, principal(r, tx), r.path["id"], r.query.get("output_type"))
    return Response(text, media_type="text/plain")


@route(router, "GET", API + "/executions/{id}/result")
def result(r: Req) -> Response:
    with r.db.read() as tx:
        row = executions.get(tx, principal(r, tx), r.path["id"])
    return Response(json.dumps(executions.rendered(row).get("result")), media_type="text/json")


@route(router, "GET", API + "/executions/{id}/children")
def children(r: Req) -> list[dict[str, Any]]:
    depth = int(r.query.get("depth") or -1)
    with r.db.read() as tx:
        return executions.children(tx, principal(r, tx), r.path["id"], depth)
