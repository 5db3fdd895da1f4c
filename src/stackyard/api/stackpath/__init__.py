"""Edge control plane routes (StackPath: /identity/v1, /stack/v1, /cdn/v1), one module per resource.

Declare each module's router as `Router(api="stackpath")` and list it here; errors raised in its
handlers answer StackPath's `{"code", "message", "details"}` with gRPC status codes (`api.errors`).
While none has a route, every request under these prefixes answers 501 with code 12 (UNIMPLEMENTED).
"""

from stackyard.api.routing import Router

ROUTERS: list[Router] = [Router(api="stackpath")]
