"""ASGI app assembly: routing, middleware, error rendering, serving."""
