"""Releases (catalogue §2.9): named sets of entries and assets to publish or unpublish together.

A release holds items (uid, locale, version, action publish|unpublish); a locked release refuses
changes to its items. Deploying queues one publish queue item (type `release`, action `deploy`)
run by a job, now or at `scheduled_at`: in one transaction, every item is applied or none is; when
some fail, the deployment is `failed` and its details list each failed item and why.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import require
from stackyard.content.publishing import actions, queue, snapshots
from stackyard.content.publishing import entries as entry_publishing
from stackyard.errors import APIError, NotFound, UnprocessableEntity, invalid
from stackyard.ids import now, uid
from stackyard.store.engine import Row, Tx, jdump, jload

# kind -> what applies one item's action; assets register theirs (`content.assets.publishing`).
performers: dict[str, Callable[[Tx, StackAccess, actions.Action], object]] = {
    snapshots.ENTRY: entry_publishing.perform
}

LOCKED = 422
ITEM_ACTIONS = ("publish", "unpublish")
MAX_ITEMS = 500
ASSET_TYPE = "built_io_upload"  # the content type uid Contentstack gives assets in releases


def not_found() -> NotFound:
    return NotFound("The release was not found.", error_code=141)


def row(tx: Tx, access: StackAccess, release_uid: str, *, lock: bool = False) -> Row:
    sql = "SELECT * FROM releases WHERE api_key = ? AND branch = ? AND uid = ?"
    if lock:
        sql += tx.for_update
    r = tx.one(sql, access.api_key, access.branch, release_uid)
    if r is None:
        raise not_found()
    return r


def _items(tx: Tx, access: StackAccess, release_uid: str) -> list[dict[str, Any]]:
    return [
        {
            "uid": r["uid"],
            "version": r["version"],
            "action": r["action"],
            "content_type_uid": r["content_type_uid"] or ASSET_TYPE,
            "locale": r["locale"],
            "title": r["title"],
        }
        for r in tx.all(
            "SELECT * FROM release_items WHERE api_key = ? AND release_uid = ? ORDER BY added_at, uid, locale",
            access.api_key,
            release_uid,
        )
    ]


def render(tx: Tx, access: StackAccess, r: Row, *, items: bool = True) -> dict[str, Any]:
    listed = _items(tx, access, r["uid"])
    out: dict[str, Any] = {
        "uid": r["uid"],
        "name": r["name"],
        "description": r["description"],
        "locked": bool(r["locked"]),
        "archived": bool(r["archived"]),
        "status": jload(r["status"]),
        "_deploy_latest": False,
        "items_count": len(listed),
        "created_by": r["created_by"],
        "updated_by": r["updated_by"],
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
    }
    if items:
        out["items"] = listed
    return out


def _fields(data: dict[str, Any], *, create: bool) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    name = data.get("name")
    if name is not None or create:
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            errors["name"] = ["is required: a name of 1 to 200 characters."]
        else:
            out["name"] = name.strip()
    description = data.get("description")
    if description is not None:
        if not isinstance(description, str) or len(description) > 2000:
            errors["description"] = ["must be text of at most 2000 characters."]
        else:
            out["description"] = description
    for flag in ("locked", "archived"):
        if flag in data:
            if not isinstance(data[flag], bool):
                errors[flag] = ["must be true or false."]
            else:
                out[flag] = int(data[flag])
    if errors:
        raise invalid(errors, "The release is not valid.")
    return out


def find(tx: Tx, access: StackAccess, skip: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    require(access, "stack", "read")
    rows = tx.all(
        "SELECT * FROM releases WHERE api_key = ? AND branch = ? ORDER BY created_at DESC, uid LIMIT ? OFFSET ?",
        access.api_key,
        access.branch,
        limit,
        skip,
    )
    count = tx.scalar(
        "SELECT COUNT(*) FROM releases WHERE api_key = ? AND branch = ?", access.api_key, access.branch
    )
    return [render(tx, access, r, items=False) for r in rows], int(count)


def fetch(tx: Tx, access: StackAccess, release_uid: str) -> dict[str, Any]:
    require(access, "stack", "read")
    return render(tx, access, row(tx, access, release_uid))


def create(tx: Tx, access: StackAccess, data: dict[str, Any]) -> dict[str, Any]:
    require(access, "entry", "publish")
    fields = _fields(data, create=True)
    stamp, actor, key = now(), access.caller.actor, uid()
    tx.run(
        "INSERT INTO releases (api_key, branch, uid, name, description, locked, archived, status, created_by, "
        "updated_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        access.api_key,
        access.branch,
        key,
        fields["name"],
        fields.get("description", ""),
        fields.get("locked", 0),
        fields.get("archived", 0),
        jdump([]),
        actor,
        actor,
        stamp,
        stamp,
    )
    return fetch(tx, access, key)


def update(tx: Tx, access: StackAccess, release_uid: str, data: dict[str, Any]) -> dict[str, Any]:
    require(access, "entry", "publish")
    row(tx, access, release_uid, lock=True)
    fields = _fields(data, create=False)
    if fields:
        sets = ", ".join(f"{k} = ?" for k in fields)
        tx.run(
            f"UPDATE releases SET {sets}, updated_by = ?, updated_at = ? WHERE api_key = ? AND uid = ?",
            *fields.values(),
            access.caller.actor,
            now(),
            access.api_key,
            release_uid,
        )
    return fetch(tx, access, release_uid)


def delete(tx: Tx, access: StackAccess, release_uid: str) -> None:
    require(access, "entry", "publish")
    row(tx, access, release_uid, lock=True)
    tx.run("DELETE FROM release_items WHERE api_key = ? AND release_uid = ?", access.api_key, release_uid)
    tx.run("DELETE FROM releases WHERE api_key = ? AND uid = ?", access.api_key, release_uid)


def clone(tx: Tx, access: StackAccess, release_uid: str, data: dict[str, Any]) -> dict[str, Any]:
    source = row(tx, access, release_uid)
    copy = create(tx, access, {"description": source["description"], **data})
    tx.run(
        "INSERT INTO release_items (api_key, release_uid, kind, uid, locale, content_type_uid, version, action, "
        "title, added_at) SELECT api_key, ?, kind, uid, locale, content_type_uid, version, action, title, added_at "
        "FROM release_items WHERE api_key = ? AND release_uid = ?",
        copy["uid"],
        access.api_key,
        release_uid,
    )
    return fetch(tx, access, copy["uid"])


# -- deployment ----------------------------------------------------------------------------------------
def deploy(tx: Tx, access: StackAccess, release_uid: str, data: dict[str, Any]) -> str:
    """Queue the deployment (a job now, or at `scheduled_at`); answers the queue item's uid."""
    require(access, "entry", "publish")
    r = row(tx, access, release_uid)
    errors: dict[str, list[str]] = {}
    envs = data.get("environments")
    if not isinstance(envs, list) or not envs or not all(isinstance(e, str) for e in envs):
        errors["environments"] = ["must be a non-empty list of environment names."]
    when: datetime | None = actions.scheduled_at(data.get("scheduled_at"), errors)
    codes = data.get("locales")
    if codes is not None and (not isinstance(codes, list) or not all(isinstance(c, str) for c in codes)):
        errors["locales"] = ["must be a list of locale codes."]
    if errors:
        raise invalid(errors, "The release could not be deployed.")
    env_uids = actions.environments(tx, access, list(envs or []))
    chosen = actions.locales(tx, access, list(codes or []))
    action = data.get("action") if data.get("action") in ITEM_ACTIONS else None
    if not tx.scalar(
        "SELECT COUNT(*) FROM release_items WHERE api_key = ? AND release_uid = ?",
        access.api_key,
        release_uid,
    ):
        raise invalid(
            {"items": ["the release has no items to deploy."]}, "The release could not be deployed."
        )
    payload = {
        "release": release_uid,
        "environments": list(env_uids),
        "locales": list(chosen),
        "action": action,
    }
    return queue.add(
        tx,
        access,
        type="release",
        action="deploy",
        item_uid=release_uid,
        payload=payload,
        title=r["name"],
        environments=env_uids,
        locales=chosen,
        when=when,
        deferred=True,
    )


def _deploy(tx: Tx, access: StackAccess, queued: Row) -> dict[str, Any]:
    """Run a deployment: all items in this transaction, or none (APIError listing the failures)."""
    p = jload(queued["details"])["request"]
    try:
        release = row(tx, access, p["release"], lock=True)
    except NotFound:
        raise invalid({"release": ["was deleted before its deployment ran."]}) from None
    failures: list[dict[str, Any]] = []
    items = tx.all(
        "SELECT * FROM release_items WHERE api_key = ? AND release_uid = ? ORDER BY added_at, uid, locale",
        access.api_key,
        p["release"],
    )
    for it in items:
        act = actions.Action(
            action=p.get("action") or it["action"],
            kind=it["kind"],
            uid=it["uid"],
            content_type_uid=it["content_type_uid"],
            environments=tuple(p["environments"]),
            locales=tuple(p["locales"] or [it["locale"]]),
            locale=it["locale"],
            version=it["version"],
        )
        try:
            with tx.savepoint("release_item"):
                perform = performers.get(act.kind)
                if perform is None:
                    raise NotFound(
                        f"{act.kind}s in releases are not supported by this server.", error_code=141
                    )
                perform(tx, access, act)
        except APIError as e:
            failures.append(
                {
                    "uid": it["uid"],
                    "locale": it["locale"],
                    "error_message": e.error_message,
                    "errors": e.errors,
                }
            )
    if failures:
        raise UnprocessableEntity(
            f"The release was not deployed: {len(failures)} of its {len(items)} items could not be {act.action}ed.",
            errors=failures,
        )
    status = [s for s in jload(release["status"]) if s.get("environment") not in p["environments"]]
    status += [
        {"environment": e, "time": now(), "action": p.get("action") or "publish"} for e in p["environments"]
    ]
    tx.run(
        "UPDATE releases SET status = ? WHERE api_key = ? AND uid = ?",
        jdump(status),
        access.api_key,
        p["release"],
    )
    return {"deployed": len(items)}


queue.runners["release"] = _deploy
