"""CMA routes for releases and release items (catalogue §2.9)."""

from __future__ import annotations

from typing import Any

from stackyard.api.routing import Req, Router
from stackyard.content.publishing import release_items, releases
from stackyard.core.readonly import writable

router = Router()
ONE = "/v3/releases/{uid}"


def _items(r: Req, key: str = "items") -> Any:
    body = r.json() if r.body.strip() else {}
    return body.get(key)


@router.get("/v3/releases")
def find(r: Req) -> Any:
    skip, limit = r.page()
    with r.db.read() as tx:
        items, count = releases.find(tx, r.access(tx), skip, limit)
    out: dict[str, Any] = {"releases": items}
    if r.flag("include_count"):
        out["count"] = count
    return out


@router.get(ONE)
def fetch(r: Req) -> Any:
    with r.db.read() as tx:
        return {"release": releases.fetch(tx, r.access(tx), r.path["uid"])}


@router.post("/v3/releases")
def create(r: Req) -> Any:
    data = r.envelope("release")
    with r.db.write() as tx:
        release = releases.create(tx, r.access(tx), data)
    return 201, {"notice": "Release created successfully.", "release": release}


@router.put(ONE)
def update(r: Req) -> Any:
    data = writable("release", r.envelope("release"))
    with r.db.write() as tx:
        release = releases.update(tx, r.access(tx), r.path["uid"], data)
    return {"notice": "Release updated successfully.", "release": release}


@router.delete(ONE)
def delete(r: Req) -> Any:
    with r.db.write() as tx:
        releases.delete(tx, r.access(tx), r.path["uid"])
    return {"notice": "Release deleted successfully."}


@router.post(ONE + "/clone")
def clone(r: Req) -> Any:
    data = r.envelope("release")
    with r.db.write() as tx:
        release = releases.clone(tx, r.access(tx), r.path["uid"], data)
    return 201, {"notice": "Release cloned successfully.", "release": release}


@router.post(ONE + "/deploy")
def deploy(r: Req) -> Any:
    data = r.envelope("release")
    with r.db.write() as tx:
        releases.deploy(tx, r.access(tx), r.path["uid"], data)
    return {"notice": "Release sent successfully for deployment."}


@router.get(ONE + "/items")
def items(r: Req) -> Any:
    with r.db.read() as tx:
        release = releases.fetch(tx, r.access(tx), r.path["uid"])
    return {"items": release["items"], "count": len(release["items"])}


@router.post(ONE + "/item")
def add_item(r: Req) -> Any:
    item = r.envelope("item")
    with r.db.write() as tx:
        release = release_items.add_items(tx, r.access(tx), r.path["uid"], [item])
    return 201, {"notice": "Item added to release successfully.", "release": release}


@router.post(ONE + "/items")
def add_items(r: Req) -> Any:
    listed = _items(r)
    with r.db.write() as tx:
        release = release_items.add_items(tx, r.access(tx), r.path["uid"], listed)
    return 201, {"notice": "Item(s) send to add to release successfully.", "release": release}


@router.put(ONE + "/update_items")
def update_items(r: Req) -> Any:
    listed = _items(r)
    with r.db.write() as tx:
        release = release_items.update_items(tx, r.access(tx), r.path["uid"], listed)
    return {"notice": "Release items updated to their latest versions successfully.", "release": release}


@router.delete(ONE + "/items")
def remove_items(r: Req) -> Any:
    listed = _items(r)
    with r.db.write() as tx:
        release = release_items.remove_items(
            tx, r.access(tx), r.path["uid"], listed, everything=r.flag("all")
        )
    return {"notice": "Item(s) send to remove from release successfully.", "release": release}


@router.post(ONE + "/items/move")
def move_items(r: Req) -> Any:
    body = r.json()
    with r.db.write() as tx:
        release_items.move_items(
            tx, r.access(tx), r.path["uid"], body.get("release_uid"), body.get("item", body.get("items"))
        )
    return {"notice": "Item(s) moved to the release successfully."}
