"""An APIError in the shape of the API the request belongs to: the one place errors become bodies.

    cma, cda, system  {"error_message": str, "error_code": int, "errors": {field: [str]} | [...]}
    st2               {"faultstring": str}, plus "conflict-id" on a 409 that names one
    stackpath         {"code": int, "message": str, "details": [{"@type": "stackpath.rpc...", ...}]}

Contentstack's shape is `APIError.body()` (and the server's default, for paths of no API). StackStorm
clients read only `faultstring` (reference/st2_api.md §3.2). StackPath answers a gRPC status
(reference/stackpath_api.md §3.4): `code` is the gRPC code for the HTTP status (the inverse of
grpc-gateway's mapping: 5 not found, 16 unauthenticated, 7 permission denied, 3 invalid argument),
`details` carries a `stackpath.rpc.RequestInfo` with the request id and, when the error names
fields, a `stackpath.rpc.BadRequest` with one `fieldViolations` item per message.

The HTTP status and the headers (Retry-After, Allow, X-Request-Id) are the same in every shape; only
the body differs. Which API a request belongs to is `api.dispatch.classify`.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stackyard.api.json_out import dumps
from stackyard.errors import APIError, NotSupported, RateLimited

# HTTP status -> gRPC status code, for StackPath bodies. A 413 is what gRPC itself answers for a
# message over its size limit; 405 is grpc-gateway's answer to a known path with another method.
GRPC_CODES: dict[int, int] = {
    400: 3,  # INVALID_ARGUMENT
    401: 16,  # UNAUTHENTICATED
    403: 7,  # PERMISSION_DENIED
    404: 5,  # NOT_FOUND
    405: 12,  # UNIMPLEMENTED
    408: 4,  # DEADLINE_EXCEEDED
    409: 6,  # ALREADY_EXISTS
    412: 9,  # FAILED_PRECONDITION
    413: 8,  # RESOURCE_EXHAUSTED
    414: 8,  # RESOURCE_EXHAUSTED (a limit on the request, as 413)
    415: 3,  # INVALID_ARGUMENT
    422: 3,  # INVALID_ARGUMENT
    429: 8,  # RESOURCE_EXHAUSTED
    431: 8,  # RESOURCE_EXHAUSTED
    500: 13,  # INTERNAL
    501: 12,  # UNIMPLEMENTED
    503: 14,  # UNAVAILABLE
    504: 4,  # DEADLINE_EXCEEDED
}
# A conflict with a concurrent write is ABORTED (retry the read-modify-write), not ALREADY_EXISTS.
_GRPC_BY_ERROR_CODE = {162: 10}
_GRPC_UNKNOWN = 2

# How each API is named in a "not supported yet" answer.
_TITLES = {
    "cda": "Content delivery",
    "st2": "The StackStorm API",
    "stackpath": "The StackPath API",
}


def body_for(err: APIError, api: str, request_id: str) -> dict[str, Any]:
    """The error body `err` has in `api`'s shape."""
    if api == "st2":
        out: dict[str, Any] = {"faultstring": err.error_message}
        if err.status == 409 and "conflict-id" in err.extra:
            out["conflict-id"] = err.extra["conflict-id"]
        return out
    if api == "stackpath":
        details: list[dict[str, Any]] = [{"@type": "stackpath.rpc.RequestInfo", "requestId": request_id}]
        if isinstance(err.errors, dict) and err.errors:
            violations = [
                {"field": field, "description": str(message)}
                for field, messages in err.errors.items()
                for message in (messages if isinstance(messages, list) else [messages])
            ]
            details.append({"@type": "stackpath.rpc.BadRequest", "fieldViolations": violations})
        code = _GRPC_BY_ERROR_CODE.get(err.error_code) or GRPC_CODES.get(err.status, _GRPC_UNKNOWN)
        return {"code": code, "message": err.error_message, "details": details}
    return err.body()


def render(
    err: APIError, api: str, request_id: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, JSON body) of `err` for a request of `api`; for callers below Starlette."""
    out = dict(headers or {})
    if isinstance(err, RateLimited):
        out["Retry-After"] = str(max(1, round(err.retry_after + 0.5)))
    out["X-Request-Id"] = request_id
    out["Content-Type"] = "application/json"
    return err.status, out, dumps(body_for(err, api, request_id))


def error_response(
    err: APIError, request_id: str, headers: dict[str, str] | None = None, *, api: str = "cma"
) -> Response:
    """`err` as a Starlette response for a request of `api` (extra `headers` such as Allow kept)."""
    status, out, body = render(err, api, request_id, headers)
    return Response(body, status_code=status, headers=out)


def route_not_found(api: str, path: str) -> APIError:
    """The 404 for a path no route of `api` matches (StackStorm words it its own way)."""
    if api == "st2":
        return APIError(f'No route matches "{path}" path', error_code=116)
    return APIError(error_code=116)


def not_supported_yet(api: str, method: str, path: str) -> NotSupported:
    """The 501 for a request of an API whose routes have not landed yet."""
    title = _TITLES.get(api, "This API")
    return NotSupported(f"{title} is not supported by this server yet: {method} {path}")
