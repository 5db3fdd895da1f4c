"""Automation API routes (StackStorm v1: /auth/v1, /api/v1, /stream/v1), one module per resource.

Each module's router is `Router(api="st2")`; errors raised in its handlers answer StackStorm's
`{"faultstring": ...}` (`api.errors`). Paths no module serves (Orquesta workflows, sensors,
policies, action aliases, inquiries beyond core.ask...) answer 501 `{"faultstring": "The StackStorm
API is not supported by this server yet: GET /api/v1/..."}` from the catch-all router at the end.
"""

from stackyard.api.routing import Router
from stackyard.api.st2 import auth

ROUTERS: list[Router] = [auth.router, Router(api="st2")]
