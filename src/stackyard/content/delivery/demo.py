"""Demo step: publish the demo's authors and articles to production, in en-us and fr-fr, so the
demo content is readable through the delivery API (and the delivery SDKs) right away.

Runs after the entries step; safe to run again: republishing writes the same snapshots.
"""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.content.publishing import entries as publishing
from stackyard.content.publishing.actions import PUBLISH, parse
from stackyard.store.engine import Tx


def demo_publish(tx: Tx, access: StackAccess) -> dict[str, Any]:
    rows = tx.all(
        "SELECT DISTINCT uid, content_type_uid FROM entries WHERE api_key = ? AND branch = ? "
        "AND content_type_uid IN ('author', 'article') ORDER BY content_type_uid DESC, uid",
        access.api_key,
        access.branch,
    )
    body = {"entry": {"environments": ["production"], "locales": ["en-us", "fr-fr"]}, "locale": "en-us"}
    for r in rows:
        act, when = parse(
            tx,
            access,
            body,
            action=PUBLISH,
            kind="entry",
            uid=r["uid"],
            content_type_uid=r["content_type_uid"],
            with_references=False,
            all_localized=False,
        )
        publishing.request(tx, access, act, when)
    return {"published": len(rows)} if rows else {}
