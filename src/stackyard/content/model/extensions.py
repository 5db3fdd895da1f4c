"""Extensions: custom fields, widgets, dashboards and editor plugins (catalogue §2.8).

An extension is hosted elsewhere (`src`, an http(s) URL) or uploaded (`srcdoc`, its HTML source).
Custom fields name the data type they store. An extension used by a content type field cannot be
deleted.
"""

from __future__ import annotations

import json
from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import require, visible
from stackyard.content.model import content_types
from stackyard.content.model import refs as model_refs
from stackyard.content.model.fields import Errors, add, one_of
from stackyard.core import spine
from stackyard.errors import UnprocessableEntity, invalid, not_found
from stackyard.ids import now, uid
from stackyard.store.engine import Row, Tx, jdump, jload

TYPES = frozenset({"field", "widget", "dashboard", "asset_sidebar_widget", "rte_plugin", "json_rte_plugin"})
FIELD_DATA_TYPES = frozenset({"text", "number", "isodate", "boolean", "file", "reference", "json"})
# Keys kept as given beside the checked ones (dashboard width, widget visibility and the like).
EXTRA_KEYS = ("enable", "default_width", "visibility", "blur", "sidebar_location", "locations")
TITLE_LIMIT = 100
SRCDOC_LIMIT = 2 * 1024 * 1024  # uploaded source; the request body limit applies first
INVALID = "Extension could not be saved. Please enter valid data."


def _row(tx: Tx, access: StackAccess, ext_uid: str) -> Row:
    r = tx.one("SELECT * FROM extensions WHERE api_key = ? AND uid = ?", access.api_key, ext_uid)
    if r is None:
        raise not_found("Extension")
    return r


def render(r: Row) -> dict[str, Any]:
    out: dict[str, Any] = {
        "uid": r["uid"],
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
        "created_by": r["created_by"],
        "updated_by": r["updated_by"],
        "tags": jload(r["tags"]),
        "ACL": [],
        "_version": r["version"],
        "title": r["title"],
        "config": jload(r["config"]),
        "type": r["type"],
        "multiple": bool(r["multiple"]),
    }
    if r["data_type"] is not None:
        out["data_type"] = r["data_type"]
    if r["srcdoc"] is not None:
        out["srcdoc"] = r["srcdoc"]
    else:
        out["src"] = r["src"]
    scope = jload(r["scope"])
    if scope:
        out["scope"] = scope
    out.update(jload(r["extra"]))
    return out


def _validate(
    tx: Tx, access: StackAccess, data: dict[str, Any], current: dict[str, Any] | None
) -> dict[str, Any]:
    """The extension to store: `data` over `current` (an update), checked as a whole."""
    merged: dict[str, Any] = dict(current or {})
    if "src" in data or "srcdoc" in data:
        merged.pop("src", None)
        merged.pop("srcdoc", None)
    merged.update(data)
    errors: Errors = {}
    title = merged.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > TITLE_LIMIT:
        add(errors, "title", f"is required: a string of 1 to {TITLE_LIMIT} characters.")
    ext_type = merged.get("type")
    if not one_of(ext_type, TYPES):
        add(errors, "type", "must be one of " + ", ".join(sorted(TYPES)) + ".")
    data_type = merged.get("data_type")
    if data_type is None and ext_type == "field":
        add(errors, "data_type", "is required for a custom field.")
    elif data_type is not None and not one_of(data_type, FIELD_DATA_TYPES):
        add(errors, "data_type", "must be one of " + ", ".join(sorted(FIELD_DATA_TYPES)) + ".")
    src, srcdoc = merged.get("src"), merged.get("srcdoc")
    if (src is None) == (srcdoc is None):
        add(errors, "src", "give either src (the URL it is hosted at) or srcdoc (its source), not both.")
    elif src is not None and (not isinstance(src, str) or not src.startswith(("https://", "http://"))):
        add(errors, "src", "must be an http(s) URL.")
    elif srcdoc is not None and (not isinstance(srcdoc, str) or len(srcdoc.encode()) > SRCDOC_LIMIT):
        add(errors, "srcdoc", f"must be a string of at most {SRCDOC_LIMIT} bytes.")
    multiple = merged.get("multiple", False)
    if not isinstance(multiple, bool):
        add(errors, "multiple", "must be true or false.")
    tags = merged.get("tags")
    if tags is None:
        tags = []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        add(errors, "tags", "must be a list of strings.")
    config = merged.get("config")
    if config is None or config == "":
        config = {}
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except ValueError:
            config = None
    if not isinstance(config, dict):
        add(errors, "config", "must be an object (or a JSON string of one).")
    scope = merged.get("scope")
    if scope is None:
        scope = {}
    if not isinstance(scope, dict):
        add(errors, "scope", 'must be an object, e.g. {"content_types": ["$all"]}.')
    else:
        cts = scope.get("content_types", [])
        if not isinstance(cts, list) or not all(isinstance(c, str) for c in cts):
            add(errors, "scope.content_types", 'must be a list of content type uids or ["$all"].')
        else:
            for c in cts:
                if c != "$all" and not content_types.exists(tx, access.api_key, access.branch, c):
                    add(errors, "scope.content_types", f"'{c}' is not a content type of this stack.")
    if errors:
        raise invalid(errors, INVALID)
    return {
        "title": str(title).strip(),
        "type": ext_type,
        "data_type": data_type,
        "src": src,
        "srcdoc": srcdoc,
        "multiple": multiple,
        "tags": list(dict.fromkeys(tags)),
        "config": config,
        "scope": scope,
        "extra": {k: merged[k] for k in EXTRA_KEYS if k in merged},
    }


def find(
    tx: Tx, access: StackAccess, skip: int = 0, limit: int = 100, *, count: bool = True
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of extensions, and how many there are in all (None unless `count`)."""
    cond, params = visible(access, "extension", "uid").sql()
    rows, total = tx.page(
        "extensions",
        f"api_key = ? AND {cond}",
        (access.api_key, *params),
        "created_at, uid",
        skip,
        limit,
        count=count,
    )
    return [render(r) for r in rows], total


def fetch(tx: Tx, access: StackAccess, ext_uid: str) -> dict[str, Any]:
    r = _row(tx, access, ext_uid)
    require(access, "extension", "read", ext_uid)
    return render(r)


def _stored(tx: Tx, access: StackAccess, clean: dict[str, Any], ext_uid: str, *, insert: bool) -> None:
    t, actor = now(), access.caller.actor
    values = (
        clean["title"],
        clean["type"],
        clean["data_type"],
        jdump(clean["tags"]),
        clean["src"],
        clean["srcdoc"],
        int(clean["multiple"]),
        jdump(clean["config"]),
        jdump(clean["scope"]),
        jdump(clean["extra"]),
    )
    if insert:
        tx.run(
            "INSERT INTO extensions (title, type, data_type, tags, src, srcdoc, multiple, config, scope, extra, "
            "api_key, uid, created_by, updated_by, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            *values,
            access.api_key,
            ext_uid,
            actor,
            actor,
            t,
            t,
        )
    else:
        tx.run(
            "UPDATE extensions SET title = ?, type = ?, data_type = ?, tags = ?, src = ?, srcdoc = ?, multiple = ?, "
            "config = ?, scope = ?, extra = ?, version = version + 1, updated_by = ?, updated_at = ? "
            "WHERE api_key = ? AND uid = ?",
            *values,
            actor,
            t,
            access.api_key,
            ext_uid,
        )
    event = "create" if insert else "update"
    spine.record(tx, access, f"extension.{event}", ext_uid, {"title": clean["title"]})


def create(tx: Tx, access: StackAccess, data: dict[str, Any]) -> dict[str, Any]:
    require(access, "extension", "create")
    clean = _validate(tx, access, data, None)
    ext_uid = uid()
    _stored(tx, access, clean, ext_uid, insert=True)
    return render(_row(tx, access, ext_uid))


def update(tx: Tx, access: StackAccess, ext_uid: str, data: dict[str, Any]) -> dict[str, Any]:
    current = render(_row(tx, access, ext_uid))
    require(access, "extension", "update", ext_uid)
    clean = _validate(tx, access, data, current)
    _stored(tx, access, clean, ext_uid, insert=False)
    return render(_row(tx, access, ext_uid))


def delete(tx: Tx, access: StackAccess, ext_uid: str) -> None:
    r = _row(tx, access, ext_uid)
    require(access, "extension", "delete", ext_uid)
    users = model_refs.users(tx, access.api_key, None, model_refs.EXTENSION, ext_uid)
    if users:
        names = ", ".join(f"{kind.replace('_', ' ')} '{u}'" for kind, u in users)
        raise UnprocessableEntity(
            f"The extension is used by {names} and cannot be deleted.",
            error_code=content_types.IN_USE_CODE,
            errors={"uid": [f"is used by {names}."]},
        )
    tx.run("DELETE FROM extensions WHERE api_key = ? AND uid = ?", access.api_key, ext_uid)
    spine.record(tx, access, "extension.delete", ext_uid, {"title": r["title"]})
