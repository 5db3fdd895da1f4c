"""Demo step: publish the demo stack's entries to each of its environments, in every language."""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.content.publishing import entries as publishing
from stackyard.content.publishing.actions import PUBLISH, Action
from stackyard.store.engine import Tx


def demo_publish(tx: Tx, access: StackAccess) -> dict[str, Any]:
    """Every entry (its master copy, and the fallback where it is not localized) to every environment."""
    key, branch = access.api_key, access.branch
    if tx.one("SELECT 1 AS x FROM published WHERE api_key = ? AND branch = ?", key, branch):
        return {}
    envs = tuple(
        r["uid"] for r in tx.all("SELECT uid FROM environments WHERE api_key = ? ORDER BY name", key)
    )
    codes = tuple(
        r["code"]
        for r in tx.all(
            "SELECT code FROM locales WHERE api_key = ? AND branch = ? ORDER BY code", key, branch
        )
    )
    if not envs or not codes:
        return {}
    master = str(access.stack["master_locale"])
    rows = tx.all(
        "SELECT DISTINCT uid, content_type_uid FROM entries WHERE api_key = ? AND branch = ? ORDER BY content_type_uid, uid",
        key,
        branch,
    )
    for r in rows:
        act = Action(
            action=PUBLISH,
            kind="entry",
            uid=r["uid"],
            content_type_uid=r["content_type_uid"],
            environments=envs,
            locales=codes,
            locale=master,
        )
        publishing.request(tx, access, act, None)
    return {"published": {"entries": len(rows), "environments": len(envs), "locales": list(codes)}}
