"""CMA routes for labels (catalogue §2.8)."""

from __future__ import annotations

from typing import Any

from stackyard.api.routing import Req, Router
from stackyard.content.model import labels
from stackyard.core.readonly import writable

router = Router()


@router.get("/v3/labels")
def find(r: Req) -> Any:
    skip, limit = r.page()
    with r.db.read() as tx:
        items, count = labels.find(tx, r.access(tx), skip, limit, count=r.flag("include_count"))
    out: dict[str, Any] = {"labels": items}
    if r.flag("include_count"):
        out["count"] = count
    return out


@router.get("/v3/labels/{uid}")
def fetch(r: Req) -> Any:
    with r.db.read() as tx:
        return {"label": labels.fetch(tx, r.access(tx), r.path["uid"])}


@router.post("/v3/labels")
def create(r: Req) -> Any:
    data = r.envelope("label")
    with r.db.write() as tx:
        label = labels.create(tx, r.access(tx), data)
    return 201, {"notice": "Label created successfully.", "label": label}


@router.put("/v3/labels/{uid}")
def update(r: Req) -> Any:
    data = writable("label", r.envelope("label"))
    with r.db.write() as tx:
        label = labels.update(tx, r.access(tx), r.path["uid"], data)
    return {"notice": "Label updated successfully.", "label": label}


@router.delete("/v3/labels/{uid}")
def delete(r: Req) -> Any:
    with r.db.write() as tx:
        labels.delete(tx, r.access(tx), r.path["uid"])
    return {"notice": "Label deleted successfully."}
