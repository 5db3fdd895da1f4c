"""Assets: uploaded files, versioned, in folders (catalogue §2.5).

    stored = assets.store_file(store, incoming)            # before the write transaction
    a = assets.create(tx, access, stored, {"title": "Logo", "parent_uid": folder})
    assets.update(tx, access, uid, {"title": "New"})
    assets.replace(tx, access, uid, assets.store_file(store, other), {})

Every write makes a new version (`asset_versions` holds each, with the file it had), and records an
`asset.*` event. The file is sniffed from its bytes (`sniff.mime`), never typed by the client's
word; images get their dimensions from the header. Bytes are stored under their SHA-256, so two
uploads of one file share one stored copy; a stored file no row names any more is deleted after
the transaction commits.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import require
from stackyard.content.assets import acl, publishing, sniff
from stackyard.content.assets.records import Incoming, asset_missing, render, row
from stackyard.content.assets.storage import Storage, for_db, settings_for
from stackyard.content.publishing import bulk
from stackyard.core import spine
from stackyard.errors import BadRequest, invalid
from stackyard.ids import now, uid
from stackyard.store.engine import Row, Tx, jdump, jload

MAX_TAGS = 100
TEXT_LIMIT = 1000
COLUMNS = (
    "title, description, tags, filename, content_type, file_size, storage_key, upload_uid, width, height"
)


def _tags(value: Any, errors: dict[str, list[str]]) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                value = None
        else:
            value = [t.strip() for t in text.split(",") if t.strip()]
    if (
        not isinstance(value, list)
        or len(value) > MAX_TAGS
        or not all(isinstance(t, str) and 0 < len(t) <= 100 for t in value)
    ):
        errors.setdefault("tags", []).append(f"must be a list of at most {MAX_TAGS} non-empty strings.")
        return None
    return list(dict.fromkeys(value))


def _text(data: dict[str, Any], key: str, errors: dict[str, list[str]]) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > TEXT_LIMIT or "\x00" in value:
        errors.setdefault(key, []).append(f"must be a string of at most {TEXT_LIMIT} characters.")
        return None
    return value


def _parent(tx: Tx, access: StackAccess, value: Any, errors: dict[str, list[str]]) -> str | None:
    """'' for the top level, a folder uid, or None when not given."""
    if value is None:
        return None
    if value == "" or value == "null":
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


def _clean(tx: Tx, access: StackAccess, data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    out = {
        "title": _text(data, "title", errors),
        "description": _text(data, "description", errors),
        "tags": _tags(data.get("tags"), errors),
        "parent_uid": _parent(tx, access, data.get("parent_uid"), errors),
    }
    if errors:
        raise invalid(errors, "Asset could not be saved. Please enter valid data.")
    return {k: v for k, v in out.items() if v is not None}


def may_store(access: StackAccess, asset_uid: str | None = None) -> None:
    """403 before any byte is stored when the caller may not upload (or replace this asset)."""
    if asset_uid is None:
        if not acl.may_create_somewhere(access):
            require(access, "asset", "create")
    elif not acl.may_update_somewhere(access):
        require(access, "asset", "update", asset_uid)


def store_file(store: Storage, incoming: Incoming) -> dict[str, Any]:
    """Sniff an uploaded file and move it into storage; answers the columns describing it. Called
    before the write transaction opens, so a slow store (a big file to S3) never holds the writer."""
    if incoming.size == 0:
        raise invalid({"upload": ["is empty."]}, "Please upload a file.")
    content_type = sniff.mime(incoming.head, incoming.filename)
    size = sniff.dimensions(incoming.path) if sniff.is_image(content_type) else None
    store.put(incoming.sha256, incoming.path, incoming.size)
    return {
        "filename": incoming.filename,
        "content_type": content_type,
        "file_size": incoming.size,
        "storage_key": incoming.sha256,
        "upload_uid": uid(),
        "width": size[0] if size else None,
        "height": size[1] if size else None,
    }


def _snapshot(tx: Tx, access: StackAccess, asset_uid: str, version: int) -> None:
    tx.run(
        f"INSERT INTO asset_versions (api_key, branch, uid, version, {COLUMNS}, created_by, created_at) "
        f"SELECT api_key, branch, uid, ?, {COLUMNS}, updated_by, updated_at FROM assets "
        "WHERE api_key = ? AND branch = ? AND uid = ?",
        version,
        access.api_key,
        access.branch,
        asset_uid,
    )


def _event(tx: Tx, access: StackAccess, type: str, r: Row, **extra: Any) -> None:
    data = {"title": r["title"], "filename": r["filename"], **extra}
    spine.record(tx, access, type, r["uid"], data, version=int(r["version"]))


def shown(tx: Tx, access: StackAccess, r: Row, base: str) -> dict[str, Any]:
    details = publishing.details(tx, access.api_key, access.branch, [r["uid"]]).get(r["uid"], [])
    return render(r, base, details)


def create(
    tx: Tx, access: StackAccess, f: dict[str, Any], data: dict[str, Any], base: str = ""
) -> dict[str, Any]:
    """A new asset of the stored file `f` (`store_file`)."""
    may_store(access)
    clean = _clean(tx, access, data)
    acl.require_new(tx, access, clean.get("parent_uid"), is_dir=False)
    asset_uid, t, actor = uid(), now(), access.caller.actor
    tx.run(
        f"INSERT INTO assets (api_key, branch, uid, is_dir, parent_uid, version, {COLUMNS}, "
        "created_by, updated_by, created_at, updated_at) "
        "VALUES (?, ?, ?, 0, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        access.api_key,
        access.branch,
        asset_uid,
        clean.get("parent_uid", ""),
        clean.get("title") or f["filename"],
        clean.get("description", ""),
        jdump(clean.get("tags", [])),
        f["filename"],
        f["content_type"],
        f["file_size"],
        f["storage_key"],
        f["upload_uid"],
        f["width"],
        f["height"],
        actor,
        actor,
        t,
        t,
    )
    _snapshot(tx, access, asset_uid, 1)
    r = row(tx, access, asset_uid)
    _event(tx, access, "asset.create", r)
    return render(r, base)


def fetch(
    tx: Tx, access: StackAccess, asset_uid: str, base: str = "", version: int | None = None
) -> dict[str, Any]:
    r = row(tx, access, asset_uid)
    acl.require(tx, access, "read", r)
    if version is not None and version != r["version"]:
        v = tx.one(
            "SELECT * FROM asset_versions WHERE api_key = ? AND branch = ? AND uid = ? AND version = ?",
            access.api_key,
            access.branch,
            asset_uid,
            version,
        )
        if v is None:
            raise asset_missing()
        r = {**r, **v, "updated_at": v["created_at"], "updated_by": v["created_by"]}
    return shown(tx, access, r, base)


def _write(tx: Tx, access: StackAccess, asset_uid: str, changes: dict[str, Any]) -> Row:
    """Apply `changes` to the asset as its next version (snapshotted)."""
    current = row(tx, access, asset_uid)
    version = int(current["version"]) + 1
    sets = ", ".join(f"{k} = ?" for k in changes)
    tx.run(
        f"UPDATE assets SET {sets}, version = ?, updated_by = ?, updated_at = ? "
        "WHERE api_key = ? AND branch = ? AND uid = ?",
        *[jdump(v) if k == "tags" else v for k, v in changes.items()],
        version,
        access.caller.actor,
        now(),
        access.api_key,
        access.branch,
        asset_uid,
    )
    _snapshot(tx, access, asset_uid, version)
    return row(tx, access, asset_uid)


def _may_update(tx: Tx, access: StackAccess, r: Row, clean: dict[str, Any]) -> None:
    """403 unless the caller may change this asset, and make one in the folder it moves to."""
    acl.require(tx, access, "update", r)
    if "parent_uid" in clean and (clean["parent_uid"] or "") != (r["parent_uid"] or ""):
        acl.require_new(tx, access, clean["parent_uid"], is_dir=False)


def update(
    tx: Tx,
    access: StackAccess,
    asset_uid: str,
    data: dict[str, Any],
    base: str = "",
    restore: int | None = None,
) -> dict[str, Any]:
    """Change title, description, tags or folder; with `restore`, start from that version's file."""
    _may_update(tx, access, row(tx, access, asset_uid), clean := _clean(tx, access, data))
    if restore is not None:
        old = tx.one(
            f"SELECT {COLUMNS} FROM asset_versions WHERE api_key = ? AND branch = ? AND uid = ? AND version = ?",
            access.api_key,
            access.branch,
            asset_uid,
            restore,
        )
        if old is None:
            raise invalid({"version": [f"{restore} is not a version of this asset."]})
        changes = {**old, "tags": jload(old["tags"]), **clean}
        r = _write(tx, access, asset_uid, changes)
        _event(tx, access, "asset.restore", r, from_version=restore)
    else:
        if not clean:
            raise invalid({"asset": ["names nothing to change (title, description, tags, parent_uid)."]})
        r = _write(tx, access, asset_uid, clean)
        _event(tx, access, "asset.update", r)
    return shown(tx, access, r, base)


def replace(
    tx: Tx, access: StackAccess, asset_uid: str, f: dict[str, Any], data: dict[str, Any], base: str = ""
) -> dict[str, Any]:
    """The stored file `f` (`store_file`) becomes the asset's next version."""
    _may_update(tx, access, row(tx, access, asset_uid), clean := _clean(tx, access, data))
    r = _write(tx, access, asset_uid, {**f, **clean})
    _event(tx, access, "asset.replace", r)
    return shown(tx, access, r, base)


def delete(tx: Tx, access: StackAccess, store: Storage | None, asset_uid: str) -> None:
    r = row(tx, access, asset_uid)
    acl.require(tx, access, "delete", r)
    remove(tx, access, store, [r])


def remove(tx: Tx, access: StackAccess, store: Storage | None, rows: list[Row]) -> None:
    """Delete these asset rows with their versions and snapshots; their files go after commit (kept
    when no storage is known: a job process not configured for it)."""
    keys: set[str] = set()
    for r in rows:
        keys.update(
            v["storage_key"]
            for v in tx.all(
                "SELECT DISTINCT storage_key FROM asset_versions WHERE api_key = ? AND branch = ? AND uid = ?",
                access.api_key,
                access.branch,
                r["uid"],
            )
        )
        publishing.withdraw_all(tx, access, r["uid"])
        for table in ("asset_versions", "assets"):
            tx.run(
                f"DELETE FROM {table} WHERE api_key = ? AND branch = ? AND uid = ?",
                access.api_key,
                access.branch,
                r["uid"],
            )
        _event(tx, access, "asset.delete", r)
    collect(tx, store, keys)


def collect(tx: Tx, store: Storage | None, keys: set[str]) -> None:
    """Delete, once the transaction commits, the stored files no asset or version names any more."""
    if store is None:
        return
    orphans = [
        k
        for k in keys
        if k
        and tx.one("SELECT 1 AS x FROM assets WHERE storage_key = ? LIMIT 1", k) is None
        and tx.one("SELECT 1 AS x FROM asset_versions WHERE storage_key = ? LIMIT 1", k) is None
    ]
    if orphans:
        settings = settings_for(tx.db)
        derived = Path(settings.data_dir) / "derived" if settings is not None else None

        def sweep() -> None:
            for k in orphans:
                try:
                    store.delete(k)
                except Exception:  # noqa: S110 - an orphan left behind costs disk, never correctness
                    pass
                if derived is not None:  # the images made from it
                    shutil.rmtree(derived / k[:2] / k, ignore_errors=True)

        tx.after_commit("assets.collect:" + ",".join(sorted(orphans)), sweep)


# -- lists ---------------------------------------------------------------------------------------

KINDS = {"images": "image/%", "videos": "video/%"}
_QUERY_FIELDS = {
    "uid": "uid",
    "title": "title",
    "name": "title",
    "filename": "filename",
    "content_type": "content_type",
    "parent_uid": "parent_uid",
    "is_dir": "is_dir",
    "created_by": "created_by",
    "updated_by": "updated_by",
}


def _query(query: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """SQL conditions for a simple `query={"field": value}` (equality, `$in`, `$regex`-free)."""
    conds: list[str] = []
    params: list[Any] = []
    for key, value in query.items():
        column = _QUERY_FIELDS.get(key)
        if key == "tags" and isinstance(value, str):
            conds.append("CAST(tags AS TEXT) LIKE ?")
            params.append("%" + json.dumps(value.replace("%", "").replace("_", "")) + "%")
            continue
        if column is None:
            raise BadRequest(f"Assets cannot be queried by '{key}'.", error_code=102, errors={"query": [key]})
        if column == "is_dir":
            value = 1 if value in (True, "true", "True", 1) else 0
        if isinstance(value, dict) and set(value) == {"$in"} and isinstance(value["$in"], list):
            items = [v for v in value["$in"] if isinstance(v, str | int)]
            conds.append(f"{column} IN ({', '.join('?' * len(items))})" if items else "1 = 0")
            params.extend(items)
        elif isinstance(value, str | int | bool) or value is None:
            conds.append(f"{column} = ?")
            params.append("" if value is None and column == "parent_uid" else value)
        else:
            raise BadRequest(f"'{key}' takes a plain value or {{'$in': [...]}}.", error_code=102)
    return conds, params


def find(
    tx: Tx,
    access: StackAccess,
    *,
    base: str = "",
    folder: str | None = None,
    include_folders: bool = False,
    kind: str | None = None,
    query: dict[str, Any] | None = None,
    skip: int = 0,
    limit: int = 100,
    count: bool = False,
    descending: bool = True,
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the stack's assets (and folders, with `include_folders`), newest first."""
    cond, fparams = acl.visible(tx, access)
    conds = ["api_key = ?", "branch = ?", cond]
    params: list[Any] = [access.api_key, access.branch, *fparams]
    if folder is not None:
        conds.append("parent_uid = ?")
        params.append("" if folder in ("", "cs_root") else folder)
    q = dict(query or {})
    if "is_dir" not in q and not include_folders:
        conds.append("is_dir = 0")
    if kind is not None:
        conds.append("is_dir = 0 AND content_type LIKE ?")
        params.append(KINDS[kind])
    more, qparams = _query(q)
    conds += more
    params += qparams
    order = "created_at DESC, uid DESC" if descending else "created_at, uid"
    rows, total = tx.page("assets", " AND ".join(conds), tuple(params), order, skip, limit, count=count)
    details = publishing.details(
        tx, access.api_key, access.branch, [r["uid"] for r in rows if not r["is_dir"]]
    )
    return [render(r, base, details.get(r["uid"], [])) for r in rows], total


def references(tx: Tx, access: StackAccess, asset_uid: str) -> list[dict[str, Any]]:
    """The entries (per locale) whose field values name this asset: file fields and rich text."""
    acl.require(tx, access, "read", row(tx, access, asset_uid))
    text = "data" if tx.dialect == "sqlite" else "data::text"
    rows = tx.all(
        f"SELECT e.uid, e.locale, e.content_type_uid, c.title AS ct_title FROM entries e "
        "LEFT JOIN content_types c ON c.api_key = e.api_key AND c.branch = e.branch AND c.uid = e.content_type_uid "
        f"WHERE e.api_key = ? AND e.branch = ? AND {text} LIKE ? ORDER BY e.content_type_uid, e.uid, e.locale",
        access.api_key,
        access.branch,
        f"%{asset_uid}%",  # a file field's value, or the uid inside rich text (embedded asset, URL)
    )
    return [
        {
            "entry_uid": r["uid"],
            "content_type_uid": r["content_type_uid"],
            "locale": r["locale"],
            "content_type_title": r["ct_title"] or r["content_type_uid"],
        }
        for r in rows
    ]


def discard(tx: Tx, store: Storage, key: str) -> None:
    """Delete a stored file whose asset write failed, unless some row names it (read transaction)."""
    if (
        tx.one("SELECT 1 AS x FROM assets WHERE storage_key = ? LIMIT 1", key) is None
        and tx.one("SELECT 1 AS x FROM asset_versions WHERE storage_key = ? LIMIT 1", key) is None
    ):
        store.delete(key)


def _bulk_delete(tx: Tx, access: StackAccess, item: dict[str, Any], request: dict[str, Any]) -> None:
    delete(tx, access, for_db(tx.db), item["uid"])


bulk.appliers["asset.delete"] = _bulk_delete
