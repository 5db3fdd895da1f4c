"""Rules (st2 `/rules`): a trigger (type + parameters), criteria on its payload, and an action with
parameters rendered from the payload. A rule is run as the user who last saved it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stackyard.automation import actions, catalogue, criteria, timers, triggers
from stackyard.automation.common import Principal, conflict, iso, not_found, oid
from stackyard.core import spine
from stackyard.errors import BadRequest
from stackyard.store.engine import Row, Tx, jdump, jload

# tx.state key: per organization, whether an enabled rule listens to the action trigger (what
# `instant` looked up in this transaction; a rule saved in it forgets that).
ACTION_TRIGGER_KNOWN = "automation.actiontrigger"
_FIELDS = {
    "id",
    "uid",
    "ref",
    "name",
    "pack",
    "description",
    "enabled",
    "type",
    "trigger",
    "criteria",
    "action",
    "context",
    "tags",
    "metadata_file",
}


def _doc(row: Row) -> dict[str, Any]:
    return {**jload(row["doc"]), "id": row["id"], "enabled": bool(row["enabled"])}


def checked(tx: Tx, p: Principal, body: Mapping[str, Any], rule_id: str) -> dict[str, Any]:
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise BadRequest(
            f"Additional properties are not allowed ({', '.join(repr(u) for u in unknown)} were unexpected)"
        )
    name, pack = body.get("name"), body.get("pack") or "default"
    if not isinstance(name, str) or not name or "." in name:
        raise BadRequest("'name' is a required property (a string without dots).")
    trig = body.get("trigger")
    if not isinstance(trig, dict) or not isinstance(trig.get("type"), str):
        raise BadRequest("'trigger' is a required property: {type: <trigger type ref>, parameters: {...}}.")
    if triggers.find_type(tx, p.org_uid, trig["type"]) is None:
        raise BadRequest(f'Trigger type "{trig["type"]}" is not found.')
    parameters = triggers.check_parameters(trig["type"], trig.get("parameters"))
    act = body.get("action")
    if not isinstance(act, dict) or not isinstance(act.get("ref"), str):
        raise BadRequest("'action' is a required property: {ref: <action ref>, parameters: {...}}.")
    extra = sorted(set(act) - {"ref", "parameters"})
    if extra:
        raise BadRequest(f"Additional properties are not allowed in action ({', '.join(extra)}).")
    if actions.find(tx, p.org_uid, act["ref"]) is None:
        raise BadRequest(f'Action "{act["ref"]}" is not found.')
    if not isinstance(act.get("parameters") or {}, dict):
        raise BadRequest("action.parameters must be an object.")
    enabled = body.get("enabled", False)
    if not isinstance(enabled, bool):
        raise BadRequest("'enabled' must be true or false.")
    trigger = triggers.ensure(tx, p.org_uid, trig["type"], parameters)
    return {
        "id": rule_id,
        "uid": f"rule:{pack}:{name}",
        "ref": f"{pack}.{name}",
        "name": name,
        "pack": pack,
        "description": str(body.get("description") or ""),
        "enabled": enabled,
        "type": body.get("type") or {"ref": "standard", "parameters": {}},
        "trigger": {"type": trig["type"], "parameters": parameters, "ref": trigger["ref"]},
        "criteria": criteria.validate(body.get("criteria")),
        "action": {"ref": act["ref"], "parameters": act.get("parameters") or {}},
        "context": {**(body.get("context") or {}), "user": p.username},
        "tags": body.get("tags") or [],
    }


def _store(tx: Tx, p: Principal, doc: dict[str, Any], new: bool) -> dict[str, Any]:
    tx.state.pop(ACTION_TRIGGER_KNOWN, None)
    values = (
        doc["ref"],
        doc["pack"],
        doc["trigger"]["type"],
        doc["trigger"]["ref"],
        int(doc["enabled"]),
        jdump(doc),
    )
    if new:
        tx.run(
            "INSERT INTO st2_rules (ref, pack, trigger_type, trigger_ref, enabled, doc, id, org_uid, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            *values,
            doc["id"],
            p.org_uid,
            iso(),
        )
    else:
        tx.run(
            "UPDATE st2_rules SET ref = ?, pack = ?, trigger_type = ?, trigger_ref = ?, enabled = ?, doc = ? WHERE id = ? AND org_uid = ?",
            *values,
            doc["id"],
            p.org_uid,
        )
    if doc["enabled"] and doc["trigger"]["type"] in catalogue.TIMER_TYPES:
        trigger = triggers.get_trigger(tx, p, doc["trigger"]["ref"])
        timers.schedule_next(tx, p.org_uid, trigger)
    actions.ensure_pack(tx, p.org_uid, doc["pack"])
    kind = "automation_rule.create" if new else "automation_rule.update"
    spine.record_org(tx, p, kind, p.org_uid, {"ref": doc["ref"], "enabled": doc["enabled"]})
    return doc


def create(tx: Tx, p: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
    p.require_admin()
    doc = checked(tx, p, body, oid())
    existing = tx.scalar("SELECT id FROM st2_rules WHERE org_uid = ? AND ref = ?", p.org_uid, doc["ref"])
    if existing is not None:
        raise conflict(f'Tried to save duplicate unique keys. Rule "{doc["ref"]}" already exists.', existing)
    return _store(tx, p, doc, True)


def upsert(tx: Tx, p: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
    ref = f"{body.get('pack') or 'default'}.{body.get('name')}"
    existing = tx.scalar("SELECT id FROM st2_rules WHERE org_uid = ? AND ref = ?", p.org_uid, ref)
    return create(tx, p, body) if existing is None else update(tx, p, str(existing), body)


def get(tx: Tx, p: Principal, ref_or_id: str) -> dict[str, Any]:
    column = "ref" if "." in ref_or_id else "id"
    row = tx.one(
        f"SELECT id, enabled, doc FROM st2_rules WHERE org_uid = ? AND {column} = ?", p.org_uid, ref_or_id
    )
    if row is None:
        raise not_found("Rule", ref_or_id)
    return _doc(row)


def update(tx: Tx, p: Principal, ref_or_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    p.require_admin()
    current = get(tx, p, ref_or_id)
    doc = checked(tx, p, {k: v for k, v in body.items() if k not in ("id", "uid", "ref")}, current["id"])
    clash = tx.scalar(
        "SELECT id FROM st2_rules WHERE org_uid = ? AND ref = ? AND id <> ?", p.org_uid, doc["ref"], doc["id"]
    )
    if clash is not None:
        raise conflict(f'Rule "{doc["ref"]}" already exists.', clash)
    return _store(tx, p, doc, False)


def delete(tx: Tx, p: Principal, ref_or_id: str) -> None:
    p.require_admin()
    current = get(tx, p, ref_or_id)
    tx.run("DELETE FROM st2_rules WHERE id = ? AND org_uid = ?", current["id"], p.org_uid)
    tx.state.pop(ACTION_TRIGGER_KNOWN, None)
    spine.record_org(
        tx, p, "automation_rule.delete", p.org_uid, {"ref": current["ref"], "enabled": current["enabled"]}
    )


def list_(tx: Tx, p: Principal, query: Mapping[str, str]) -> list[dict[str, Any]]:
    where: list[str] = ["org_uid = ?"]
    args: list[Any] = [p.org_uid]
    args_ = args
    for name, column in (("pack", "pack"), ("trigger", "trigger_ref"), ("ref", "ref")):
        if query.get(name):
            where.append(f"{column} = ?")
            args.append(query[name])
    if query.get("enabled"):
        from stackyard.automation.common import as_bool

        where.append("enabled = ?")
        args_.append(int(as_bool(query["enabled"])))
    rows = tx.all(f"SELECT id, enabled, doc FROM st2_rules WHERE {' AND '.join(where)} ORDER BY ref", *args)
    out = [_doc(r) for r in rows]
    if query.get("action"):
        out = [r for r in out if r["action"]["ref"] == query["action"]]
    if query.get("name"):
        out = [r for r in out if r["name"] == query["name"]]
    return out


def listening(tx: Tx, org_uid: str, trigger_ref: str) -> list[dict[str, Any]]:
    rows = tx.all(
        "SELECT id, enabled, doc FROM st2_rules WHERE org_uid = ? AND trigger_ref = ? AND enabled = 1 ORDER BY ref",
        org_uid,
        trigger_ref,
    )
    return [_doc(r) for r in rows]


def for_webhook(tx: Tx, org_uid: str, url: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The trigger of a webhook URL and the enabled rules listening to it (`listening`), in one
    statement; None when no trigger has that URL."""
    rows = tx.all(
        "SELECT t.id AS trigger_id, t.doc AS trigger_doc, r.id, r.enabled, r.doc FROM "
        "(SELECT id, ref, doc FROM st2_triggers WHERE org_uid = ? AND webhook_url = ? LIMIT 1) t "
        "LEFT JOIN st2_rules r ON r.org_uid = ? AND r.trigger_ref = t.ref AND r.enabled = 1 ORDER BY r.ref",
        org_uid,
        url.strip("/"),
        org_uid,
    )
    if not rows:
        return None
    trigger = {**jload(rows[0]["trigger_doc"]), "id": rows[0]["trigger_id"]}
    return trigger, [_doc(r) for r in rows if r["id"] is not None]
