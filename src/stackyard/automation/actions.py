"""Actions, runner types and packs of an organization: the built-in `core` pack (not stored) and the
actions created through the API or registered from a pack directory (`st2_actions`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stackyard.automation import catalogue, params
from stackyard.automation.common import Principal, conflict, iso, not_found, oid
from stackyard.core import spine
from stackyard.errors import BadRequest
from stackyard.store.engine import Row, Tx, jdump, jload

_FIELDS = {
    "id",
    "uid",
    "ref",
    "name",
    "pack",
    "description",
    "enabled",
    "runner_type",
    "entry_point",
    "parameters",
    "output_schema",
    "tags",
    "notify",
    "metadata_file",
    "data_files",
    "remove_files",
}


def runner(name: str) -> dict[str, Any]:
    found = catalogue.RUNNERS.get(name)
    if found is None:
        raise not_found("RunnerType", name)
    return found


def runners(name: str | None = None) -> list[dict[str, Any]]:
    return [r for r in catalogue.RUNNERS.values() if name is None or r["name"] == name]


def runner_by_name_or_id(key: str) -> dict[str, Any]:
    for r in catalogue.RUNNERS.values():
        if key in (r["name"], r["id"]):
            return r
    raise not_found("RunnerType", key)


def _doc(row: Row) -> dict[str, Any]:
    return {**jload(row["doc"]), "id": row["id"]}


def find(tx: Tx, org_uid: str, ref_or_id: str) -> dict[str, Any] | None:
    core = catalogue.CORE_ACTIONS.get(ref_or_id)
    if core is not None:
        return core
    for a in catalogue.CORE_ACTIONS.values():
        if a["id"] == ref_or_id:
            return a
    column = "ref" if "." in ref_or_id else "id"
    row = tx.one(f"SELECT id, doc FROM st2_actions WHERE org_uid = ? AND {column} = ?", org_uid, ref_or_id)
    return None if row is None else _doc(row)


def get(tx: Tx, p: Principal, ref_or_id: str) -> dict[str, Any]:
    found = find(tx, p.org_uid, ref_or_id)
    if found is None:
        raise not_found("Action", ref_or_id)
    return found


def list_(tx: Tx, p: Principal, pack: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
    out = [a for a in catalogue.CORE_ACTIONS.values() if pack in (None, a["pack"])]
    where, args = "org_uid = ?", [p.org_uid]
    if pack:
        where, args = where + " AND pack = ?", [*args, pack]
    out += [_doc(r) for r in tx.all(f"SELECT id, doc FROM st2_actions WHERE {where} ORDER BY ref", *args)]
    if name:
        out = [a for a in out if a["name"] == name]
    return out


def checked(body: Mapping[str, Any], action_id: str) -> dict[str, Any]:
    """An action document from a request body, validated (400 names the first problem)."""
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise BadRequest(
            f"Additional properties are not allowed ({', '.join(repr(u) for u in unknown)} were unexpected)"
        )
    name, pack = body.get("name"), body.get("pack") or "default"
    if not isinstance(name, str) or not name or "." in name:
        raise BadRequest("'name' is a required property (a string without dots).")
    if not isinstance(pack, str) or "." in pack:
        raise BadRequest("'pack' must be a string without dots.")
    if pack in ("core", "st2", "packs"):
        raise BadRequest(f"The {pack} pack is built in; create actions in a pack of your own.")
    runner_type = body.get("runner_type")
    if runner_type not in catalogue.RUNNERS:
        raise BadRequest(
            f"'runner_type' must be one of {', '.join(sorted(catalogue.RUNNERS))}; got {runner_type!r}."
        )
    parameters = params.check_schema(body.get("parameters"))
    rp = catalogue.RUNNERS[runner_type]["runner_parameters"]
    for k, v in parameters.items():
        if k in rp and rp[k].get("immutable") and "default" in v and v["default"] != rp[k].get("default"):
            raise BadRequest(f"The runner parameter '{k}' is immutable and cannot be overridden.")
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise BadRequest("'enabled' must be true or false.")
    entry_point = body.get("entry_point") or ""
    if not isinstance(entry_point, str) or entry_point.startswith("/") or ".." in entry_point.split("/"):
        raise BadRequest("'entry_point' must be a path relative to the pack's actions directory.")
    return {
        "id": action_id,
        "uid": f"action:{pack}:{name}",
        "ref": f"{pack}.{name}",
        "name": name,
        "pack": pack,
        "description": str(body.get("description") or ""),
        "enabled": enabled,
        "runner_type": runner_type,
        "entry_point": entry_point,
        "parameters": parameters,
        "output_schema": body.get("output_schema") or {},
        "tags": body.get("tags") or [],
        "notify": body.get("notify") or {},
        "metadata_file": body.get("metadata_file") or "",
    }


def create(tx: Tx, p: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
    p.require_admin()
    doc = checked(body, oid())
    existing = tx.scalar("SELECT id FROM st2_actions WHERE org_uid = ? AND ref = ?", p.org_uid, doc["ref"])
    if existing is not None:
        raise conflict(
            f'Tried to save duplicate unique keys. Action "{doc["ref"]}" already exists.', existing
        )
    tx.run(
        "INSERT INTO st2_actions (id, org_uid, ref, pack, doc, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        doc["id"],
        p.org_uid,
        doc["ref"],
        doc["pack"],
        jdump(doc),
        iso(),
    )
    ensure_pack(tx, p.org_uid, doc["pack"])
    spine.record_org(tx, p, "automation_action.create", p.org_uid, {"ref": doc["ref"]})
    return doc


def update(tx: Tx, p: Principal, ref_or_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    p.require_admin()
    current = get(tx, p, ref_or_id)
    if current["ref"] in catalogue.CORE_ACTIONS:
        raise BadRequest("Built-in actions cannot be changed.")
    doc = checked({**{k: v for k, v in body.items() if k not in ("id", "uid", "ref")}}, current["id"])
    clash = tx.scalar(
        "SELECT id FROM st2_actions WHERE org_uid = ? AND ref = ? AND id <> ?",
        p.org_uid,
        doc["ref"],
        doc["id"],
    )
    if clash is not None:
        raise conflict(f'Action "{doc["ref"]}" already exists.', clash)
    tx.run(
        "UPDATE st2_actions SET ref = ?, pack = ?, doc = ? WHERE id = ? AND org_uid = ?",
        doc["ref"],
        doc["pack"],
        jdump(doc),
        doc["id"],
        p.org_uid,
    )
    ensure_pack(tx, p.org_uid, doc["pack"])
    spine.record_org(tx, p, "automation_action.update", p.org_uid, {"ref": doc["ref"]})
    return doc


def delete(tx: Tx, p: Principal, ref_or_id: str) -> None:
    p.require_admin()
    current = get(tx, p, ref_or_id)
    if current["ref"] in catalogue.CORE_ACTIONS:
        raise BadRequest("Built-in actions cannot be deleted.")
    tx.run("DELETE FROM st2_actions WHERE id = ? AND org_uid = ?", current["id"], p.org_uid)
    spine.record_org(tx, p, "automation_action.delete", p.org_uid, {"ref": current["ref"]})


# -- packs ------------------------------------------------------------------------------------------


def ensure_pack(tx: Tx, org_uid: str, ref: str, meta: Mapping[str, Any] | None = None) -> None:
    doc = {
        "ref": ref,
        "uid": f"pack:{ref}",
        "name": ref,
        "description": f"Pack {ref}.",
        "version": "0.1.0",
        "author": "",
        **{
            k: v
            for k, v in (meta or {}).items()
            if k in ("name", "description", "version", "author", "email", "keywords", "path")
        },
    }
    tx.run(
        "INSERT INTO st2_packs (org_uid, ref, id, doc) VALUES (?, ?, ?, ?) ON CONFLICT (org_uid, ref) DO "
        + ("UPDATE SET doc = excluded.doc" if meta else "NOTHING"),
        org_uid,
        ref,
        oid(),
        jdump(doc),
    )


def packs(tx: Tx, p: Principal, name: str | None = None) -> list[dict[str, Any]]:
    out = [catalogue.CORE_PACK]
    out += [
        {**jload(r["doc"]), "id": r["id"]}
        for r in tx.all("SELECT id, doc FROM st2_packs WHERE org_uid = ? ORDER BY ref", p.org_uid)
    ]
    return [x for x in out if name is None or name in (x["name"], x["ref"])]


def pack(tx: Tx, p: Principal, ref_or_id: str) -> dict[str, Any]:
    for x in packs(tx, p):
        if ref_or_id in (x["ref"], x["id"]):
            return x
    raise not_found("Pack", ref_or_id)
