"""Stacks (`/stack/v1/stacks`) and the billing calls pystackpath makes on them (`/billing/v1`)."""

from __future__ import annotations

from typing import Any

from stackyard.api.routing import Req, Router
from stackyard.api.stackpath._auth import edge_caller
from stackyard.edge import paging, stacks

router = Router(api="stackpath")


@router.get("/stack/v1/stacks")
def find(r: Req) -> Any:
    with r.db.read() as tx:
        items = stacks.find(tx, edge_caller(r, tx), r.param("account_id"))
    return paging.page(items, r.query, stacks.FIELDS)


@router.get("/stack/v1/stacks/{stack}")
def fetch(r: Req) -> Any:
    """A bare stack object: the one StackPath answer without an envelope."""
    with r.db.read() as tx:
        return stacks.fetch(tx, edge_caller(r, tx), r.path["stack"])


@router.post("/stack/v1/stacks")
def create(r: Req) -> Any:
    body = r.json()
    with r.db.write() as tx:
        return {"stack": stacks.create(tx, edge_caller(r, tx), body)}


@router.post("/billing/v1/stacks/{stack}/subscriptions")
def subscribe(r: Req) -> Any:
    body = r.json() if r.body.strip() else {}
    with r.db.write() as tx:
        return stacks.subscribe(tx, edge_caller(r, tx), r.path["stack"], body)


@router.post("/billing/v1/stacks/{stack}/cancel")
def cancel(r: Req) -> Any:
    body = r.json() if r.body.strip() else {}
    with r.db.write() as tx:
        return stacks.cancel(tx, edge_caller(r, tx), r.path["stack"], body)
