"""Content management API routes, one module per resource; each exposes `router`."""

from stackyard.content.cma import audit_logs, environments, locales, roles, stacks, tokens

ROUTERS = [stacks.router, environments.router, locales.router, audit_logs.router, roles.router, tokens.router]
