"""Labels: named groups of content types, nested under parent labels (catalogue §2.8).

Parents and content types must exist in the stack; a label may not become its own ancestor.
Deleting a label detaches it from its children; deleting a content type detaches it from labels.
"""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import require, visible
from stackyard.content.model import content_types
from stackyard.content.model.fields import Errors, add
from stackyard.core import spine
from stackyard.errors import invalid, not_found
from stackyard.ids import now, uid
from stackyard.store.engine import Row, Tx, jdump, jload

NAME_LIMIT = 100
INVALID = "Label could not be saved. Please enter valid data."


def _row(tx: Tx, access: StackAccess, label_uid: str) -> Row:
    r = tx.one(
        "SELECT * FROM labels WHERE api_key = ? AND branch = ? AND uid = ?",
        access.api_key,
        access.branch,
        label_uid,
    )
    if r is None:
        raise not_found("Label")
    return r


def render(r: Row) -> dict[str, Any]:
    return {
        "uid": r["uid"],
        "name": r["name"],
        "parent": jload(r["parent"]),
        "content_types": jload(r["content_types"]),
        "ACL": [],
        "_version": r["version"],
        "created_by": r["created_by"],
        "updated_by": r["updated_by"],
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
    }


def _ancestors(tx: Tx, access: StackAccess, start: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        parent = tx.scalar(
            "SELECT parent FROM labels WHERE api_key = ? AND branch = ? AND uid = ?",
            access.api_key,
            access.branch,
            current,
        )
        if parent is not None:
            todo.extend(jload(parent))
    return seen


def _validate(tx: Tx, access: StackAccess, data: dict[str, Any], current: Row | None) -> dict[str, Any]:
    errors: Errors = {}
    name = data.get("name", current["name"] if current is not None else None)
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_LIMIT:
        add(errors, "name", f"is required: a string of 1 to {NAME_LIMIT} characters.")
    elif tx.one(
        "SELECT 1 AS x FROM labels WHERE api_key = ? AND branch = ? AND name = ? AND uid <> ?",
        access.api_key,
        access.branch,
        name.strip(),
        current["uid"] if current is not None else "",
    ):
        add(errors, "name", "is not unique.")
    parent = data.get("parent", jload(current["parent"]) if current is not None else [])
    if parent is None:
        parent = []
    if not isinstance(parent, list) or not all(isinstance(p, str) for p in parent):
        add(errors, "parent", "must be a list of label uids.")
        parent = []
    for p in parent:
        if not tx.one(
            "SELECT 1 AS x FROM labels WHERE api_key = ? AND branch = ? AND uid = ?",
            access.api_key,
            access.branch,
            p,
        ):
            add(errors, "parent", f"'{p}' is not a label of this stack.")
    if current is not None and current["uid"] in _ancestors(tx, access, parent):
        add(errors, "parent", "a label cannot be its own parent or ancestor.")
    cts = data.get("content_types", jload(current["content_types"]) if current is not None else [])
    if cts is None:
        cts = []
    if not isinstance(cts, list) or not all(isinstance(c, str) for c in cts):
        add(errors, "content_types", "must be a list of content type uids.")
        cts = []
    for c in cts:
        if not content_types.exists(tx, access.api_key, access.branch, c):
            add(errors, "content_types", f"'{c}' is not a content type of this stack.")
    if errors:
        raise invalid(errors, INVALID)
    assert isinstance(name, str)
    return {
        "name": name.strip(),
        "parent": list(dict.fromkeys(parent)),
        "content_types": list(dict.fromkeys(cts)),
    }


def find(
    tx: Tx, access: StackAccess, skip: int = 0, limit: int = 100, *, count: bool = True
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of labels, and how many there are in all (None unless `count`)."""
    cond, params = visible(access, "label", "uid").sql()
    where = f"api_key = ? AND branch = ? AND {cond}"
    rows, total = tx.page(
        "labels",
        where,
        (access.api_key, access.branch, *params),
        "created_at, uid",
        skip,
        limit,
        count=count,
    )
    return [render(r) for r in rows], total


def fetch(tx: Tx, access: StackAccess, label_uid: str) -> dict[str, Any]:
    r = _row(tx, access, label_uid)
    require(access, "label", "read", label_uid)
    return render(r)


def create(tx: Tx, access: StackAccess, data: dict[str, Any]) -> dict[str, Any]:
    require(access, "label", "create")
    clean = _validate(tx, access, data, None)
    label_uid, t, actor = uid(), now(), access.caller.actor
    tx.run(
        "INSERT INTO labels (api_key, branch, uid, name, parent, content_types, created_by, updated_by, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        access.api_key,
        access.branch,
        label_uid,
        clean["name"],
        jdump(clean["parent"]),
        jdump(clean["content_types"]),
        actor,
        actor,
        t,
        t,
    )
    spine.record(tx, access, "label.create", label_uid, {"name": clean["name"]})
    return render(_row(tx, access, label_uid))


def update(tx: Tx, access: StackAccess, label_uid: str, data: dict[str, Any]) -> dict[str, Any]:
    current = _row(tx, access, label_uid)
    require(access, "label", "update", label_uid)
    clean = _validate(tx, access, data, current)
    tx.run(
        "UPDATE labels SET name = ?, parent = ?, content_types = ?, version = version + 1, updated_by = ?, "
        "updated_at = ? WHERE api_key = ? AND branch = ? AND uid = ?",
        clean["name"],
        jdump(clean["parent"]),
        jdump(clean["content_types"]),
        access.caller.actor,
        now(),
        access.api_key,
        access.branch,
        label_uid,
    )
    spine.record(tx, access, "label.update", label_uid, {"name": clean["name"]})
    return render(_row(tx, access, label_uid))


def delete(tx: Tx, access: StackAccess, label_uid: str) -> None:
    r = _row(tx, access, label_uid)
    require(access, "label", "delete", label_uid)
    tx.run(
        "DELETE FROM labels WHERE api_key = ? AND branch = ? AND uid = ?",
        access.api_key,
        access.branch,
        label_uid,
    )
    for child in tx.all(
        "SELECT uid, parent FROM labels WHERE api_key = ? AND branch = ?", access.api_key, access.branch
    ):
        parents = jload(child["parent"])
        if label_uid in parents:
            tx.run(
                "UPDATE labels SET parent = ? WHERE api_key = ? AND branch = ? AND uid = ?",
                jdump([p for p in parents if p != label_uid]),
                access.api_key,
                access.branch,
                child["uid"],
            )
    spine.record(tx, access, "label.delete", label_uid, {"name": r["name"]})
