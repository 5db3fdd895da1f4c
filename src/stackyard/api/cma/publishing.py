"""CMA routes for publishing entries (catalogue §2.4) and the publish queue (§2.9)."""

from __future__ import annotations

from typing import Any

from stackyard.api.routing import Req, Router
from stackyard.content.publishing import entries as entry_publishing
from stackyard.content.publishing import queue
from stackyard.content.publishing.actions import PUBLISH, UNPUBLISH, parse

router = Router()
ONE = "/v3/content_types/{ct}/entries/{uid}"
PERFORMED = "The requested action has been performed."


def _entry_action(r: Req, action: str) -> Any:
    body = r.json() if r.body.strip() else {}
    # `api_version: 3.2` asks for nested reference publishing (catalogue §2.4).
    with_refs = (r.headers.get("api_version") or "").strip() == "3.2"
    with r.db.write() as tx:
        access = r.access(tx)
        act, when = parse(
            tx,
            access,
            body,
            action=action,
            kind="entry",
            uid=r.path["uid"],
            content_type_uid=r.path["ct"],
            with_references=with_refs,
            all_localized=r.flag("publish_all_localized"),
        )
        entry_publishing.request(tx, access, act, when)
    return {"notice": PERFORMED}


@router.post(ONE + "/publish")
def publish(r: Req) -> Any:
    return _entry_action(r, PUBLISH)


@router.post(ONE + "/unpublish")
def unpublish(r: Req) -> Any:
    return _entry_action(r, UNPUBLISH)


@router.get("/v3/publish-queue")
def find_queue(r: Req) -> Any:
    skip, limit = r.page()
    with r.db.read() as tx:
        items, count = queue.find(
            tx, r.access(tx), r.json_param("query"), skip, limit, ascending=bool(r.param("asc"))
        )
    out: dict[str, Any] = {"queue": items}
    if r.flag("include_count"):
        out["count"] = count
    return out


@router.get("/v3/publish-queue/{uid}")
def fetch_queue(r: Req) -> Any:
    with r.db.read() as tx:
        return {"entry": queue.fetch(tx, r.access(tx), r.path["uid"])}


@router.get("/v3/publish-queue/{uid}/unschedule")
def unschedule(r: Req) -> Any:
    with r.db.write() as tx:
        queue.unschedule(tx, r.access(tx), r.path["uid"])
    return {"notice": "Release unscheduled successfully."}
