"""WAF, DNS zones and delivery sites: not served by this edge yet. Every method on their paths
answers 501 with gRPC code 12 (UNIMPLEMENTED) in StackPath's error shape, never a 404 or a 500."""

from __future__ import annotations

from typing import Any

from stackyard.api.routing import Req, Router
from stackyard.errors import NotSupported

router = Router(api="stackpath")
PREFIXES = ("/waf/v1", "/waf/v2", "/dns/v1", "/delivery/v1")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _refusal(prefix: str) -> Any:
    def refuse(r: Req) -> Any:
        what = f"{r.method} {prefix}/{r.path.get('rest', '')}"
        raise NotSupported(f"WAF, DNS and delivery sites are not supported by this edge yet: {what}")

    return refuse


for _prefix in PREFIXES:
    for _method in METHODS:
        router.add(_method, _prefix + "/{rest:path}")(_refusal(_prefix))
