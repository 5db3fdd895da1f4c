"""CMA routes for metadata (catalogue §2.8). The envelope is `metadata` for a list and for one object."""

from __future__ import annotations

from typing import Any

from stackyard.api.routing import Req, Router
from stackyard.content.model import metadata
from stackyard.core.readonly import writable

router = Router()


@router.get("/v3/metadata")
def find(r: Req) -> Any:
    skip, limit = r.page()
    with r.db.read() as tx:
        items, count = metadata.find(tx, r.access(tx), skip, limit, count=r.flag("include_count"))
    out: dict[str, Any] = {"metadata": items}
    if r.flag("include_count"):
        out["count"] = count
    return out


@router.get("/v3/metadata/{uid}")
def fetch(r: Req) -> Any:
    with r.db.read() as tx:
        return {"metadata": metadata.fetch(tx, r.access(tx), r.path["uid"])}


@router.post("/v3/metadata")
def create(r: Req) -> Any:
    data = r.envelope("metadata")
    with r.db.write() as tx:
        meta = metadata.create(tx, r.access(tx), data)
    return 201, {"notice": "Metadata created successfully.", "metadata": meta}


@router.put("/v3/metadata/{uid}")
def update(r: Req) -> Any:
    data = writable("metadata", r.envelope("metadata"))
    with r.db.write() as tx:
        meta = metadata.update(tx, r.access(tx), r.path["uid"], data)
    return {"notice": "Metadata updated successfully.", "metadata": meta}


@router.delete("/v3/metadata/{uid}")
def delete(r: Req) -> Any:
    with r.db.write() as tx:
        metadata.delete(tx, r.access(tx), r.path["uid"])
    return {"notice": "Metadata deleted successfully."}


@router.post("/v3/metadata/{uid}/publish")
def publish(r: Req) -> Any:
    data = r.envelope("metadata")
    with r.db.write() as tx:
        metadata.publish(tx, r.access(tx), r.path["uid"], data, unpublish=False)
    return {"notice": "Metadata sent for publishing."}


@router.post("/v3/metadata/{uid}/unpublish")
def unpublish(r: Req) -> Any:
    data = r.envelope("metadata")
    with r.db.write() as tx:
        metadata.publish(tx, r.access(tx), r.path["uid"], data, unpublish=True)
    return {"notice": "Metadata sent for unpublishing."}
