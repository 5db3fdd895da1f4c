"""Asset folders: nested, renamed, moved, deleted with everything inside (catalogue §2.5, §4.2).

A folder is a row of `assets` with is_dir = 1 and its name in `title`. Names are unique among a
folder's direct children (as a file system's are); a folder may not move into itself or below it.
"""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import require
from stackyard.content.assets import acl, assets
from stackyard.content.assets.records import render, row
from stackyard.content.assets.storage import Storage
from stackyard.core import spine
from stackyard.errors import invalid
from stackyard.ids import now, uid
from stackyard.store.engine import Row, Tx

NAME_LIMIT = 255
MAX_DEPTH = 50
INVALID = "Folder could not be saved. Please enter valid data."


def path(tx: Tx, access: StackAccess, folder_uid: str) -> list[dict[str, str]]:
    """The folders from the top down to this one, as [{uid, name}]."""
    out: list[dict[str, str]] = []
    current = folder_uid
    while current and len(out) <= MAX_DEPTH:
        r = tx.one(
            "SELECT uid, title, parent_uid FROM assets WHERE api_key = ? AND branch = ? AND uid = ? AND is_dir = 1",
            access.api_key,
            access.branch,
            current,
        )
        if r is None:
            break
        out.append({"uid": r["uid"], "name": r["title"]})
        current = r["parent_uid"]
    return list(reversed(out))


def _shown(tx: Tx, access: StackAccess, r: Row) -> dict[str, Any]:
    return {**render(r), "path": path(tx, access, r["uid"])}


def _name(data: dict[str, Any], errors: dict[str, list[str]], required: bool) -> str | None:
    name = data.get("name")
    if name is None and not required:
        return None
    if (
        not isinstance(name, str)
        or not name.strip()
        or len(name) > NAME_LIMIT
        or "/" in name
        or "\x00" in name
    ):
        errors.setdefault("name", []).append(f"is required: 1 to {NAME_LIMIT} characters, without '/'.")
        return None
    return name.strip()


def _check(tx: Tx, access: StackAccess, name: str, parent: str, exclude: str) -> None:
    if tx.one(
        "SELECT 1 AS x FROM assets WHERE api_key = ? AND branch = ? AND is_dir = 1 AND parent_uid = ? "
        "AND title = ? AND uid <> ?",
        access.api_key,
        access.branch,
        parent,
        name,
        exclude,
    ):
        raise invalid({"name": ["is taken by another folder in the same place."]}, INVALID)


def _parent(tx: Tx, access: StackAccess, data: dict[str, Any], errors: dict[str, list[str]]) -> str | None:
    if "parent_uid" not in data:
        return None
    value = data["parent_uid"]
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or not tx.one(
        "SELECT 1 AS x FROM assets WHERE api_key = ? AND branch = ? AND uid = ? AND is_dir = 1",
        access.api_key,
        access.branch,
        value,
    ):
        errors.setdefault("parent_uid", []).append("is not a folder of this stack.")
        return None
    return value


def fetch(tx: Tx, access: StackAccess, folder_uid: str) -> dict[str, Any]:
    r = row(tx, access, folder_uid, is_dir=True)
    acl.require(tx, access, "read", r)
    return _shown(tx, access, r)


def create(tx: Tx, access: StackAccess, data: dict[str, Any]) -> dict[str, Any]:
    if not acl.may_create_somewhere(access, folders=True):
        require(access, "asset", "create")
    errors: dict[str, list[str]] = {}
    name = _name(data, errors, required=True)
    parent = _parent(tx, access, data, errors)
    if errors or name is None:
        raise invalid(errors, INVALID)
    parent = parent or ""
    acl.require_new(tx, access, parent, is_dir=True)
    if len(path(tx, access, parent)) >= MAX_DEPTH:
        raise invalid({"parent_uid": [f"folders nest at most {MAX_DEPTH} deep."]}, INVALID)
    _check(tx, access, name, parent, "")
    folder_uid, t, actor = uid(), now(), access.caller.actor
    tx.run(
        "INSERT INTO assets (api_key, branch, uid, is_dir, parent_uid, version, title, tags, "
        "created_by, updated_by, created_at, updated_at) VALUES (?, ?, ?, 1, ?, 1, ?, '[]', ?, ?, ?, ?)",
        access.api_key,
        access.branch,
        folder_uid,
        parent,
        name,
        actor,
        actor,
        t,
        t,
    )
    spine.record(tx, access, "folder.create", folder_uid, {"name": name, "parent_uid": parent or None})
    return _shown(tx, access, row(tx, access, folder_uid, is_dir=True))


def update(tx: Tx, access: StackAccess, folder_uid: str, data: dict[str, Any]) -> dict[str, Any]:
    """Rename (`name`) or move (`parent_uid`; null or '' for the top level)."""
    current = row(tx, access, folder_uid, is_dir=True)
    acl.require(tx, access, "update", current)
    errors: dict[str, list[str]] = {}
    name = _name(data, errors, required=False)
    parent = _parent(tx, access, data, errors)
    if errors:
        raise invalid(errors, INVALID)
    name = name if name is not None else current["title"]
    parent = parent if parent is not None else current["parent_uid"]
    if (parent or "") != (current["parent_uid"] or ""):
        acl.require_new(tx, access, parent, is_dir=True)
    if parent and folder_uid in {p["uid"] for p in path(tx, access, parent)}:
        raise invalid({"parent_uid": ["a folder cannot move into itself or a folder inside it."]}, INVALID)
    _check(tx, access, name, parent, folder_uid)
    tx.run(
        "UPDATE assets SET title = ?, parent_uid = ?, version = version + 1, updated_by = ?, updated_at = ? "
        "WHERE api_key = ? AND branch = ? AND uid = ?",
        name,
        parent,
        access.caller.actor,
        now(),
        access.api_key,
        access.branch,
        folder_uid,
    )
    spine.record(tx, access, "folder.update", folder_uid, {"name": name, "parent_uid": parent or None})
    return _shown(tx, access, row(tx, access, folder_uid, is_dir=True))


def delete(tx: Tx, access: StackAccess, store: Storage, folder_uid: str) -> int:
    """Delete the folder, the folders inside it and every asset in them; answers how many assets."""
    top = row(tx, access, folder_uid, is_dir=True)
    acl.require(tx, access, "delete", top)
    folders = [top]
    frontier = [folder_uid]
    while frontier:
        marks = ", ".join("?" * len(frontier))
        children = tx.all(
            f"SELECT * FROM assets WHERE api_key = ? AND branch = ? AND is_dir = 1 AND parent_uid IN ({marks})",
            access.api_key,
            access.branch,
            *frontier,
        )
        folders += children
        frontier = [c["uid"] for c in children]
    uids = [f["uid"] for f in folders]
    marks = ", ".join("?" * len(uids))
    files = tx.all(
        f"SELECT * FROM assets WHERE api_key = ? AND branch = ? AND is_dir = 0 AND parent_uid IN ({marks})",
        access.api_key,
        access.branch,
        *uids,
    )
    assets.remove(tx, access, store, files)
    for f in reversed(folders):
        tx.run(
            "DELETE FROM assets WHERE api_key = ? AND branch = ? AND uid = ?",
            access.api_key,
            access.branch,
            f["uid"],
        )
    spine.record(
        tx,
        access,
        "folder.delete",
        folder_uid,
        {"name": top["title"], "parent_uid": top["parent_uid"] or None, "assets_deleted": len(files)},
    )
    return len(files)
