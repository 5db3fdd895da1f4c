"""Stackyard's management SDK: the Contentstack management API, fluent, immutable, typed.

    import stackyard.client.management as contentstack_management
    client = contentstack_management.Client(authtoken="...")          # or base_url="http://host:8080"
    client.stack("api_key").environments().find().json()

Every call answers a `Response` (`.json()`, `.status_code`, `.headers`) or raises an error from
`stackyard.errors` (`NotFound`, `Unauthorized`, `RateLimited`, ...); `AsyncClient` offers the same
calls as coroutines.
"""

from __future__ import annotations

from stackyard.errors import (
    APIError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    RateLimited,
    ServerError,
    StackyardError,
    Unauthorized,
    UnprocessableEntity,
)

from .._errors import ConnectionFailed
from .._http import Response
from .client import AsyncClient, Client

__all__ = [
    "APIError",
    "AsyncClient",
    "BadRequest",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "Forbidden",
    "NotFound",
    "PreconditionFailed",
    "RateLimited",
    "Response",
    "ServerError",
    "StackyardError",
    "Unauthorized",
    "UnprocessableEntity",
]
