"""CMA routes for environments (catalogue §2.8); paths name an environment by its name."""

from __future__ import annotations

from typing import Any

from stackyard.api.routing import Req, Router
from stackyard.content.publishing import snapshots
from stackyard.core.readonly import writable
from stackyard.stacks import environments

router = Router()


@router.get("/v3/environments")
def find(r: Req) -> Any:
    skip, limit = r.page()
    with r.db.read() as tx:
        items, count = environments.find(tx, r.access(tx), skip, limit, count=r.flag("include_count"))
    out: dict[str, Any] = {"environments": items}
    if r.flag("include_count"):
        out["count"] = count
    return out


@router.get("/v3/environments/{name}")
def fetch(r: Req) -> Any:
    with r.db.read() as tx:
        return {"environment": environments.fetch(tx, r.access(tx), r.path["name"])}


@router.post("/v3/environments")
def create(r: Req) -> Any:
    data = r.envelope("environment")
    with r.db.write() as tx:
        env = environments.create(tx, r.access(tx), data)
    return 201, {"notice": "Environment created successfully.", "environment": env}


@router.put("/v3/environments/{name}")
def update(r: Req) -> Any:
    data = writable("environment", r.envelope("environment"))
    with r.db.write() as tx:
        env = environments.update(tx, r.access(tx), r.path["name"], data)
    return {"notice": "Environment updated successfully.", "environment": env}


@router.delete("/v3/environments/{name}")
def delete(r: Req) -> Any:
    with r.db.write() as tx:
        access = r.access(tx)
        env_uid = environments.delete(tx, access, r.path["name"])
        # What was published there goes with it (unpublish events, so delivery and caches follow).
        snapshots.withdraw(tx, access, environment=env_uid)
    return {"notice": "Environment deleted successfully."}
