"""CDA route of the Sync API (catalogue §3.5): `init=true` with filters, or a pagination or sync token."""

from __future__ import annotations

from typing import Any

from stackyard.api.cda.common import scope
from stackyard.api.routing import Req, Router
from stackyard.content.delivery import sync
from stackyard.errors import UnprocessableEntity

router = Router(api="cda")


@router.get("/v3/stacks/sync")
def find(r: Req) -> Any:
    with r.db.read() as tx:
        sc = scope(r, tx)
    for name in ("pagination_token", "sync_token"):
        token = r.param(name)
        if token:
            return sync.resume(r.db, sc, token, name)
    if not r.flag("init"):
        raise UnprocessableEntity(
            "Sync needs init=true, a pagination_token or a sync_token.", errors={"init": ["is required."]}
        )
    filters = sync.Filters(
        content_type_uid=r.param("content_type_uid") or None,
        locale=r.param("locale") or None,
        start_from=r.param("start_from") or None,
        types=sync.parse_types(r.param("type")),
    )
    return sync.init(r.db, sc, filters)
