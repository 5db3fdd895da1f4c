"""CMA routes for stack roles (catalogue §2.10): envelope `role` / `roles`."""

from __future__ import annotations

from typing import Any

from stackyard.api.routing import Req, Router
from stackyard.core.readonly import writable
from stackyard.stacks import roles

router = Router()


@router.get("/v3/roles")
def find(r: Req) -> Any:
    with r.db.read() as tx:
        items = roles.find(tx, r.access(tx))
    out: dict[str, Any] = {"roles": items}
    if r.flag("include_count"):
        out["count"] = len(items)
    return out


@router.get("/v3/roles/{uid}")
def fetch(r: Req) -> Any:
    with r.db.read() as tx:
        return {"role": roles.fetch(tx, r.access(tx), r.path["uid"])}


@router.post("/v3/roles")
def create(r: Req) -> Any:
    data = r.envelope("role")
    with r.db.write() as tx:
        role = roles.create(tx, r.access(tx), data)
    return 201, {"notice": "The role created successfully.", "role": role}


@router.put("/v3/roles/{uid}")
def update(r: Req) -> Any:
    data = writable("role", r.envelope("role"))
    with r.db.write() as tx:
        role = roles.update(tx, r.access(tx), r.path["uid"], data)
    return {"notice": "The role updated successfully.", "role": role}


@router.delete("/v3/roles/{uid}")
def delete(r: Req) -> Any:
    with r.db.write() as tx:
        roles.delete(tx, r.access(tx), r.path["uid"], force=r.flag("force"))
    return {"notice": "The role deleted successfully."}
