"""Automation API routes (StackStorm v1: /auth/v1, /api/v1, /stream/v1), one module per resource.

Each module's router is `Router(api="st2")`; errors raised in its handlers answer StackStorm's
`{"faultstring": ...}` (`api.errors`). What this server does not serve (Orquesta workflows,
sensors, policies, action aliases, inquiries, configs, RBAC, the service registry) answers 501
`{"faultstring": "The StackStorm API is not supported by this server yet: GET /api/v1/..."}`.
"""

from stackyard.api.routing import Router
from stackyard.api.st2 import actions, auth, executions, keys, rules, stream, webhooks

_later = Router(api="st2")
for _res in (
    "workflows/inspect",
    "sensortypes",
    "policies",
    "policytypes",
    "actionalias",
    "aliasexecution/match_and_execute",
    "actionalias/match",
    "inquiries",
    "configs",
    "config_schemas",
    "rbac/roles",
    "rbac/role_assignments",
    "service_registry/groups",
    "packs/uninstall",
    "packs/index/search",
    "packs/views/files",
):
    for _method in ("GET", "POST", "PUT", "DELETE"):
        _later.plan(
            _method,
            f"/api/v1/{_res}",
            f"/api/v1/{_res}/",
            f"/api/v1/{_res}/{{id}}",
            f"/api/v1/{_res}/{{id}}/",
        )

# Routes are tried in order: the most frequent requests (webhooks, executions) first.
ROUTERS: list[Router] = [
    webhooks.router,
    auth.router,
    executions.router,
    actions.router,
    keys.router,
    rules.router,
    stream.router,
    _later,
]
