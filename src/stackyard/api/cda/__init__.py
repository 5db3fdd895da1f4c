"""Content delivery API routes (Contentstack CDA v3), one module per resource; each exposes `router`.

The CDA shares `/v3` paths with the CMA; a request is a delivery request when it carries `api_key`,
`access_token` (a delivery token) and an `environment` (`api.dispatch.classify`), and these routers
answer it first; a path they do not serve goes on to the CMA's routes, which refuse a delivery token
(401, error_code 107). Declare each module's router as `Router(api="cda")` and list it here.

Until a path has a route, it is planned below and answers a delivery request with 501 in
Contentstack's shape, error_code 501 ("Content delivery is not supported by this server yet: GET
/v3/content_types"). A route for a planned path replaces the plan; drop the line when it lands.
"""

from stackyard.api.cda import assets, content_types, entries, sync
from stackyard.api.routing import Router

planned = Router(api="cda")
# Every call the delivery SDK makes (reference/contentstack_api.md §3.1, §3.5); all are GETs.
planned.plan(
    "GET",
    "/v3/taxonomies",
    "/v3/taxonomies/entries",
    "/v3/taxonomies/{taxonomy_uid}",
    "/v3/taxonomies/{taxonomy_uid}/terms",
    "/v3/taxonomies/{taxonomy_uid}/terms/{term_uid}",
    "/v3/taxonomies/{taxonomy_uid}/terms/{term_uid}/locales",
    "/v3/taxonomies/{taxonomy_uid}/terms/{term_uid}/ancestors",
    "/v3/taxonomies/{taxonomy_uid}/terms/{term_uid}/descendants",
)

ROUTERS: list[Router] = [content_types.router, entries.router, sync.router, assets.router, planned]
