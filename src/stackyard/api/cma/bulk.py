"""CMA routes for bulk operations (catalogue §2.7): accepted at once, run as jobs, polled by job id."""

from __future__ import annotations

from typing import Any

from stackyard.api.routing import Req, Router
from stackyard.content.publishing import bulk
from stackyard.errors import UnprocessableEntity

router = Router()


def _accept(r: Req, operation: str) -> Any:
    body = r.json()
    key = r.headers.get("idempotency-key") or r.headers.get("idempotency_key")
    with r.db.write() as tx:
        job = bulk.accept(
            tx,
            r.access(tx),
            operation,
            body,
            key,
            chunk=r.settings.bulk_chunk_items,
            max_items=r.settings.bulk_max_items,
        )
    return {"notice": bulk.OPERATIONS[operation], "job_id": job}


@router.post("/v3/bulk/publish")
def publish(r: Req) -> Any:
    return _accept(r, "publish")


@router.post("/v3/bulk/unpublish")
def unpublish(r: Req) -> Any:
    return _accept(r, "unpublish")


@router.post("/v3/bulk/delete")
def delete(r: Req) -> Any:
    return _accept(r, "delete")


@router.post("/v3/bulk/workflow")
def workflow(r: Req) -> Any:
    raise UnprocessableEntity(
        "Workflows are not supported by this server yet, so there is no workflow stage to set in bulk.",
        errors={"workflow": ["workflows are not available on this server."]},
    )


@router.post("/v3/bulk/release/items")
def release_items(r: Req) -> Any:
    return _accept(r, "release_add")


@router.put("/v3/bulk/release/update_items")
def release_update_items(r: Req) -> Any:
    return _accept(r, "release_update")


@router.get("/v3/bulk/jobs/{job}")
def job_status(r: Req) -> Any:
    skip, limit = r.page()
    with r.db.read() as tx:
        return bulk.status(tx, r.access(tx), r.path["job"], skip, limit)
