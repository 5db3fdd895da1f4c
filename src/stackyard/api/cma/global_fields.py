"""CMA routes for global fields (catalogue §2.3)."""

from __future__ import annotations

from typing import Any

from stackyard.api.cma.content_types import uploaded_json
from stackyard.api.routing import Req, Router
from stackyard.content.model import global_fields
from stackyard.core.readonly import writable

router = Router()


@router.get("/v3/global_fields")
def find(r: Req) -> Any:
    skip, limit = r.page()
    with r.db.read() as tx:
        items, count = global_fields.find(
            tx,
            r.access(tx),
            skip,
            limit,
            include_branch=r.flag("include_branch"),
            count=r.flag("include_count"),
        )
    out: dict[str, Any] = {"global_fields": items}
    if r.flag("include_count"):
        out["count"] = count
    return out


@router.get("/v3/global_fields/{uid}")
def fetch(r: Req) -> Any:
    with r.db.read() as tx:
        gf = global_fields.fetch(tx, r.access(tx), r.path["uid"], include_branch=r.flag("include_branch"))
    return {"global_field": gf}


@router.post("/v3/global_fields")
def create(r: Req) -> Any:
    data = r.envelope("global_field")
    with r.db.read() as tx:
        ahead = global_fields.check(tx, r.access(tx), data)
    with r.db.write() as tx:
        gf = global_fields.create(tx, r.access(tx), data, ahead)
    return 201, {"notice": "Global Field created successfully.", "global_field": gf}


@router.put("/v3/global_fields/{uid}")
def update(r: Req) -> Any:
    data = writable("global_field", r.envelope("global_field"))
    with r.db.read() as tx:
        ahead = global_fields.check(tx, r.access(tx), data, r.path["uid"])
    with r.db.write() as tx:
        gf = global_fields.update(tx, r.access(tx), r.path["uid"], data, ahead)
    return {"notice": "Global Field updated successfully.", "global_field": gf}


@router.delete("/v3/global_fields/{uid}")
def delete(r: Req) -> Any:
    with r.db.write() as tx:
        global_fields.delete(tx, r.access(tx), r.path["uid"])
    return {"notice": "Global Field deleted successfully."}


@router.get("/v3/global_fields/{uid}/export")
def export(r: Req) -> Any:
    with r.db.read() as tx:
        return global_fields.export(tx, r.access(tx), r.path["uid"])


@router.post("/v3/global_fields/import")
def import_(r: Req) -> Any:
    data = uploaded_json(r.parts(), "global_field")
    with r.db.write() as tx:
        gf = global_fields.import_(tx, r.access(tx), data, overwrite=r.flag("overwrite"))
    return 201, {"notice": "Global Field imported successfully.", "global_field": gf}
