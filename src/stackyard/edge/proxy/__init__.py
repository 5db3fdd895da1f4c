"""The edge data plane: a caching reverse proxy serving CDN sites by Host (DESIGN §7).

Not ASGI: the hit path is a plain asyncio protocol over httptools (`server`), answering from the
cache (`store`) without leaving the event loop. Misses go to the site's origin through the
hardened outbound client (`origin`). The HTTP caching decisions (RFC 9111) are pure functions in
`rules`, the site's configuration blocks in `policy`, purge matching in `purge`.
"""
