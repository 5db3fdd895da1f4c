"""Automation API routes (StackStorm v1: /auth/v1, /api/v1, /stream/v1), one module per resource.

Declare each module's router as `Router(api="st2")` and list it here; errors raised in its handlers
answer StackStorm's `{"faultstring": ...}` (`api.errors`). While none has a route, every request
under these prefixes answers 501 `{"faultstring": "The StackStorm API is not supported by this
server yet: GET /api/v1/actions"}`.
"""

from stackyard.api.routing import Router

ROUTERS: list[Router] = [Router(api="st2")]
