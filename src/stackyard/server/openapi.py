"""An OpenAPI 3 document of the registered routes, served at GET /openapi.json.

The document is derived from the routers themselves, so it can never list a route the server
lacks or miss one it has. Handlers declare nothing extra: what a route needs is read from how the
handler uses its `Req` — `r.envelope("entry")` means a JSON body `{"entry": {...}}`, `r.access(tx)`
means the `api_key` header and a credential, `r.page()` the `skip`/`limit` query. That reading is a
best effort for documentation and fuzzing; the handlers stay the authority on what they accept.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stackyard import __version__
from stackyard.api.routing import JSONResponse, Router

_PATH_PARAM = re.compile(r"{(\w+)(?::\w+)?}")
_ENVELOPE = re.compile(r"""r\.envelope\(\s*["'](\w+)["']([^)]*)\)""")
_FLAG = re.compile(r"""r\.flag\(\s*["'](\w+)["']""")
_PARAM = re.compile(r"""r\.param\(\s*["'](\w+)["']""")
_INT_PARAM = re.compile(r"""r\.int_param\(\s*["'](\w+)["']""")
_CREATED = re.compile(r"return\s+201\s*,")

# Statuses every operation may answer with the error body, and what each means. All of them come
# from the one error renderer (`api.errors`), so all carry the same headers (`_RESPONSE_HEADERS`).
_ERRORS = {
    "400": "Malformed request: the body is not JSON, a parameter has the wrong type or a flag is "
    "neither true nor false, or the URL holds a NUL character.",
    "401": "No credential, or a dead one (expired session, unknown token).",
    "403": "The caller may not do this.",
    "404": "No route for this path (a path parameter that holds a `/`, for instance), or the asset "
    "does not exist.",
    "405": "The path exists, but not with this method; `Allow` lists the methods it takes.",
    "409": "The write conflicts with another (a duplicate, or a concurrent change); retry it.",
    "412": "Missing or unknown stack api_key.",
    "413": "The request body is larger than the server accepts.",
    "415": "The request body could not be read (multipart without a usable boundary).",
    "422": "Validation failed (`errors` names the fields), or the object was not found.",
    "429": "Rate limit exceeded (per organization, or per address for account calls and bad "
    "credentials); see the Retry-After header.",
    "500": "The server failed; the X-Request-Id names the request in the server's log.",
}
# Statuses only operations that read a body answer (any request may send one too large: 413).
_BODY_ERRORS = ("415",)

_RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-Id": {
        "description": "The request's id (the client's own when it sent a short, safe one); every "
        "answer has it, and the server's log lines name it.",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
    },
    "X-RateLimit-Limit": {
        "description": "Requests per second the bucket this request spent from allows (answers of "
        "rate-limited requests only).",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in that bucket.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    },
    "Allow": {
        "description": "The methods the path takes.",
        "required": True,
        "schema": {"type": "string"},
    },
}
_REQUEST_ID = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
_RATE = {
    name: {"$ref": f"#/components/headers/{name}"} for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining")
}
_ERROR_HEADERS: dict[str, dict[str, Any]] = {
    "429": {**_RATE, "Retry-After": {"$ref": "#/components/headers/Retry-After"}},
    "405": {"Allow": {"$ref": "#/components/headers/Allow"}},
}

_HEADERS = {
    "api_key": "The stack's API key (stack-scoped routes).",
    "authtoken": "A user session token, from POST /v3/user-session.",
    "authorization": "A management token, sent as is (no `Bearer ` prefix).",
    "branch": "Branch uid; `main` when absent.",
}


def document(routers: list[Router]) -> dict[str, Any]:
    """The OpenAPI 3.0 document for every route of `routers`."""
    paths: dict[str, dict[str, Any]] = {}
    seen_ids: set[str] = set()
    for router in routers:
        for method, path, handler in router.routes:
            item = paths.setdefault(_PATH_PARAM.sub(r"{\1}", path), {})
            item[method.lower()] = _operation(method, path, handler, seen_ids)
    for fixed, summary in (
        ("/healthz", "Liveness: 200 once requests are accepted."),
        ("/openapi.json", "This document."),
    ):
        paths[fixed] = {
            "get": {
                "operationId": fixed.strip("/").replace(".", "_"),
                "summary": summary,
                "tags": ["server"],
                "responses": {
                    "200": {
                        "description": "OK",
                        "headers": _REQUEST_ID,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    **{status: {"$ref": f"#/components/responses/{status}"} for status in ("405", "500")},
                },
            }
        }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Stackyard",
            "version": __version__,
            "description": "Content management API (Contentstack CMA v3 wire format) and friends.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {"Error": _ERROR_SCHEMA},
            "parameters": {
                name: {"name": name, "in": "header", "required": False, "schema": {"type": "string"}}
                | {"description": text}
                for name, text in _HEADERS.items()
            },
            "headers": _RESPONSE_HEADERS,
            "responses": {
                status: {
                    "description": text,
                    "headers": {**_REQUEST_ID, **_ERROR_HEADERS.get(status, _RATE)},
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
                for status, text in _ERRORS.items()
            },
        },
    }


_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error answer: Contentstack's error object. 2FA errors add `tfa_type`.",
    "required": ["error_message", "error_code", "errors"],
    "properties": {
        "error_message": {"type": "string"},
        "error_code": {"type": "integer"},
        "errors": {"oneOf": [{"type": "object"}, {"type": "array", "items": {}}]},
    },
    "additionalProperties": True,
}


def _operation(method: str, path: str, handler: Callable[..., Any], seen_ids: set[str]) -> dict[str, Any]:
    source = _source(handler)
    doc = inspect.getdoc(handler) or ""
    op: dict[str, Any] = {
        "operationId": _operation_id(handler, seen_ids),
        "summary": doc.splitlines()[0] if doc else f"{method} {path}",
        "tags": [_tag(path)],
        "parameters": _parameters(path, source),
    }
    body = _request_body(method, source)
    if body:
        op["requestBody"] = body
    success = "201" if _CREATED.search(source) else "200"
    op["responses"] = {
        success: {
            "description": "Success.",
            "headers": {**_REQUEST_ID, **_RATE},
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **{
            status: {"$ref": f"#/components/responses/{status}"}
            for status in _ERRORS
            if body or status not in _BODY_ERRORS
        },
    }
    return op


def _source(handler: Callable[..., Any]) -> str:
    try:
        return inspect.getsource(handler)
    except (OSError, TypeError):
        return ""


def _operation_id(handler: Callable[..., Any], seen: set[str]) -> str:
    base = f"{handler.__module__.rsplit('.', 1)[-1]}.{handler.__name__}"
    op_id, n = base, 2
    while op_id in seen:
        op_id, n = f"{base}_{n}", n + 1
    seen.add(op_id)
    return op_id


def _tag(path: str) -> str:
    segments = [s for s in path.strip("/").split("/") if s and not s.startswith("{")]
    return segments[1] if len(segments) > 1 and segments[0] == "v3" else (segments[0] if segments else "root")


def _parameters(path: str, source: str) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in _PATH_PARAM.findall(path)
    ]
    stack_scoped = "r.access(" in source
    if stack_scoped:
        params.append(
            {"$ref": "#/components/parameters/api_key"}
            if "r.user(" in source
            else {
                "name": "api_key",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": _HEADERS["api_key"],
            }
        )
        params.append({"$ref": "#/components/parameters/branch"})
    if stack_scoped or "r.user(" in source or "r.caller(" in source:
        params.append({"$ref": "#/components/parameters/authtoken"})
        params.append({"$ref": "#/components/parameters/authorization"})
    query: dict[str, dict[str, Any]] = {}
    if "r.page()" in source:
        query["skip"] = {"type": "integer", "minimum": 0}
        query["limit"] = {"type": "integer", "minimum": 1}
    for name in _INT_PARAM.findall(source):
        query.setdefault(name, {"type": "integer"})
    for name in _FLAG.findall(source):
        query.setdefault(name, {"type": "string", "enum": ["true", "false"]})
    for name in _PARAM.findall(source):
        query.setdefault(name, {"type": "string"})
    params += [
        {"name": name, "in": "query", "required": False, "schema": schema} for name, schema in query.items()
    ]
    return params


def _request_body(method: str, source: str) -> dict[str, Any] | None:
    envelope = _ENVELOPE.search(source)
    if envelope:
        key, rest = envelope.group(1), envelope.group(2)
        required = "required=False" not in rest.replace(" ", "")
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {key: {"type": "object"}},
            "additionalProperties": True,
        }
        if required:
            schema["required"] = [key]
        return {"required": required, "content": {"application/json": {"schema": schema}}}
    if "r.parts()" in source:
        return {
            "required": True,
            "content": {"multipart/form-data": {"schema": {"type": "object", "additionalProperties": True}}},
        }
    if "r.json()" in source or method in ("POST", "PUT"):
        return {
            "required": "r.json()" in source,
            "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
        }
    return None


def route(routers: list[Router]) -> Route:
    """GET /openapi.json, built from `routers` on first request (reading handler sources takes a
    tenth of a second, which every server start would otherwise pay)."""
    built: list[dict[str, Any]] = []

    async def openapi_json(request: Request) -> Response:
        if not built:
            built.append(document(routers))
        return JSONResponse(built[0])

    return Route("/openapi.json", openapi_json, methods=["GET"])
