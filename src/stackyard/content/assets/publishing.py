"""Publishing assets through the publishing machinery (`content.publishing`): an `Action` of kind
'asset', applied now or scheduled, recorded in the publish queue, and reachable from bulk jobs.

    act, when = actions.parse(tx, access, body, action="publish", kind="asset", uid=uid, content_type_uid="")
    publishing.request(tx, access, act, when)

Releases deploy their asset items with `perform` too. Publishing writes one snapshot per (environment, locale) with `snapshots.put` (and so the
`asset.publish` event); assets are not localized, so each locale asked gets the same version
(`source_locale` is that locale). The snapshot's document is the delivery shape of that version,
with `publish_details` for its environment and locale, and its `url` under the `public_url` setting
(a bare path, `/v3/assets/...`, without one: the CDA asset routes put the host the client reached in
front; sync items keep the path). Unpublishing is `snapshots.withdraw`.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.content.assets import acl
from stackyard.content.assets.records import render, row
from stackyard.content.assets.storage import settings_for
from stackyard.content.publishing import bulk, queue, releases, snapshots
from stackyard.content.publishing.actions import PUBLISH, Action
from stackyard.errors import invalid
from stackyard.ids import now
from stackyard.store.engine import Row, Tx, jload

KIND = snapshots.ASSET


def request(
    tx: Tx, access: StackAccess, act: Action, when: datetime | None, *, bulk_job: str | None = None
) -> str:
    """Publish or unpublish now (when `when` is None or past), or schedule it; answers the queue item."""
    current = row(tx, access, act.uid)
    acl.require(tx, access, "publish", current)
    due = when if when is not None and when.timestamp() > time.time() else None
    if due is None:
        perform(tx, access, act)
    return queue.add(
        tx,
        access,
        type=KIND,
        action=act.action,
        item_uid=act.uid,
        payload=act.payload(),
        title=current["title"],
        locale=act.locale,
        version=act.version,
        environments=act.environments,
        locales=act.locales,
        when=due,
        bulk_job=bulk_job,
    )


def _version(tx: Tx, access: StackAccess, current: Row, version: int | None) -> Row:
    if version is None or version == current["version"]:
        return current
    v = tx.one(
        "SELECT * FROM asset_versions WHERE api_key = ? AND branch = ? AND uid = ? AND version = ?",
        access.api_key,
        access.branch,
        current["uid"],
        version,
    )
    if v is None:
        raise invalid({"version": [f"{version} is not a version of this asset."]})
    return {**current, **v, "updated_at": v["created_at"], "updated_by": v["created_by"]}


def perform(tx: Tx, access: StackAccess, act: Action) -> list[tuple[str, str]]:
    """Apply the action; answers the (asset uid, locale) pairs published or unpublished."""
    current = row(tx, access, act.uid)
    acl.require(tx, access, "publish", current)
    done: list[tuple[str, str]] = []
    if act.action != PUBLISH:
        for env in act.environments:
            rows = snapshots.withdraw(
                tx, access, kind=KIND, uid=act.uid, environment=env, locales=act.locales
            )
            done += [(r["uid"], r["locale"]) for r in rows]
        return done
    source = _version(tx, access, current, act.version)
    settings = settings_for(tx.db)
    doc = render(source, str(settings.public_url).rstrip("/") if settings is not None else "")
    doc.pop("publish_details", None)
    stamp, user = now(), access.caller.actor
    for code in act.locales:
        for env in act.environments:
            document = {
                **doc,
                "publish_details": {"environment": env, "locale": code, "time": stamp, "user": user},
            }
            snapshots.put(
                tx,
                access,
                snapshots.Snapshot(
                    kind=KIND,
                    uid=act.uid,
                    content_type_uid="",
                    environment=env,
                    locale=code,
                    source_locale=code,
                    version=int(source["version"]),
                    title=str(source["title"]),
                    document=document,
                    published_at=stamp,
                    published_by=user,
                ),
            )
        done.append((act.uid, code))
    return done


def withdraw_all(tx: Tx, access: StackAccess, asset_uid: str) -> None:
    """Unpublish the asset everywhere (it is being deleted)."""
    snapshots.withdraw(tx, access, kind=KIND, uid=asset_uid)


def details(tx: Tx, api_key: str, branch: str, uids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """uid -> the CMA's `publish_details`: every (environment, locale, version, time, user)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for (uid, _), items in snapshots.details(tx, api_key, branch, KIND, uids).items():
        out.setdefault(uid, []).extend(items)
    return out


def _run_queued(tx: Tx, access: StackAccess, item: Row) -> dict[str, Any]:
    act = Action.from_payload(jload(item["details"])["request"])
    done = perform(tx, access, act)
    return {"applied": [{"uid": u, "locale": c} for u, c in done]}


def _bulk(operation: str) -> bulk.Apply:
    def apply(tx: Tx, access: StackAccess, item: dict[str, Any], req: dict[str, Any]) -> None:
        locale = (item.get("locale") or str(access.stack["master_locale"])).lower()
        act = Action(
            action=operation,
            kind=KIND,
            uid=item["uid"],
            content_type_uid="",
            environments=tuple(req["environments"]),
            locales=tuple(req["locales"] or [locale]),
            locale=locale,
            version=item.get("version"),
        )
        request(tx, access, act, None)

    return apply


queue.runners[KIND] = _run_queued
releases.performers[KIND] = perform
bulk.appliers["asset.publish"] = _bulk("publish")
bulk.appliers["asset.unpublish"] = _bulk("unpublish")
