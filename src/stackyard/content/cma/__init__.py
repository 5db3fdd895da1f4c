"""Content management API routes, one module per resource; each exposes `router`."""

from stackyard.content.cma import audit_logs, environments, locales, stacks

ROUTERS = [stacks.router, environments.router, locales.router, audit_logs.router]
