"""Content management API routes, one module per resource; each exposes `router`."""

import stackyard.content.cma.content_types as content_types_routes
import stackyard.content.cma.entries as entries_routes
import stackyard.content.cma.extensions as extensions_routes
import stackyard.content.cma.global_fields as global_fields_routes
import stackyard.content.cma.labels as labels_routes
import stackyard.content.cma.metadata as metadata_routes
from stackyard.content.cma import audit_logs, environments, locales, roles, stacks, tokens

ROUTERS = [stacks.router, environments.router, locales.router, audit_logs.router, roles.router, tokens.router]
ROUTERS += [content_types_routes.router, global_fields_routes.router, labels_routes.router]
ROUTERS += [extensions_routes.router, metadata_routes.router]
ROUTERS += [entries_routes.router]
