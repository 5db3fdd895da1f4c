"""CDA routes for the published entries of a content type (catalogue §3.1, §3.2); an entry fetch
carrying `live_preview` (query parameter or header) answers the draft instead (§3.6,
`content.delivery.preview`)."""

from __future__ import annotations

from typing import Any

from stackyard.api.cda.common import ask, environment_of, read, scope
from stackyard.api.routing import Req, Router
from stackyard.content.delivery import preview, reader
from stackyard.content.delivery.scope import Scope
from stackyard.store.engine import Tx

router = Router(api="cda")


@router.get("/v3/content_types/{content_type_uid}/entries")
def find(r: Req) -> Any:
    ct, wanted = r.path["content_type_uid"], ask(r)
    return read(r, lambda tx, sc: reader.entries(tx, sc, ct, wanted))


def _previewing(r: Req) -> bool:
    return r.param("live_preview") is not None or r.headers.get("live_preview") is not None


def _preview_scope(r: Req, tx: Tx) -> Scope:
    creds = preview.Credentials(r.headers.get("preview_token"), r.headers.get("authorization"))
    api_key, branch, ct = r.headers.get("api_key"), r.headers.get("branch"), r.path["content_type_uid"]
    return scope(r, tx, lambda found: preview.scope(tx, creds, api_key, environment_of(r), branch, found, ct))


@router.get("/v3/content_types/{content_type_uid}/entries/{entry_uid}")
def fetch(r: Req) -> Any:
    ct, uid, wanted = r.path["content_type_uid"], r.path["entry_uid"], ask(r)
    if _previewing(r):
        draft = preview.Draft(
            release_id=r.headers.get("release_id") or r.param("release_id") or None,
            at=preview.timestamp(r.headers.get("preview_timestamp") or r.param("preview_timestamp")),
        )
        return read(
            r, lambda tx, sc: preview.entry(tx, sc, ct, uid, wanted, draft), _preview_scope, preview=True
        )
    return read(r, lambda tx, sc: reader.entry(tx, sc, ct, uid, wanted))
