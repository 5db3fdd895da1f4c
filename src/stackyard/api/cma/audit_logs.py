"""CMA routes for the stack's audit log (catalogue §2.6)."""

from __future__ import annotations

from typing import Any

from stackyard.access.policy import require
from stackyard.api.routing import Req, Router
from stackyard.core import audit

router = Router()


@router.get("/v3/audit-logs")
def find(r: Req) -> Any:
    skip, limit = r.page()
    with r.db.read() as tx:
        access = r.access(tx)
        require(access, "audit_log", "read")
        logs, count = audit.find(
            tx, api_key=access.api_key, skip=skip, limit=limit, count=r.flag("include_count")
        )
    out: dict[str, Any] = {"logs": logs}
    if r.flag("include_count"):
        out["count"] = count
    return out


@router.get("/v3/audit-logs/{uid}")
def fetch(r: Req) -> Any:
    with r.db.read() as tx:
        access = r.access(tx)
        require(access, "audit_log", "read")
        return {"log": audit.fetch(tx, access.api_key, r.path["uid"])}
