"""st2 webhooks: `POST /api/v1/webhooks/{url}` for core.st2.webhook rules, `POST /webhooks/st2` for a
trigger named in the body (both prepared with reads, then recorded by the batched
`automation.intake`), and the registered webhooks' listing. Its router comes first in the st2
table: a webhook is the request most often made, and the table tries routes in order."""

from __future__ import annotations

from typing import Any

from stackyard.api.routing import Later, Req, Router
from stackyard.api.st2.common import API, body, principal, route
from stackyard.automation import catalogue, engine, intake, triggers
from stackyard.errors import BadRequest, NotFound

router = Router(api="st2")


@route(router, "GET", API + "/webhooks")
def list_webhooks(r: Req) -> list[dict[str, Any]]:
    with r.db.read() as tx:
        return triggers.list_triggers(tx, principal(r, tx), catalogue.WEBHOOK_TYPE)


@route(router, "GET", API + "/webhooks/{url}")
@route(router, "GET", API + "/webhooks/{url}/{more}")
def get_webhook(r: Req) -> dict[str, Any]:
    with r.db.read() as tx:
        url = "/".join(v for v in (r.path["url"], r.path.get("more")) if v)
        found = triggers.webhook_trigger(tx, principal(r, tx).org_uid, url)
    if found is None:
        raise NotFound(f'Webhook "{r.path["url"]}" is not found.', error_code=116)
    return found


@route(router, "POST", API + "/webhooks/{url}", inline=True)
@route(router, "POST", API + "/webhooks/{url}/{more}", inline=True)
def post_webhook(r: Req) -> tuple[int, Any] | Later:
    url = "/".join(v for v in (r.path["url"], r.path.get("more")) if v)
    data = body(r)
    if url == "st2" and (not isinstance(data, dict) or not isinstance(data.get("trigger"), str)):
        raise BadRequest('The st2 webhook needs a body {"trigger": <ref>, "payload": {...}}.')
    # The credential, the rules and the executions' parameters are read and checked first (on the
    # event loop on SQLite); the intake's writer thread records what was decided, together with the
    # webhooks that arrived meanwhile, and the answer waits for that commit.
    with r.db.read() as tx:
        p = principal(r, tx)
        p.require_admin()
        plan: engine.Plan | None
        if url == "st2":  # the generic webhook: the trigger (or trigger type) is named in the body
            trace_tag = r.headers.get("st2-trace-tag") or None
            payload = data.get("payload") or {}
            plan = engine.generic_plan(tx, r.settings, p.org_uid, data["trigger"], payload, trace_tag)
        else:
            plan = engine.webhook_plan(tx, r.settings, p.org_uid, url, dict(r.headers), data)
    if plan is None:
        raise NotFound(f"Webhook {url} not registered with st2", error_code=116)
    return Later(intake.of(r.db, r.settings).submit(plan), lambda _: (202, data))
