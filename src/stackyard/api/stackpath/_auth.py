"""The caller of an edge control-plane request, from its bearer token."""

from __future__ import annotations

from starlette.responses import Response

from stackyard.api.routing import Req
from stackyard.edge.access import EdgeCaller, authenticate
from stackyard.store.engine import Tx


def edge_caller(r: Req, tx: Tx) -> EdgeCaller:
    """401 (which starts pystackpath's login) unless the request carries a live bearer token."""
    return authenticate(tx, r.headers.get("authorization"), r.request_id, r.remote_addr)


def no_content() -> Response:
    """StackPath answers deletes and enable/disable actions 204 with no body."""
    return Response(status_code=204)
