"""Publishing assets: snapshots in `published` (kind 'asset', content_type_uid ''), with
`asset.publish` / `asset.unpublish` events, in the shape the generic publishing machinery uses.

    publishing.publish(tx, access, uid, {"environments": ["production"], "locales": ["en-us"]}, version=2)
    publishing.unpublish(tx, access, uid, {"environments": ["production"]})

Assets are not localized: the snapshot is written for each locale asked (the master locale when none
is), so delivery in any published locale finds it. The document is the delivery shape of that
version (`publish_details` is filled in per request by delivery).
"""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import require
from stackyard.content.assets.records import render, row
from stackyard.core import spine
from stackyard.errors import invalid
from stackyard.ids import now
from stackyard.stacks import locales as stack_locales
from stackyard.store.engine import Row, Tx, jdump, jload

KIND = "asset"


def _environments(tx: Tx, access: StackAccess, names: Any) -> list[Row]:
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise invalid({"environments": ["must be a list of environment names."]})
    found = []
    for name in dict.fromkeys(names):
        env = tx.one(
            "SELECT uid, name FROM environments WHERE api_key = ? AND (name = ? OR uid = ?)",
            access.api_key,
            name,
            name,
        )
        if env is None:
            raise invalid({"environments": [f"'{name}' is not an environment of this stack."]})
        found.append(env)
    return found


def _locales(tx: Tx, access: StackAccess, codes: Any) -> list[str]:
    if codes is None or codes == []:
        return [str(access.stack["master_locale"])]
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise invalid({"locales": ["must be a list of locale codes."]})
    out = []
    for code in dict.fromkeys(c.lower() for c in codes):
        if not stack_locales.exists(tx, access.api_key, code, access.branch):
            raise invalid({"locales": [f"'{code}' is not a language of this stack."]})
        out.append(code)
    return out


def publish(
    tx: Tx,
    access: StackAccess,
    asset_uid: str,
    data: dict[str, Any],
    version: int | None = None,
    base: str = "",
) -> int:
    """Publish the asset (its latest version, or `version`); answers the snapshots written."""
    current = row(tx, access, asset_uid)
    require(access, "asset", "publish", asset_uid)
    envs = _environments(tx, access, data.get("environments"))
    codes = _locales(tx, access, data.get("locales"))
    source = current
    if version is not None and version != current["version"]:
        v = tx.one(
            "SELECT * FROM asset_versions WHERE api_key = ? AND branch = ? AND uid = ? AND version = ?",
            access.api_key,
            access.branch,
            asset_uid,
            version,
        )
        if v is None:
            raise invalid({"version": [f"{version} is not a version of this asset."]})
        source = {**current, **v, "updated_at": v["created_at"], "updated_by": v["created_by"]}
    document = render(source, base)
    document.pop("publish_details", None)
    t, actor = now(), access.caller.actor
    for env in envs:
        for code in codes:
            tx.run(
                "INSERT INTO published (api_key, branch, environment, locale, kind, uid, content_type_uid, "
                "source_locale, version, document, published_at, published_by) "
                "VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?) "
                "ON CONFLICT (api_key, branch, environment, kind, uid, locale) DO UPDATE SET "
                "source_locale = excluded.source_locale, version = excluded.version, "
                "document = excluded.document, published_at = excluded.published_at, "
                "published_by = excluded.published_by",
                access.api_key,
                access.branch,
                env["uid"],
                code,
                KIND,
                asset_uid,
                code,
                int(source["version"]),
                jdump(document),
                t,
                actor,
            )
            spine.record(
                tx,
                access,
                "asset.publish",
                asset_uid,
                {"title": source["title"], "source_locale": code},
                locale=code,
                environment=env["uid"],
                version=int(source["version"]),
            )
    return len(envs) * len(codes)


def unpublish(tx: Tx, access: StackAccess, asset_uid: str, data: dict[str, Any]) -> int:
    row(tx, access, asset_uid)
    require(access, "asset", "publish", asset_uid)
    envs = _environments(tx, access, data.get("environments"))
    codes = data.get("locales")
    removed = 0
    for env in envs:
        removed += withdraw(
            tx,
            access,
            asset_uid,
            environment=env["uid"],
            locales=_locales(tx, access, codes) if codes else None,
        )
    return removed


def withdraw(
    tx: Tx,
    access: StackAccess,
    asset_uid: str,
    *,
    environment: str | None = None,
    locales: list[str] | None = None,
) -> int:
    """Remove snapshots of the asset (all, or of one environment / some locales), with their events."""
    where = "api_key = ? AND branch = ? AND kind = ? AND uid = ?"
    params: list[Any] = [access.api_key, access.branch, KIND, asset_uid]
    if environment is not None:
        where += " AND environment = ?"
        params.append(environment)
    if locales is not None:
        where += f" AND locale IN ({', '.join('?' * len(locales))})"
        params += locales
    rows = tx.all(f"SELECT environment, locale, version, document FROM published WHERE {where}", *params)
    if not rows:
        return 0
    tx.run(f"DELETE FROM published WHERE {where}", *params)
    for r in rows:
        spine.record(
            tx,
            access,
            "asset.unpublish",
            asset_uid,
            {"title": _title(r["document"])},
            locale=r["locale"],
            environment=r["environment"],
            version=int(r["version"]),
        )
    return len(rows)


def _title(document: Any) -> str | None:
    doc = jload(document)
    title = doc.get("title") if isinstance(doc, dict) else None
    return title if isinstance(title, str) else None


def details(tx: Tx, api_key: str, branch: str, uids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """uid -> the CMA's `publish_details`: every (environment, locale, version, time, user)."""
    out: dict[str, list[dict[str, Any]]] = {}
    if not uids:
        return out
    marks = ", ".join("?" * len(uids))
    for r in tx.all(
        "SELECT uid, environment, locale, version, published_at, published_by FROM published "
        f"WHERE api_key = ? AND branch = ? AND kind = ? AND uid IN ({marks}) ORDER BY environment, locale",
        api_key,
        branch,
        KIND,
        *uids,
    ):
        out.setdefault(r["uid"], []).append(
            {
                "environment": r["environment"],
                "locale": r["locale"],
                "time": r["published_at"],
                "user": r["published_by"],
                "version": r["version"],
            }
        )
    return out
