"""Metadata: data an extension attaches to an entry or asset (catalogue §2.8).

One metadata object per (entity, extension, locale). It names the extension that owns it, and for
entries the content type; both must exist, and so must the entry. `presets` and any other keys are
kept as given. Publishing it records the environments and locales in the event log.
"""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import require, visible
from stackyard.content.model import content_types
from stackyard.content.model.fields import Errors, add, one_of
from stackyard.core import spine
from stackyard.core.readonly import READ_ONLY
from stackyard.errors import invalid, not_found
from stackyard.ids import now, uid
from stackyard.stacks import locales
from stackyard.store.engine import Row, Tx, jdump, jload

ENTITY_TYPES = frozenset({"entry", "asset"})
# Keys with their own columns; everything else in the body is kept in `data`.
_COLUMNS = ("entity_uid", "type", "_content_type_uid", "extension_uid", "locale")
INVALID = "Metadata could not be saved. Please enter valid data."


def _row(tx: Tx, access: StackAccess, meta_uid: str) -> Row:
    r = tx.one("SELECT * FROM metadata WHERE api_key = ? AND uid = ?", access.api_key, meta_uid)
    if r is None:
        raise not_found("Metadata")
    return r


def render(r: Row) -> dict[str, Any]:
    out: dict[str, Any] = {
        "uid": r["uid"],
        "extension_uid": r["extension_uid"],
        "type": r["entity_type"],
        "entity_uid": r["entity_uid"],
        "_content_type_uid": r["content_type_uid"],
        "locale": r["locale"],
        "api_key": r["api_key"],
        "scope": "local",
        "deleted_at": False,
        "presets": [],
    }
    out.update(jload(r["data"]))
    out.update(
        {
            "_version": r["version"],
            "created_by": r["created_by"],
            "updated_by": r["updated_by"],
            "created_at": r["created_at"],
            "updated_at": r["updated_at"],
        }
    )
    return out


def _entry_exists(tx: Tx, access: StackAccess, entry_uid: str, ct_uid: str) -> bool:
    return (
        tx.one(
            "SELECT 1 AS x FROM entries WHERE api_key = ? AND branch = ? AND uid = ? AND content_type_uid = ?",
            access.api_key,
            access.branch,
            entry_uid,
            ct_uid,
        )
        is not None
    )


def _validate(tx: Tx, access: StackAccess, data: dict[str, Any], current: Row | None) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    if current is not None:
        merged.update(render(current))
    merged.update(data)
    errors: Errors = {}
    entity = merged.get("entity_uid")
    if not isinstance(entity, str) or not entity:
        add(errors, "entity_uid", "is required: the uid of an entry or asset.")
    kind = merged.get("type")
    if not one_of(kind, ENTITY_TYPES):
        add(errors, "type", "must be entry or asset.")
    ct = merged.get("_content_type_uid")
    if kind == "entry":
        if not isinstance(ct, str) or not content_types.exists(tx, access.api_key, access.branch, ct):
            add(errors, "_content_type_uid", "must be the content type of the entry.")
        elif isinstance(entity, str) and entity and not _entry_exists(tx, access, entity, ct):
            add(errors, "entity_uid", f"is not an entry of content type '{ct}'.")
    elif ct is not None:
        ct = None
    ext = merged.get("extension_uid")
    if not isinstance(ext, str) or not tx.one(
        "SELECT 1 AS x FROM extensions WHERE api_key = ? AND uid = ?", access.api_key, ext
    ):
        add(errors, "extension_uid", "is not an extension of this stack.")
    locale = merged.get("locale")
    if locale is not None and (not isinstance(locale, str) or not locales.exists(tx, access.api_key, locale)):
        add(errors, "locale", "is not a locale of this stack.")
    presets = merged.get("presets", [])
    if not isinstance(presets, list) or not all(isinstance(p, dict) for p in presets):
        add(errors, "presets", "must be a list of objects {uid, name, options}.")
    if not errors and tx.one(
        "SELECT 1 AS x FROM metadata WHERE api_key = ? AND entity_uid = ? AND extension_uid = ? "
        "AND COALESCE(locale, '') = ? AND uid <> ?",
        access.api_key,
        entity,
        ext,
        locale or "",
        current["uid"] if current is not None else "",
    ):
        add(errors, "entity_uid", "already has metadata from this extension in this locale.")
    if errors:
        raise invalid(errors, INVALID)
    extra = {k: v for k, v in merged.items() if k not in _COLUMNS and k not in READ_ONLY["metadata"]}
    return {
        "entity_uid": entity,
        "type": kind,
        "ct": ct,
        "extension_uid": ext,
        "locale": locale,
        "data": extra,
    }


def find(
    tx: Tx, access: StackAccess, skip: int = 0, limit: int = 100, *, count: bool = True
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of metadata, and how many there are in all (None unless `count`)."""
    cond, params = visible(access, "metadata", "uid").sql()
    rows, total = tx.page(
        "metadata",
        f"api_key = ? AND {cond}",
        (access.api_key, *params),
        "created_at, uid",
        skip,
        limit,
        count=count,
    )
    return [render(r) for r in rows], total


def fetch(tx: Tx, access: StackAccess, meta_uid: str) -> dict[str, Any]:
    r = _row(tx, access, meta_uid)
    require(access, "metadata", "read", meta_uid)
    return render(r)


def create(tx: Tx, access: StackAccess, data: dict[str, Any]) -> dict[str, Any]:
    require(access, "metadata", "create")
    clean = _validate(tx, access, data, None)
    meta_uid, t, actor = uid(), now(), access.caller.actor
    tx.run(
        "INSERT INTO metadata (api_key, uid, entity_uid, entity_type, content_type_uid, locale, extension_uid, data, "
        "created_by, updated_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        access.api_key,
        meta_uid,
        clean["entity_uid"],
        clean["type"],
        clean["ct"],
        clean["locale"],
        clean["extension_uid"],
        jdump(clean["data"]),
        actor,
        actor,
        t,
        t,
    )
    _log(tx, access, "create", meta_uid, clean["entity_uid"])
    return render(_row(tx, access, meta_uid))


def update(tx: Tx, access: StackAccess, meta_uid: str, data: dict[str, Any]) -> dict[str, Any]:
    current = _row(tx, access, meta_uid)
    require(access, "metadata", "update", meta_uid)
    clean = _validate(tx, access, data, current)
    tx.run(
        "UPDATE metadata SET entity_uid = ?, entity_type = ?, content_type_uid = ?, locale = ?, extension_uid = ?, "
        "data = ?, version = version + 1, updated_by = ?, updated_at = ? WHERE api_key = ? AND uid = ?",
        clean["entity_uid"],
        clean["type"],
        clean["ct"],
        clean["locale"],
        clean["extension_uid"],
        jdump(clean["data"]),
        access.caller.actor,
        now(),
        access.api_key,
        meta_uid,
    )
    _log(tx, access, "update", meta_uid, clean["entity_uid"])
    return render(_row(tx, access, meta_uid))


def delete(tx: Tx, access: StackAccess, meta_uid: str) -> None:
    r = _row(tx, access, meta_uid)
    require(access, "metadata", "delete", meta_uid)
    tx.run("DELETE FROM metadata WHERE api_key = ? AND uid = ?", access.api_key, meta_uid)
    _log(tx, access, "delete", meta_uid, r["entity_uid"])


def publish(tx: Tx, access: StackAccess, meta_uid: str, data: dict[str, Any], *, unpublish: bool) -> None:
    """Record a (un)publish of the metadata to existing environments and locales."""
    r = _row(tx, access, meta_uid)
    require(access, "metadata", "publish", meta_uid)
    errors: Errors = {}
    envs, codes = data.get("environments"), data.get("locales")
    if not isinstance(envs, list) or not envs or not all(isinstance(e, str) for e in envs):
        add(errors, "environments", "must be a non-empty list of environment names.")
    else:
        for e in envs:
            if not tx.one(
                "SELECT 1 AS x FROM environments WHERE api_key = ? AND name = ?", access.api_key, e
            ):
                add(errors, "environments", f"'{e}' is not an environment of this stack.")
    if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
        add(errors, "locales", "must be a non-empty list of locale codes.")
    else:
        for c in codes:
            if not locales.exists(tx, access.api_key, c):
                add(errors, "locales", f"'{c}' is not a locale of this stack.")
    if errors:
        raise invalid(errors, "Metadata could not be published. Please check the environments and locales.")
    action = "unpublish" if unpublish else "publish"
    data = {"entity_uid": r["entity_uid"], "environments": envs, "locales": codes}
    spine.record(tx, access, f"metadata.{action}", meta_uid, data)


def _log(tx: Tx, access: StackAccess, action: str, meta_uid: str, entity_uid: str) -> None:
    spine.record(tx, access, f"metadata.{action}", meta_uid, {"entity_uid": entity_uid})
