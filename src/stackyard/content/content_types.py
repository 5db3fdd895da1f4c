"""Content types: the schemas entries are written against, keyed by (stack, branch, uid).

A content type stores a global field by reference (`reference_to`); `load` and `render` inline the
global field's current schema, so every content type using it sees its changes.
"""

from __future__ import annotations

from typing import Any

from stackyard.errors import NotFound
from stackyard.store.engine import Row, Tx, jload

NOT_FOUND_CODE = 118


def not_found(uid: str) -> NotFound:
    """422/118, as Contentstack answers for an unknown content type."""
    return NotFound(
        f"The Content Type '{uid}' was not found. Please try again.",
        error_code=NOT_FOUND_CODE,
        errors={"uid": ["is not valid."]},
    )


def _row(tx: Tx, api_key: str, branch: str, uid: str) -> Row | None:
    return tx.one(
        "SELECT * FROM content_types WHERE api_key = ? AND branch = ? AND uid = ?", api_key, branch, uid
    )


def exists(tx: Tx, api_key: str, branch: str, uid: str) -> bool:
    return (
        tx.one(
            "SELECT 1 AS x FROM content_types WHERE api_key = ? AND branch = ? AND uid = ?",
            api_key,
            branch,
            uid,
        )
        is not None
    )


def inline_global_fields(tx: Tx, api_key: str, branch: str, schema: list[Any]) -> list[Any]:
    """A copy of `schema` with each global field's current schema inlined (recursively)."""
    return _inline(tx, api_key, branch, schema, ())


def _global_schema(tx: Tx, api_key: str, branch: str, uid: str, seen: tuple[str, ...]) -> list[Any]:
    if uid in seen:  # validation refuses cycles; never loop on stored data that has one anyway
        return []
    schema = tx.scalar(
        "SELECT schema FROM global_fields WHERE api_key = ? AND branch = ? AND uid = ?", api_key, branch, uid
    )
    if schema is None:
        return []
    return _inline(tx, api_key, branch, jload(schema), (*seen, uid))


def _inline(tx: Tx, api_key: str, branch: str, schema: list[Any], seen: tuple[str, ...]) -> list[Any]:
    out: list[Any] = []
    for field in schema:
        if not isinstance(field, dict):
            out.append(field)
            continue
        f = dict(field)
        data_type = f.get("data_type")
        if data_type == "global_field" and isinstance(f.get("reference_to"), str):
            f["schema"] = _global_schema(tx, api_key, branch, f["reference_to"], seen)
        elif data_type == "group" and isinstance(f.get("schema"), list):
            f["schema"] = _inline(tx, api_key, branch, f["schema"], seen)
        elif data_type == "blocks" and isinstance(f.get("blocks"), list):
            blocks = []
            for block in f["blocks"]:
                if not isinstance(block, dict):
                    blocks.append(block)
                    continue
                b = dict(block)
                if isinstance(b.get("reference_to"), str):
                    b["schema"] = _global_schema(tx, api_key, branch, b["reference_to"], seen)
                elif isinstance(b.get("schema"), list):
                    b["schema"] = _inline(tx, api_key, branch, b["schema"], seen)
                blocks.append(b)
            f["blocks"] = blocks
        out.append(f)
    return out


def render(tx: Tx, r: Row, *, inline: bool = True) -> dict[str, Any]:
    """The content type object as Contentstack returns it."""
    schema = jload(r["schema"])
    if inline:
        schema = inline_global_fields(tx, r["api_key"], r["branch"], schema)
    return {
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
        "DEFAULT_ACL": [],
        "SYS_ACL": {},
        "field_rules": jload(r["field_rules"]),
        "options": jload(r["options"]),
        "abilities": {
            "get_one_object": True,
            "get_all_objects": True,
            "create_object": True,
            "update_object": True,
            "delete_object": True,
            "delete_all_objects": True,
        },
        "_branch": r["branch"],
        "created_by": r["created_by"],
        "updated_by": r["updated_by"],
    }


def load(tx: Tx, api_key: str, branch: str, uid: str) -> dict[str, Any]:
    """The stored content type with global field schemas inlined; 422/118 when there is none.

    No permission check: callers (entries, delivery) have already checked theirs.
    """
    r = _row(tx, api_key, branch, uid)
    if r is None:
        raise not_found(uid)
    return render(tx, r)
