"""Release items (catalogue §2.9): what a release will publish or unpublish, per (uid, locale).

A locked release refuses every change here. Items name entries by uid and content type (assets by
the content type uid `built_io_upload`, as Contentstack's releases do), checked when added.
"""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import require
from stackyard.content.publishing import actions, snapshots
from stackyard.content.publishing.releases import ASSET_TYPE, ITEM_ACTIONS, MAX_ITEMS, fetch, row
from stackyard.errors import UnprocessableEntity, invalid
from stackyard.ids import now
from stackyard.store.engine import Row, Tx


def _unlocked(tx: Tx, access: StackAccess, release_uid: str) -> Row:
    r = row(tx, access, release_uid, lock=True)
    if r["locked"]:
        raise UnprocessableEntity(
            "The release is locked: unlock it to change its items.", errors={"release": ["is locked."]}
        )
    return r


def _item(tx: Tx, access: StackAccess, raw: Any, where: str) -> dict[str, Any]:
    """A release item, checked against the stack: the entry exists in that locale (or falls back)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("uid"), str) or not raw["uid"]:
        raise invalid({where: ["must be an object with 'uid', 'content_type_uid', 'locale' and 'action'."]})
    action = raw.get("action", "publish")
    if action not in ITEM_ACTIONS:
        raise invalid({where: [f"'action' must be one of {list(ITEM_ACTIONS)}."]})
    errors: dict[str, list[str]] = {}
    version = actions.version_of(raw.get("version"), errors)
    if errors:
        raise invalid({where: errors["version"]})
    ct = raw.get("content_type_uid") or ASSET_TYPE
    if not isinstance(ct, str):
        raise invalid({where: ["'content_type_uid' must be a string."]})
    locale = actions.locales(tx, access, [str(raw.get("locale") or access.stack["master_locale"])])[0]
    kind = snapshots.ASSET if ct == ASSET_TYPE else snapshots.ENTRY
    title = None
    if kind == snapshots.ENTRY:
        found = tx.one(
            "SELECT title, version FROM entries WHERE api_key = ? AND branch = ? AND uid = ? AND content_type_uid = ? "
            "ORDER BY CASE WHEN locale = ? THEN 0 ELSE 1 END LIMIT 1",
            access.api_key,
            access.branch,
            raw["uid"],
            ct,
            locale,
        )
        if found is None:
            raise invalid({where: [f"there is no entry '{raw['uid']}' of content type '{ct}'."]})
        title = found["title"]
    return {
        "kind": kind,
        "uid": raw["uid"],
        "locale": locale,
        "ct": "" if kind == snapshots.ASSET else ct,
        "version": version,
        "action": action,
        "title": title,
    }


def add_items(tx: Tx, access: StackAccess, release_uid: str, raws: list[Any]) -> dict[str, Any]:
    """Add items (an item already there for that uid and locale is replaced)."""
    require(access, "entry", "publish")
    _unlocked(tx, access, release_uid)
    if not isinstance(raws, list) or not raws or len(raws) > MAX_ITEMS:
        raise invalid({"items": [f"must list 1 to {MAX_ITEMS} items."]})
    items = [_item(tx, access, raw, f"items[{i}]") for i, raw in enumerate(raws)]
    stamp = now()
    for it in items:
        tx.run(
            "DELETE FROM release_items WHERE api_key = ? AND release_uid = ? AND uid = ? AND locale = ?",
            access.api_key,
            release_uid,
            it["uid"],
            it["locale"],
        )
    tx.run_many(
        "INSERT INTO release_items (api_key, release_uid, kind, uid, locale, content_type_uid, version, action, "
        "title, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                access.api_key,
                release_uid,
                it["kind"],
                it["uid"],
                it["locale"],
                it["ct"],
                it["version"],
                it["action"],
                it["title"],
                stamp,
            )
            for it in items
        ],
    )
    _touch(tx, access, release_uid)
    return fetch(tx, access, release_uid)


def remove_items(
    tx: Tx, access: StackAccess, release_uid: str, raws: Any, *, everything: bool = False
) -> dict[str, Any]:
    require(access, "entry", "publish")
    _unlocked(tx, access, release_uid)
    if everything and not raws:
        tx.run("DELETE FROM release_items WHERE api_key = ? AND release_uid = ?", access.api_key, release_uid)
    else:
        if not isinstance(raws, list) or not raws:
            raise invalid({"items": ["must list the items to remove (uid and locale)."]})
        for i, raw in enumerate(raws):
            if not isinstance(raw, dict) or not isinstance(raw.get("uid"), str):
                raise invalid({f"items[{i}]": ["must be an object with 'uid' and 'locale'."]})
            params: list[Any] = [access.api_key, release_uid, raw["uid"]]
            sql = "DELETE FROM release_items WHERE api_key = ? AND release_uid = ? AND uid = ?"
            if isinstance(raw.get("locale"), str):
                sql += " AND locale = ?"
                params.append(raw["locale"].lower())
            tx.run(sql, *params)
    _touch(tx, access, release_uid)
    return fetch(tx, access, release_uid)


def update_items(tx: Tx, access: StackAccess, release_uid: str, raws: Any) -> dict[str, Any]:
    """Set items (`["$all"]`, or a list of {uid, locale}) to their entries' latest versions."""
    require(access, "entry", "publish")
    _unlocked(tx, access, release_uid)
    if not isinstance(raws, list) or not raws:
        raise invalid({"items": ['must be ["$all"] or a list of {"uid", "locale"}.']})
    chosen = (
        None if raws == ["$all"] else {(r.get("uid"), r.get("locale")) for r in raws if isinstance(r, dict)}
    )
    for it in tx.all(
        "SELECT * FROM release_items WHERE api_key = ? AND release_uid = ? AND kind = 'entry'",
        access.api_key,
        release_uid,
    ):
        if chosen is not None and (it["uid"], it["locale"]) not in chosen and (it["uid"], None) not in chosen:
            continue
        latest = tx.one(
            "SELECT version, title FROM entries WHERE api_key = ? AND branch = ? AND uid = ? AND locale = ?",
            access.api_key,
            access.branch,
            it["uid"],
            it["locale"],
        )
        if latest is not None:
            tx.run(
                "UPDATE release_items SET version = ?, title = ? WHERE api_key = ? AND release_uid = ? AND uid = ? "
                "AND locale = ?",
                latest["version"],
                latest["title"],
                access.api_key,
                release_uid,
                it["uid"],
                it["locale"],
            )
    _touch(tx, access, release_uid)
    return fetch(tx, access, release_uid)


def move_items(tx: Tx, access: StackAccess, release_uid: str, target: Any, raws: Any) -> None:
    """Move items ({uid, locale}) to another release of the stack."""
    require(access, "entry", "publish")
    if not isinstance(target, str) or target == release_uid:
        raise invalid({"release_uid": ["must name another release of this stack."]})
    _unlocked(tx, access, release_uid)
    _unlocked(tx, access, target)
    if not isinstance(raws, list) or not raws:
        raise invalid({"item": ["must list the items to move (uid and locale)."]})
    for i, raw in enumerate(raws):
        if not isinstance(raw, dict) or not isinstance(raw.get("uid"), str):
            raise invalid({f"item[{i}]": ["must be an object with 'uid' and 'locale'."]})
        locale = raw.get("locale")
        cond = " AND locale = ?" if isinstance(locale, str) else ""
        extra = [locale.lower()] if isinstance(locale, str) else []
        tx.run(
            f"DELETE FROM release_items WHERE api_key = ? AND release_uid = ? AND uid = ?{cond} AND EXISTS "
            f"(SELECT 1 FROM release_items s WHERE s.api_key = ? AND s.release_uid = ? AND s.uid = ?{cond.replace('locale', 's.locale')})",
            access.api_key,
            target,
            raw["uid"],
            *extra,
            access.api_key,
            release_uid,
            raw["uid"],
            *extra,
        )
        tx.run(
            f"UPDATE release_items SET release_uid = ? WHERE api_key = ? AND release_uid = ? AND uid = ?{cond}",
            target,
            access.api_key,
            release_uid,
            raw["uid"],
            *extra,
        )
    _touch(tx, access, release_uid)
    _touch(tx, access, target)


def _touch(tx: Tx, access: StackAccess, release_uid: str) -> None:
    tx.run(
        "UPDATE releases SET updated_by = ?, updated_at = ? WHERE api_key = ? AND uid = ?",
        access.caller.actor,
        now(),
        access.api_key,
        release_uid,
    )
