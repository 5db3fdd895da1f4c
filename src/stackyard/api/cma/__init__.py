"""Content management API routes, one module per resource; each exposes `router`."""

import stackyard.api.cma.content_types as content_types_routes
import stackyard.api.cma.entries as entries_routes
import stackyard.api.cma.extensions as extensions_routes
import stackyard.api.cma.global_fields as global_fields_routes
import stackyard.api.cma.labels as labels_routes
import stackyard.api.cma.metadata as metadata_routes
from stackyard.api.cma import (
    asset_files,
    assets,
    audit_logs,
    bulk,
    environments,
    folders,
    locales,
    publishing,
    releases,
    roles,
    stacks,
    tokens,
)

ROUTERS = [stacks.router, environments.router, locales.router, audit_logs.router, roles.router, tokens.router]
ROUTERS += [content_types_routes.router, global_fields_routes.router, labels_routes.router]
ROUTERS += [extensions_routes.router, metadata_routes.router]
ROUTERS += [entries_routes.router]
ROUTERS += [publishing.router, bulk.router, releases.router]
ROUTERS += [assets.router, folders.router, asset_files.router]
