"""Global fields: reusable groups of fields, embedded in content types (and other global fields)
by reference, keyed by (stack, branch, uid).

Embedding stores only `reference_to`, so a change to a global field reaches every user at once; a
global field in use cannot be deleted, and may not embed itself, directly or through others.
"""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import require, visible
from stackyard.content.model import checked, content_types
from stackyard.content.model import refs as model_refs
from stackyard.content.model.checked import Checked
from stackyard.content.model.fields import Errors
from stackyard.content.model.schema import Owner, Refs, check_schema
from stackyard.core import spine
from stackyard.errors import NotFound, UnprocessableEntity, invalid
from stackyard.store.engine import Row, Tx, jload

CREATE_FAILED = "Global Field creation failed. Please enter valid data."
UPDATE_FAILED = "Global Field could not be updated. Please enter valid data."


def not_found(uid: str) -> NotFound:
    return NotFound(
        f"The Global Field '{uid}' was not found. Please try again.",
        error_code=content_types.NOT_FOUND_CODE,
        errors={"uid": ["is not valid."]},
    )


def _get(tx: Tx, access: StackAccess, uid: str, action: str) -> Row:
    r = tx.one(
        "SELECT * FROM global_fields WHERE api_key = ? AND branch = ? AND uid = ?",
        access.api_key,
        access.branch,
        uid,
    )
    if r is None:
        raise not_found(uid)
    require(access, "global_field", action, uid)
    return r


def render(tx: Tx, r: Row, *, inline: bool = True, include_branch: bool = False) -> dict[str, Any]:
    schema = jload(r["schema"])
    if inline:
        schema = content_types.inline_global_fields(tx, r["api_key"], r["branch"], schema)
    out = {
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
        "title": r["title"],
        "uid": r["uid"],
        "_version": r["version"],
        "inbuilt_class": False,
        "schema": schema,
        "last_activity": {},
        "maintain_revisions": True,
        "description": r["description"],
        "created_by": r["created_by"],
        "updated_by": r["updated_by"],
    }
    if include_branch:
        out["_branch"] = r["branch"]
    return out


def find(
    tx: Tx,
    access: StackAccess,
    skip: int = 0,
    limit: int = 100,
    *,
    include_branch: bool = False,
    count: bool = True,
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of global fields, and how many there are in all (None unless `count`)."""
    cond, params = visible(access, "global_field", "uid").sql()
    where = f"api_key = ? AND branch = ? AND {cond}"
    rows, total = tx.page(
        "global_fields",
        where,
        (access.api_key, access.branch, *params),
        "created_at, uid",
        skip,
        limit,
        count=count,
    )
    return [render(tx, r, include_branch=include_branch) for r in rows], total


def fetch(tx: Tx, access: StackAccess, uid: str, *, include_branch: bool = False) -> dict[str, Any]:
    return render(tx, _get(tx, access, uid, "read"), include_branch=include_branch)


def _prepare(
    tx: Tx, access: StackAccess, data: dict[str, Any], current: Row | None
) -> tuple[dict[str, Any], Refs]:
    errors: Errors = {}
    uid, title, description = content_types.check_identity(
        tx, "global_fields", access.api_key, access.branch, data, current, errors
    )
    raw_schema = data.get("schema", jload(current["schema"]) if current is not None else None)
    schema, refs, schema_errors = check_schema(
        raw_schema, Owner("global_field", uid), model_refs.lookup(tx, access.api_key, access.branch)
    )
    errors.update(schema_errors)
    if isinstance(raw_schema, list) and not raw_schema:
        errors.setdefault("schema", []).append("must hold at least one field.")
    if errors:
        raise invalid(errors, CREATE_FAILED if current is None else UPDATE_FAILED, content_types.INVALID_CODE)
    return {"uid": uid, "title": title, "description": description, "schema": schema}, refs


def _load(tx: Tx, access: StackAccess, uid: str) -> dict[str, Any]:
    r = tx.one(
        "SELECT * FROM global_fields WHERE api_key = ? AND branch = ? AND uid = ?",
        access.api_key,
        access.branch,
        uid,
    )
    assert r is not None
    return render(tx, r)


def check(tx: Tx, access: StackAccess, data: dict[str, Any], uid: str | None = None) -> Checked:
    """Check a create (or, with `uid`, an update) ahead of its write, in a read (`model.checked`)."""
    at = checked.position(tx, access.api_key)
    if uid is None:
        require(access, "global_field", "create")
    current = _get(tx, access, uid, "update") if uid is not None else None
    return Checked(data, _prepare(tx, access, data, current), at)


def create(tx: Tx, access: StackAccess, data: dict[str, Any], ahead: Checked | None = None) -> dict[str, Any]:
    require(access, "global_field", "create")
    clean, refs = checked.reuse(tx, access, ahead, data) or _prepare(tx, access, data, None)
    content_types.write_model(
        tx, access, model_refs.GLOBAL_FIELD, clean, refs, insert=True, create_failed=CREATE_FAILED
    )
    return _load(tx, access, clean["uid"])


def update(
    tx: Tx, access: StackAccess, uid: str, data: dict[str, Any], ahead: Checked | None = None
) -> dict[str, Any]:
    current = _get(tx, access, uid, "update")
    clean, refs = checked.reuse(tx, access, ahead, data) or _prepare(tx, access, data, current)
    content_types.write_model(
        tx, access, model_refs.GLOBAL_FIELD, clean, refs, insert=False, create_failed=CREATE_FAILED
    )
    return _load(tx, access, uid)


def delete(tx: Tx, access: StackAccess, uid: str) -> None:
    """Delete a global field no content type or global field embeds."""
    r = _get(tx, access, uid, "delete")
    users = model_refs.users(tx, access.api_key, access.branch, model_refs.GLOBAL_FIELD, uid)
    if users:
        names = ", ".join(f"{kind.replace('_', ' ')} '{u}'" for kind, u in users)
        raise UnprocessableEntity(
            f"The Global Field '{uid}' is used by {names} and cannot be deleted.",
            error_code=content_types.IN_USE_CODE,
            errors={"uid": [f"is used by {names}."]},
        )
    tx.run(
        "DELETE FROM global_fields WHERE api_key = ? AND branch = ? AND uid = ?",
        access.api_key,
        access.branch,
        uid,
    )
    model_refs.forget(tx, access.api_key, access.branch, model_refs.GLOBAL_FIELD, uid)
    spine.record(tx, access, "global_field.delete", uid, {"title": r["title"]})


def export(tx: Tx, access: StackAccess, uid: str) -> dict[str, Any]:
    """The stored global field (nested global fields by reference), ready to import elsewhere."""
    r = _get(tx, access, uid, "read")
    out = render(tx, r, inline=False)
    out["_branches"] = [r["branch"]]
    return out


def import_(tx: Tx, access: StackAccess, data: Any, *, overwrite: bool) -> dict[str, Any]:
    if isinstance(data, dict) and isinstance(data.get("global_field"), dict):
        data = data["global_field"]
    if not isinstance(data, dict):
        raise invalid(
            {"global_field": ["must be a JSON object (an exported global field)."]},
            CREATE_FAILED,
            content_types.INVALID_CODE,
        )
    fields = {k: data[k] for k in ("uid", "title", "description", "schema") if k in data}
    uid = data.get("uid")
    if (
        overwrite
        and isinstance(uid, str)
        and tx.one(
            "SELECT 1 AS x FROM global_fields WHERE api_key = ? AND branch = ? AND uid = ?",
            access.api_key,
            access.branch,
            uid,
        )
    ):
        return update(tx, access, uid, fields)
    return create(tx, access, fields)
