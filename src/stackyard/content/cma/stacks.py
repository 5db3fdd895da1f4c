"""CMA routes for stacks (catalogue §2.2). The stack is named by the `api_key` header, never the path."""

from __future__ import annotations

from typing import Any

from stackyard.content import stacks
from stackyard.server.routing import Req, Router

router = Router()


@router.get("/v3/stacks")
def fetch_or_list(r: Req) -> Any:
    """With an api_key header: that stack. Without: every stack the user can open."""
    with r.db.read() as tx:
        if r.headers.get("api_key"):
            return {"stack": stacks.fetch(tx, r.access(tx))}
        return {"stacks": stacks.find(tx, r.user(tx))}


@router.post("/v3/stacks")
def create(r: Req) -> Any:
    data = r.envelope("stack")
    with r.db.write() as tx:
        r.user(tx)
        api_key = stacks.create(tx, r.caller(tx), data, r.headers.get("organization_uid"))
        return 201, {
            "notice": "Stack created successfully.",
            "stack": stacks.render(tx, stacks.row(tx, api_key)),
        }


@router.put("/v3/stacks")
def update(r: Req) -> Any:
    data = r.envelope("stack")
    with r.db.write() as tx:
        access = r.access(tx)
        stacks.update(tx, access, data)
        return {
            "notice": "Stack updated successfully.",
            "stack": stacks.render(tx, stacks.row(tx, access.api_key)),
        }


@router.delete("/v3/stacks")
def delete(r: Req) -> Any:
    with r.db.write() as tx:
        stacks.delete(tx, r.access(tx))
    return {"notice": "Stack deleted successfully!"}
