"""Stackyard's SDKs: pure HTTP clients over httpx that import nothing from the server.

`stackyard.client.management` speaks the Contentstack management API. Shared plumbing lives here:
`_http` (requests, responses, transports), `_retry` (the retry policy), `_errors` (answer ->
exception), `_path` (path-id checks).
"""

from ._errors import ConnectionFailed
from ._http import Response

__all__ = ["ConnectionFailed", "Response"]
