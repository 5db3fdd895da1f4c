"""The CMS domain: services (no HTTP) and, in `cma/`, the management API routes that call them."""
