"""CDA routes for content types and global fields (catalogue §3.1)."""

from __future__ import annotations

from typing import Any

from stackyard.api.cda.common import page, read
from stackyard.api.routing import Req, Router
from stackyard.content.delivery import reader

router = Router(api="cda")


@router.get("/v3/content_types")
def find(r: Req) -> Any:
    skip, limit = page(r)
    count, inline, branch = (
        r.flag("include_count"),
        r.flag("include_global_field_schema"),
        r.flag("include_branch"),
    )
    return read(
        r,
        lambda tx, scope: reader.content_types(
            tx, scope, skip=skip, limit=limit, count=count, inline=inline, include_branch=branch
        ),
    )


@router.get("/v3/content_types/{content_type_uid}")
def fetch(r: Req) -> Any:
    uid = r.path["content_type_uid"]
    inline, branch = r.flag("include_global_field_schema"), r.flag("include_branch")
    return read(
        r, lambda tx, scope: reader.content_type(tx, scope, uid, inline=inline, include_branch=branch)
    )


@router.get("/v3/global_fields")
def find_global_fields(r: Req) -> Any:
    skip, limit = page(r)
    count, branch = r.flag("include_count"), r.flag("include_branch")
    return read(
        r,
        lambda tx, scope: reader.global_fields(
            tx, scope, skip=skip, limit=limit, count=count, include_branch=branch
        ),
    )


@router.get("/v3/global_fields/{global_field_uid}")
def fetch_global_field(r: Req) -> Any:
    uid = r.path["global_field_uid"]
    branch = r.flag("include_branch")
    return read(r, lambda tx, scope: reader.global_field(tx, scope, uid, include_branch=branch))
