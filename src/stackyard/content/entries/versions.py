"""The version history of an entry in one locale, and names given to versions.

Every save writes a snapshot to `entry_versions`; versions count per locale (a fresh localized copy
starts at 1). Fetching `?version=N` reads the snapshot (`entries.fetch`).
"""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.content.entries import entries
from stackyard.core import spine
from stackyard.errors import invalid, not_found
from stackyard.store.engine import Row, Tx

NAME_LIMIT = 100


def _versions(tx: Tx, access: StackAccess, entry_uid: str, locale: str, named: bool) -> list[Row]:
    return tx.all(
        "SELECT version, locale, created_at, created_by, version_name FROM entry_versions "
        "WHERE api_key = ? AND branch = ? AND uid = ? AND locale = ? "
        f"{'AND version_name IS NOT NULL ' if named else ''}ORDER BY version DESC",
        access.api_key,
        access.branch,
        entry_uid,
        locale,
    )


def find(
    tx: Tx,
    access: StackAccess,
    ct_uid: str,
    entry_uid: str,
    locale: str | None,
    skip: int = 0,
    limit: int = 100,
    *,
    named: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """Newest first: [{_version, locale, updated_at, updated_by, _version_name?}], and the count.

    A locale without its own copy answers the versions of the copy it falls back to, as Contentstack
    answers the master's for an unlocalized entry.
    """
    ct = entries.content_type(tx, access, ct_uid, "read")
    code = entries.in_locale(tx, access, ct, locale, "read")
    existing = entries.rows(tx, access, ct, entry_uid)
    if not any(r["locale"] == code for r in existing):
        base = entries.fallback(tx, access, existing, code)
        if base is None:
            raise not_found()
        code = base["locale"]
    found = _versions(tx, access, entry_uid, code, named)
    out = []
    for v in found[skip : skip + limit]:
        item: dict[str, Any] = {
            "_version": v["version"],
            "locale": v["locale"],
            "updated_at": v["created_at"],
            "updated_by": v["created_by"],
        }
        if v["version_name"]:
            item["_version_name"] = v["version_name"]
        out.append(item)
    return out, len(found)


def name(
    tx: Tx, access: StackAccess, ct_uid: str, entry_uid: str, version: int, data: dict[str, Any]
) -> None:
    """Give version `version` a name (`{"_version_name", "locale"}`); a later name replaces it."""
    label = data.get("_version_name")
    if not isinstance(label, str) or not label.strip() or len(label) > NAME_LIMIT:
        raise invalid({"_version_name": [f"is required: a string of 1 to {NAME_LIMIT} characters."]})
    _set(tx, access, ct_uid, entry_uid, version, data.get("locale"), label.strip(), "name")


def unname(tx: Tx, access: StackAccess, ct_uid: str, entry_uid: str, version: int, locale: Any) -> None:
    _set(tx, access, ct_uid, entry_uid, version, locale, None, "unname")


def _set(
    tx: Tx,
    access: StackAccess,
    ct_uid: str,
    entry_uid: str,
    version: int,
    locale: Any,
    label: str | None,
    event: str,
) -> None:
    ct = entries.content_type(tx, access, ct_uid, "update")
    code = entries.in_locale(tx, access, ct, locale if isinstance(locale, str) else None, "update")
    touched = tx.run(
        "UPDATE entry_versions SET version_name = ? WHERE api_key = ? AND branch = ? AND uid = ? AND locale = ? "
        "AND version = ?",
        label,
        access.api_key,
        access.branch,
        entry_uid,
        code,
        version,
    )
    if not touched:
        raise not_found()
    spine.record(
        tx,
        access,
        f"entry.version_{event}",
        entry_uid,
        {"name": label},
        content_type=ct.uid,
        locale=code,
        version=version,
    )
