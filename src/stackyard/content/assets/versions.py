"""Asset versions: list them, name one, remove a name (catalogue §2.5).

    versions.find(tx, access, uid) == [{"_version": 2}, {"_version": 1, "_version_name": {...}}]

Restoring a version is an update that starts from its file (`assets.update(..., restore=n)`).
"""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.content.assets import acl
from stackyard.content.assets.records import row
from stackyard.core import spine
from stackyard.errors import invalid
from stackyard.ids import now
from stackyard.store.engine import Row, Tx

NAME_LIMIT = 100


def _version(tx: Tx, access: StackAccess, asset_uid: str, number: str) -> Row:
    found = None
    if number.isdigit():
        found = tx.one(
            "SELECT * FROM asset_versions WHERE api_key = ? AND branch = ? AND uid = ? AND version = ?",
            access.api_key,
            access.branch,
            asset_uid,
            int(number),
        )
    if found is None:
        raise invalid(
            {"version": [f"{number} is not a version of this asset."]}, "The version was not found."
        )
    return found


def find(
    tx: Tx, access: StackAccess, asset_uid: str, skip: int = 0, limit: int = 100
) -> list[dict[str, Any]]:
    acl.require(tx, access, "read", row(tx, access, asset_uid))
    out = []
    for v in tx.all(
        "SELECT version, version_name, version_named_by, version_named_at FROM asset_versions "
        "WHERE api_key = ? AND branch = ? AND uid = ? ORDER BY version DESC LIMIT ? OFFSET ?",
        access.api_key,
        access.branch,
        asset_uid,
        limit,
        skip,
    ):
        item: dict[str, Any] = {"_version": v["version"]}
        if v["version_name"] is not None:
            item["_version_name"] = {
                "title": v["version_name"],
                "updated_by": v["version_named_by"],
                "updated_at": v["version_named_at"],
            }
        out.append(item)
    return out


def name(tx: Tx, access: StackAccess, asset_uid: str, number: str, data: dict[str, Any]) -> None:
    acl.require(tx, access, "update", row(tx, access, asset_uid))
    v = _version(tx, access, asset_uid, number)
    title = data.get("_version_name")
    if not isinstance(title, str) or not title.strip() or len(title) > NAME_LIMIT or "\x00" in title:
        raise invalid({"_version_name": [f"is required: a string of 1 to {NAME_LIMIT} characters."]})
    tx.run(
        "UPDATE asset_versions SET version_name = ?, version_named_by = ?, version_named_at = ? "
        "WHERE api_key = ? AND branch = ? AND uid = ? AND version = ?",
        title.strip(),
        access.caller.actor,
        now(),
        access.api_key,
        access.branch,
        asset_uid,
        v["version"],
    )
    spine.record(
        tx, access, "asset.version_name", asset_uid, {"name": title.strip()}, version=int(v["version"])
    )


def unname(tx: Tx, access: StackAccess, asset_uid: str, number: str) -> None:
    acl.require(tx, access, "update", row(tx, access, asset_uid))
    v = _version(tx, access, asset_uid, number)
    tx.run(
        "UPDATE asset_versions SET version_name = NULL, version_named_by = NULL, version_named_at = NULL "
        "WHERE api_key = ? AND branch = ? AND uid = ? AND version = ?",
        access.api_key,
        access.branch,
        asset_uid,
        v["version"],
    )
    spine.record(
        tx, access, "asset.version_unname", asset_uid, {"name": v["version_name"]}, version=int(v["version"])
    )
