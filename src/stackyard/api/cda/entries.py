"""CDA routes for the published entries of a content type (catalogue §3.1, §3.2)."""

from __future__ import annotations

from typing import Any

from stackyard.api.cda.common import ask, read
from stackyard.api.routing import Req, Router
from stackyard.content.delivery import reader

router = Router(api="cda")


@router.get("/v3/content_types/{content_type_uid}/entries")
def find(r: Req) -> Any:
    ct, wanted = r.path["content_type_uid"], ask(r)
    return read(r, lambda tx, scope: reader.entries(tx, scope, ct, wanted))


@router.get("/v3/content_types/{content_type_uid}/entries/{entry_uid}")
def fetch(r: Req) -> Any:
    ct, uid, wanted = r.path["content_type_uid"], r.path["entry_uid"], ask(r)
    return read(r, lambda tx, scope: reader.entry(tx, scope, ct, uid, wanted))
