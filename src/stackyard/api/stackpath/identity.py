"""`POST /identity/v1/oauth2/token`, and the management of edge API credentials.

The token route ignores the Authorization header pystackpath sends (`Bearer ` on the first call)
and never answers 401 (reference/stackpath_api.md §2.2). Credentials are managed by a logged-in
organization owner or admin (`authtoken` header), as `stackyard edge credential ...` does.
"""

from __future__ import annotations

from typing import Any

from stackyard.api.routing import Req, Router
from stackyard.api.stackpath._auth import no_content
from stackyard.edge import credentials

router = Router(api="stackpath")


@router.post("/identity/v1/oauth2/token")
def token(r: Req) -> Any:
    r.throttle_account_call()
    body = r.json()
    with r.db.write() as tx:
        return credentials.issue_token(tx, body, r.settings.edge_token_ttl_seconds)


@router.get("/identity/v1/accounts/{account}/credentials")
def find(r: Req) -> Any:
    with r.db.read() as tx:
        r.user(tx)
        return {"results": credentials.find(tx, r.caller(tx), r.path["account"])}


@router.post("/identity/v1/accounts/{account}/credentials")
def create(r: Req) -> Any:
    body = r.json()
    with r.db.write() as tx:
        r.user(tx)
        return {"credential": credentials.create(tx, r.caller(tx), r.path["account"], body.get("name"))}


@router.delete("/identity/v1/accounts/{account}/credentials/{client_id}")
def revoke(r: Req) -> Any:
    with r.db.write() as tx:
        r.user(tx)
        credentials.revoke(tx, r.caller(tx), r.path["account"], r.path["client_id"])
    return no_content()
