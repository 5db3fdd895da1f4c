"""WAF, DNS zones and delivery sites: not served by this edge yet. Every method on their paths is
planned (`Router.plan`), so it answers 501 with gRPC code 12 (UNIMPLEMENTED) in StackPath's error
shape, never a 404 or a 500."""

from __future__ import annotations

from stackyard.api.routing import Router

router = Router(api="stackpath")
PREFIXES = ("/waf/v1", "/waf/v2", "/dns/v1", "/delivery/v1")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

for _method in METHODS:
    router.plan(_method, *(prefix + "/{rest:path}" for prefix in PREFIXES))
