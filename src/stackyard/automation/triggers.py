"""Trigger types, triggers (a type with parameters, made by rules) and trigger instances.

Trigger types are the built-ins (`catalogue.TRIGGER_TYPES`), one `stackyard.<event type>` per
event type of the spine (payload: api_key, branch, type, module, uid, locale, seq, data; DESIGN
§7), and those an organization creates. A trigger is keyed by (type, parameters): rules with the
same webhook URL or the same timer share one trigger.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from stackyard.automation import catalogue
from stackyard.automation.common import Principal, conflict, iso, not_found, oid, parse_iso, split_ref
from stackyard.core.event_types import EVENT_TYPES
from stackyard.errors import BadRequest
from stackyard.store.engine import Row, Tx, jdump, jload

CONTENT_PAYLOAD: dict[str, dict[str, Any]] = {
    k: {} for k in ("api_key", "branch", "type", "module", "uid", "locale", "seq", "data")
}


def _content_types() -> dict[str, dict[str, Any]]:
    out = {}
    for name, kind in EVENT_TYPES.items():
        ref = f"stackyard.{name}"
        out[ref] = {
            "id": catalogue._stable("5e4", ref),
            "uid": f"trigger_type:stackyard:{name}",
            "ref": ref,
            "name": name,
            "pack": "stackyard",
            "description": kind.description,
            "parameters_schema": {},
            "payload_schema": {"type": "object", "properties": CONTENT_PAYLOAD},
            "tags": [],
        }
    return out


BUILTIN_TYPES = {**catalogue.TRIGGER_TYPES, **_content_types()}


def types(tx: Tx, p: Principal, pack: str | None = None) -> list[dict[str, Any]]:
    out = list(BUILTIN_TYPES.values())
    out += [
        {**jload(r["doc"]), "id": r["id"]}
        for r in tx.all("SELECT id, doc FROM st2_trigger_types WHERE org_uid = ? ORDER BY ref", p.org_uid)
    ]
    return [t for t in out if pack is None or t["pack"] == pack]


def find_type(tx: Tx, org_uid: str, ref_or_id: str) -> dict[str, Any] | None:
    found = BUILTIN_TYPES.get(ref_or_id)
    if found is not None:
        return found
    row = tx.one(
        "SELECT id, doc FROM st2_trigger_types WHERE org_uid = ? AND (ref = ? OR id = ?)",
        org_uid,
        ref_or_id,
        ref_or_id,
    )
    if row is not None:
        return {**jload(row["doc"]), "id": row["id"]}
    for t in BUILTIN_TYPES.values():
        if t["id"] == ref_or_id:
            return t
    return None


def get_type(tx: Tx, p: Principal, ref_or_id: str) -> dict[str, Any]:
    found = find_type(tx, p.org_uid, ref_or_id)
    if found is None:
        raise not_found("TriggerType", ref_or_id)
    return found


def create_type(tx: Tx, p: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
    p.require_admin()
    name, pack = body.get("name"), body.get("pack") or "default"
    if not isinstance(name, str) or not name:
        raise BadRequest("'name' is a required property.")
    ref = f"{pack}.{name}"
    if ref in BUILTIN_TYPES or pack in ("core", "stackyard"):
        raise BadRequest(f'Trigger type "{ref}" is built in.')
    existing = tx.scalar("SELECT id FROM st2_trigger_types WHERE org_uid = ? AND ref = ?", p.org_uid, ref)
    if existing:
        raise conflict(f'Trigger type "{ref}" already exists.', existing)
    doc = {
        "id": oid(),
        "uid": f"trigger_type:{pack}:{name}",
        "ref": ref,
        "name": name,
        "pack": pack,
        "description": str(body.get("description") or ""),
        "payload_schema": body.get("payload_schema") or {},
        "parameters_schema": body.get("parameters_schema") or {},
        "tags": body.get("tags") or [],
    }
    tx.run(
        "INSERT INTO st2_trigger_types (org_uid, ref, id, doc) VALUES (?, ?, ?, ?)",
        p.org_uid,
        ref,
        doc["id"],
        jdump(doc),
    )
    return doc


def delete_type(tx: Tx, p: Principal, ref_or_id: str) -> None:
    p.require_admin()
    found = get_type(tx, p, ref_or_id)
    if found["ref"] in BUILTIN_TYPES:
        raise BadRequest("Built-in trigger types cannot be deleted.")
    tx.run("DELETE FROM st2_trigger_types WHERE org_uid = ? AND ref = ?", p.org_uid, found["ref"])


# -- triggers --------------------------------------------------------------------------------------


def params_key(parameters: Mapping[str, Any]) -> str:
    return json.dumps(parameters, sort_keys=True, separators=(",", ":"))


def check_parameters(type_ref: str, parameters: Any) -> dict[str, Any]:
    if parameters in (None, ""):
        parameters = {}
    if not isinstance(parameters, dict):
        raise BadRequest("trigger.parameters must be an object.")
    if type_ref == catalogue.WEBHOOK_TYPE:
        url = parameters.get("url")
        if not isinstance(url, str) or not url.strip("/"):
            raise BadRequest("A core.st2.webhook trigger needs parameters.url.")
        parameters = {**parameters, "url": url.strip("/")}
    elif type_ref == "core.st2.IntervalTimer":
        if parameters.get("unit") not in ("weeks", "days", "hours", "minutes", "seconds"):
            raise BadRequest("An IntervalTimer needs unit: weeks, days, hours, minutes or seconds.")
        delta = parameters.get("delta")
        if not isinstance(delta, int | float) or isinstance(delta, bool) or delta <= 0:
            raise BadRequest("An IntervalTimer needs a positive delta.")
    elif type_ref == "core.st2.DateTimer":
        if not isinstance(parameters.get("date"), str):
            raise BadRequest("A DateTimer needs a date.")
        parse_iso(parameters["date"])
    elif type_ref == "core.st2.CronTimer":
        from stackyard.automation import timers

        timers.check_cron(parameters)
    return parameters


def unsaved(type_ref: str, parameters: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A new trigger of this type and these parameters, not yet stored (`ensure` stores it). One
    without parameters has the ref of its type."""
    parameters = parameters or {}
    pack, _ = split_ref(type_ref)
    trigger_id = oid()
    name = type_ref.split(".", 1)[1] if not parameters else f"{trigger_id}"
    return {
        "id": trigger_id,
        "ref": f"{pack}.{name}",
        "uid": f"trigger:{pack}:{name}:{params_key(parameters)}",
        "name": name,
        "pack": pack,
        "type": type_ref,
        "parameters": dict(parameters),
    }


def ensure(tx: Tx, org_uid: str, type_ref: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The trigger of this type and these parameters, created when it is new."""
    key = params_key(parameters)
    row = tx.one(
        "SELECT id, doc FROM st2_triggers WHERE org_uid = ? AND type = ? AND params_key = ?",
        org_uid,
        type_ref,
        key,
    )
    if row is not None:
        return {**jload(row["doc"]), "id": row["id"]}
    doc = unsaved(type_ref, parameters)
    trigger_id = doc["id"]
    url = parameters.get("url") if type_ref == catalogue.WEBHOOK_TYPE else None
    tx.run(
        "INSERT INTO st2_triggers (id, org_uid, ref, type, params_key, webhook_url, doc) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (org_uid, type, params_key) DO NOTHING",
        trigger_id,
        org_uid,
        doc["ref"],
        type_ref,
        key,
        url,
        jdump(doc),
    )
    return (
        ensure(tx, org_uid, type_ref, parameters)
        if tx.scalar("SELECT id FROM st2_triggers WHERE id = ?", trigger_id) is None
        else doc
    )


def list_triggers(tx: Tx, p: Principal, type_ref: str | None = None) -> list[dict[str, Any]]:
    where, args = "org_uid = ?", [p.org_uid]
    if type_ref:
        where, args = where + " AND type = ?", [*args, type_ref]
    return [
        {**jload(r["doc"]), "id": r["id"]}
        for r in tx.all(f"SELECT id, doc FROM st2_triggers WHERE {where} ORDER BY ref", *args)
    ]


def get_trigger(tx: Tx, p: Principal, ref_or_id: str) -> dict[str, Any]:
    row = tx.one(
        "SELECT id, doc FROM st2_triggers WHERE org_uid = ? AND (ref = ? OR id = ?)",
        p.org_uid,
        ref_or_id,
        ref_or_id,
    )
    if row is None:
        raise not_found("Trigger", ref_or_id)
    return {**jload(row["doc"]), "id": row["id"]}


def webhook_trigger(tx: Tx, org_uid: str, url: str) -> dict[str, Any] | None:
    row = tx.one(
        "SELECT id, doc FROM st2_triggers WHERE org_uid = ? AND webhook_url = ?", org_uid, url.strip("/")
    )
    return None if row is None else {**jload(row["doc"]), "id": row["id"]}


# -- instances -------------------------------------------------------------------------------------


def _render_instance(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "trigger": row["trigger"],
        "occurrence_time": row["occurrence_time"],
        "status": row["status"],
        "payload": jload(row["payload"]),
    }


NEW_INSTANCE = (
    "INSERT INTO st2_trigger_instances (id, org_uid, trigger, occurrence_time, status, payload) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def instance_params(
    org_uid: str, trigger_ref: str, payload: Any, instance_id: str, at: str, status: str = "processed"
) -> tuple[Any, ...]:
    """The values of `NEW_INSTANCE` for one trigger instance."""
    return (instance_id, org_uid, trigger_ref, at, status, jdump(payload))


def list_instances(
    tx: Tx, p: Principal, query: Mapping[str, str], offset: int, limit: int | None
) -> tuple[list[dict[str, Any]], int]:
    where, args = ["org_uid = ?"], [p.org_uid]
    if query.get("trigger"):
        refs = query["trigger"].split(",")
        where.append(f"trigger IN ({', '.join('?' for _ in refs)})")
        args += refs
    if query.get("status"):
        where.append("status = ?")
        args.append(query["status"])
    for name, op in (("timestamp_gt", ">"), ("timestamp_lt", "<")):
        if query.get(name):
            where.append(f"occurrence_time {op} ?")
            args.append(iso(parse_iso(query[name])))
    clause = " AND ".join(where)
    total = int(tx.scalar(f"SELECT COUNT(*) FROM st2_trigger_instances WHERE {clause}", *args))
    page = f" LIMIT {int(limit)}" if limit is not None else (" LIMIT -1" if tx.dialect == "sqlite" else "")
    rows = tx.all(
        f"SELECT * FROM st2_trigger_instances WHERE {clause} ORDER BY occurrence_time DESC, id DESC{page} OFFSET {int(offset)}",
        *args,
    )
    return [_render_instance(r) for r in rows], total


def get_instance(tx: Tx, p: Principal, instance_id: str) -> dict[str, Any]:
    row = tx.one("SELECT * FROM st2_trigger_instances WHERE org_uid = ? AND id = ?", p.org_uid, instance_id)
    if row is None:
        raise not_found("TriggerInstance", instance_id)
    return _render_instance(row)
