"""CMA routes for content types (catalogue §2.3)."""

from __future__ import annotations

from typing import Any

from stackyard.api.body import Part
from stackyard.api.routing import Req, Router
from stackyard.content.model import content_types
from stackyard.core import json_input
from stackyard.core.readonly import writable
from stackyard.errors import BadRequest, invalid

router = Router()


@router.get("/v3/content_types")
def find(r: Req) -> Any:
    skip, limit = r.page()
    with r.db.read() as tx:
        items, count = content_types.find(
            tx,
            r.access(tx),
            skip,
            limit,
            inline=r.flag("include_global_field_schema"),
            include_branch=r.flag("include_branch"),
            count=r.flag("include_count"),
        )
    out: dict[str, Any] = {"content_types": items}
    if r.flag("include_count"):
        out["count"] = count
    return out


@router.get("/v3/content_types/{uid}")
def fetch(r: Req) -> Any:
    with r.db.read() as tx:
        ct = content_types.fetch(
            tx,
            r.access(tx),
            r.path["uid"],
            inline=r.flag("include_global_field_schema"),
            include_branch=r.flag("include_branch"),
        )
    return {"content_type": ct}


@router.post("/v3/content_types")
def create(r: Req) -> Any:
    data = r.envelope("content_type")
    with r.db.read() as tx:
        ahead = content_types.check(tx, r.access(tx), data)
    with r.db.write() as tx:
        ct = content_types.create(tx, r.access(tx), data, ahead)
    return 201, {"notice": "Content Type created successfully.", "content_type": ct}


@router.put("/v3/content_types/{uid}")
def update(r: Req) -> Any:
    data = writable("content_type", r.envelope("content_type"))
    with r.db.read() as tx:
        ahead = content_types.check(tx, r.access(tx), data, r.path["uid"])
    with r.db.write() as tx:
        ct = content_types.update(tx, r.access(tx), r.path["uid"], data, ahead)
    return {"notice": "Content Type updated successfully.", "content_type": ct}


@router.delete("/v3/content_types/{uid}")
def delete(r: Req) -> Any:
    with r.db.write() as tx:
        content_types.delete(tx, r.access(tx), r.path["uid"], force=r.flag("force"))
    return {"notice": "Content Type deleted successfully."}


@router.get("/v3/content_types/{uid}/references")
def references(r: Req) -> Any:
    with r.db.read() as tx:
        return {"references": content_types.references(tx, r.access(tx), r.path["uid"])}


@router.get("/v3/content_types/{uid}/export")
def export(r: Req) -> Any:
    with r.db.read() as tx:
        return content_types.export(tx, r.access(tx), r.path["uid"])


def uploaded_json(parts: list[Part], field: str) -> Any:
    """The JSON document uploaded in multipart field `field` (an exported object)."""
    part = next((p for p in parts if p.name == field), None)
    if part is None:
        raise invalid({field: ["is required: a multipart file field holding the exported JSON."]})
    try:
        return json_input.loads(part.data)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadRequest(
            f"The uploaded {field} is not valid JSON.", error_code=101, errors={field: [str(e)]}
        ) from e


@router.post("/v3/content_types/import")
def import_(r: Req) -> Any:
    data = uploaded_json(r.parts(), "content_type")
    with r.db.write() as tx:
        ct = content_types.import_(tx, r.access(tx), data, overwrite=r.flag("overwrite"))
    return {"notice": "Content Type imported successfully.", "content_type": ct}
