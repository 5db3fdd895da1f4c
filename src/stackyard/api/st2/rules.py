"""st2 rules, rule enforcements, traces, trigger types, triggers, trigger instances, timers (webhooks:
`webhooks.py`)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stackyard.api.routing import Req, Router
from stackyard.api.st2.common import API, counted, no_content, obj, one, page, principal, project, route
from stackyard.automation import catalogue, engine, rules, triggers
from stackyard.errors import BadRequest, NotFound

router = Router(api="st2")


@route(router, "GET", API + "/rules")
def list_rules(r: Req) -> list[dict[str, Any]]:
    with r.db.read() as tx:
        p = principal(r, tx)
        items = rules.list_(tx, p, r.query)
    offset, limit = page(r, p, None)
    return counted(r, items[offset : None if limit is None else offset + limit], len(items), limit)


@route(router, "GET", API + "/rules/{ref}")
def get_rule(r: Req) -> dict[str, Any]:
    with r.db.read() as tx:
        return one(r, rules.get(tx, principal(r, tx), r.path["ref"]))


@route(router, "POST", API + "/rules")
def create_rule(r: Req) -> tuple[int, dict[str, Any]]:
    data = obj(r)
    with r.db.write() as tx:
        return 201, rules.create(tx, principal(r, tx), data)


@route(router, "PUT", API + "/rules/{ref}")
def update_rule(r: Req) -> dict[str, Any]:
    data = obj(r)
    with r.db.write() as tx:
        return rules.update(tx, principal(r, tx), r.path["ref"], data)


@route(router, "DELETE", API + "/rules/{ref}")
def delete_rule(r: Req) -> Response:
    with r.db.write() as tx:
        rules.delete(tx, principal(r, tx), r.path["ref"])
    return no_content()


@route(router, "GET", API + "/ruleenforcements")
def list_enforcements(r: Req) -> list[dict[str, Any]]:
    with r.db.read() as tx:
        p = principal(r, tx)
        offset, limit = page(r, p, 50)
        items, total = engine.enforcements(tx, p.org_uid, r.query, offset, limit)
    return counted(r, items, total, limit)


@route(router, "GET", API + "/ruleenforcements/{id}")
def get_enforcement(r: Req) -> dict[str, Any]:
    with r.db.read() as tx:
        return engine.enforcement(tx, principal(r, tx).org_uid, r.path["id"])


@route(router, "GET", API + "/traces")
def list_traces(r: Req) -> list[dict[str, Any]]:
    with r.db.read() as tx:
        p = principal(r, tx)
        offset, limit = page(r, p, 100)
        items, total = engine.traces(tx, p.org_uid, r.query, offset, limit)
    return counted(r, items, total, limit)


@route(router, "GET", API + "/traces/{id}")
def get_trace(r: Req) -> dict[str, Any]:
    with r.db.read() as tx:
        return engine.trace(tx, principal(r, tx).org_uid, r.path["id"])


@route(router, "GET", API + "/triggertypes")
def list_types(r: Req) -> list[dict[str, Any]]:
    with r.db.read() as tx:
        p = principal(r, tx)
        items = triggers.types(tx, p, r.query.get("pack"))
    offset, limit = page(r, p, 100)
    return counted(r, items[offset : None if limit is None else offset + limit], len(items), limit)


@route(router, "GET", API + "/triggertypes/{ref}")
def get_type(r: Req) -> dict[str, Any]:
    with r.db.read() as tx:
        return one(r, triggers.get_type(tx, principal(r, tx), r.path["ref"]))


@route(router, "POST", API + "/triggertypes")
def create_type(r: Req) -> tuple[int, dict[str, Any]]:
    data = obj(r)
    with r.db.write() as tx:
        return 201, triggers.create_type(tx, principal(r, tx), data)


@route(router, "DELETE", API + "/triggertypes/{ref}")
def delete_type(r: Req) -> Response:
    with r.db.write() as tx:
        triggers.delete_type(tx, principal(r, tx), r.path["ref"])
    return no_content()


@route(router, "GET", API + "/triggers")
def list_triggers(r: Req) -> list[dict[str, Any]]:
    with r.db.read() as tx:
        return project(r, triggers.list_triggers(tx, principal(r, tx), r.query.get("type")))


@route(router, "GET", API + "/triggers/{ref}")
def get_trigger(r: Req) -> dict[str, Any]:
    with r.db.read() as tx:
        return triggers.get_trigger(tx, principal(r, tx), r.path["ref"])


@route(router, "GET", API + "/triggerinstances")
def list_instances(r: Req) -> list[dict[str, Any]]:
    with r.db.read() as tx:
        p = principal(r, tx)
        offset, limit = page(r, p, 100)
        items, total = triggers.list_instances(tx, p, r.query, offset, limit)
    return counted(r, items, total, limit)


@route(router, "GET", API + "/triggerinstances/{id}")
def get_instance(r: Req) -> dict[str, Any]:
    with r.db.read() as tx:
        return one(r, triggers.get_instance(tx, principal(r, tx), r.path["id"]))


@route(router, "POST", API + "/triggerinstances/{id}/re_emit")
def re_emit(r: Req) -> dict[str, Any]:
    with r.db.write() as tx:
        p = principal(r, tx)
        p.require_admin()
        old = triggers.get_instance(tx, p, r.path["id"])
        payload = {
            **(old["payload"] if isinstance(old["payload"], dict) else {"value": old["payload"]}),
            "__context": {"original_id": old["id"]},
        }
        engine.generic(tx, r.settings, p.org_uid, old["trigger"], payload)
    return {"message": f"Trigger instance {old['id']} succesfully re-sent.", "payload": payload}


@route(router, "GET", API + "/timers")
def list_timers(r: Req) -> list[dict[str, Any]]:
    kind = r.query.get("timer_type")
    if kind and kind not in catalogue.TIMER_TYPES:
        raise BadRequest(f"Invalid timer_type: {kind}. Valid timer types: {', '.join(catalogue.TIMER_TYPES)}")
    with r.db.read() as tx:
        p = principal(r, tx)
        return [
            t for k in ([kind] if kind else catalogue.TIMER_TYPES) for t in triggers.list_triggers(tx, p, k)
        ]


@route(router, "GET", API + "/timers/{ref}")
def get_timer(r: Req) -> dict[str, Any]:
    with r.db.read() as tx:
        found = triggers.get_trigger(tx, principal(r, tx), r.path["ref"])
    if found["type"] not in catalogue.TIMER_TYPES:
        raise NotFound(f'Timer "{r.path["ref"]}" is not found.', error_code=116)
    return found
