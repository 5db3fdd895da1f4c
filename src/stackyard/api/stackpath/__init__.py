"""Edge control plane routes (StackPath: /identity/v1, /stack/v1, /cdn/v1, /billing/v1), one module per resource.

Each module's router is `Router(api="stackpath")`; errors raised in its handlers answer StackPath's
`{"code", "message", "details"}` with gRPC status codes (`api.errors`). WAF, DNS and delivery
sites (`/waf/...`, `/dns/...`, `/delivery/...`) answer 501 with code 12 (UNIMPLEMENTED) from
`unsupported`.
"""

from stackyard.api.routing import Router
from stackyard.api.stackpath import cdn, identity, sites, stacks, unsupported

ROUTERS: list[Router] = [identity.router, stacks.router, sites.router, cdn.router, unsupported.router]
