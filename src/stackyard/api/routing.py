"""Routes as plain functions of a `Req`, run in a worker thread (or, for SQLite reads, on the event
loop), rendered in one place.

    router = Router()

    @router.get("/v3/environments/{name}")
    def fetch(r: Req) -> dict:
        with r.db.read() as tx:
            access = r.access(tx)
            return {"environment": environments.fetch(tx, access, r.path["name"])}

A handler answers a dict (200), a `(status, dict)` pair, or a Starlette Response (a
`StreamingResponse` for events or large downloads is passed through unbuffered). Any APIError it
raises becomes the error body of its router's API (`api.errors`); anything else becomes a logged
500 with the request id.

Bodies are read whole, up to `max_body_bytes`, into `r.body`. A route declared with `stream=True`
takes bodies up to `max_upload_bytes` instead, spooled to disk before the handler starts, and reads
them from `r.upload` in chunks (`api.body.Upload`):

    router = Router()

    @router.post("/v3/assets", stream=True)
    def upload(r: Req) -> dict:
        with open(destination, "wb") as out:
            return {"size": r.upload.copy_to(out)}

Each Router belongs to one API (`Router(api="st2")`; "cma" by default) and its routes answer only
requests classified as that API (`api.dispatch`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from stackyard.access.caller import Caller, StackAccess
from stackyard.access.resolve import authenticate, require_user, stack_access
from stackyard.api.body import Part, Upload, looks_multipart, parse_json, parse_multipart, read_within, spool
from stackyard.api.dispatch import APIS, APIRoutes, IndexedRoutes, api_of_path, planned_endpoint
from stackyard.api.errors import error_response
from stackyard.core.ratelimit import Verdict
from stackyard.errors import APIError, BadRequest, RateLimited, ServerError, Unauthorized, UnprocessableEntity
from stackyard.store.conflicts import as_conflict
from stackyard.store.engine import NeedsThread, Tx, reads_only

if TYPE_CHECKING:
    from stackyard.api.state import AppState

log = logging.getLogger("stackyard.server")
Handler = Callable[["Req"], Any]
# Beyond any real list, and inside the 64-bit integers both databases bind for OFFSET.
MAX_SKIP = 2**31 - 1
_FLAGS = {"true": True, "false": False}
# A request carrying any of these spends from its address's failed-auth bucket when they fail.
CREDENTIAL_HEADERS = ("authtoken", "authorization", "access_token")


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


@dataclass
class Req:
    """What a handler sees of a request: parsed parts, the app's services and the caller."""

    app: AppState
    method: str
    path: dict[str, str]
    query: Any  # starlette QueryParams (multi-valued)
    headers: Any  # starlette Headers (case-insensitive)
    body: bytes
    request_id: str
    remote_addr: str
    response_headers: dict[str, str] = field(default_factory=dict)
    _upload: Upload | None = None
    _caller: Caller | None = None
    _limited: set[str] = field(default_factory=set)

    @property
    def db(self) -> Any:
        return self.app.db

    @property
    def settings(self) -> Any:
        return self.app.settings

    # -- body ---------------------------------------------------------------------------------
    def json(self) -> dict[str, Any]:
        """The body as a JSON object, whatever Content-Type the client sent."""
        if looks_multipart(self.body):
            raise BadRequest("Expected a JSON body, got multipart data.", error_code=101)
        data = parse_json(self.body, max_depth=self.settings.max_json_depth)
        if not isinstance(data, dict):
            raise BadRequest("The request body must be a JSON object.", error_code=101)
        return data

    def envelope(self, key: str, *, required: bool = True) -> dict[str, Any]:
        """`body[key]` as an object, e.g. `{"environment": {...}}` -> the inner dict."""
        data = self.json()
        inner = data.get(key)
        if inner is None and not required:
            return {}
        if not isinstance(inner, dict):
            raise UnprocessableEntity(
                f"The request body needs a '{key}' object.",
                errors={key: ["is required and must be an object."]},
            )
        return inner

    def parts(self) -> list[Part]:
        """The parts of a multipart body (boundary from the header or the body)."""
        return parse_multipart(self.body, self.headers.get("content-type"))

    @property
    def upload(self) -> Upload:
        """The spooled body of a route declared with `stream=True` (`r.body` is empty there)."""
        if self._upload is None:
            raise RuntimeError("r.upload needs a route declared with stream=True")
        return self._upload

    # -- query --------------------------------------------------------------------------------
    def param(self, name: str, default: str | None = None) -> str | None:
        return self.query.get(name, default)

    def json_param(self, name: str) -> dict[str, Any]:
        """A query parameter holding a JSON object, such as `query={"title": "Hello"}` (absent: {}).
        Read by `parse_json`, as bodies are; anything but an object is a 400 (error_code 102)."""
        raw = self.query.get(name) or ""
        data = parse_json(raw, max_depth=self.settings.max_json_depth, what=name, error_code=102)
        if not isinstance(data, dict):
            message = f"The '{name}' parameter must be a JSON object."
            raise BadRequest(message, error_code=102, errors={name: [message]})
        return data

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean query parameter: `true` or `false` in any case (the official SDK sends `True`);
        anything else is a 400, as Contentstack answers."""
        value = self.query.get(name)
        if value is None:
            return default
        try:
            return _FLAGS[value.strip().lower()]
        except KeyError:
            raise BadRequest(
                f"'{name}' must be true or false.", errors={name: ["must be true or false."]}
            ) from None

    def int_param(self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise BadRequest(
                f"'{name}' must be an integer.", errors={name: ["must be an integer."]}
            ) from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            raise BadRequest(f"'{name}' must be {bound}.", errors={name: [f"must be {bound}."]})
        return value

    def page(self) -> tuple[int, int]:
        """(skip, limit) from the query, bounded by the page-size settings."""
        s = self.settings
        return self.int_param("skip", 0, maximum=MAX_SKIP), self.int_param(
            "limit", s.page_size_default, minimum=1, maximum=s.page_size_max
        )

    # -- caller -------------------------------------------------------------------------------
    def caller(self, tx: Tx) -> Caller:
        if self._caller is None:
            try:
                self._caller = authenticate(tx, self.headers, self.request_id, self.remote_addr)
            except Unauthorized:
                # Spent only by failures: see `refuse_early`, which refuses once the bucket is empty.
                self.app.limiter.take("addr:" + self.remote_addr, "failed_auth")
                raise
        return self._caller

    def user(self, tx: Tx) -> str:
        """The logged-in user's uid (401 otherwise); also spends from the rate limit."""
        uid = require_user(self.caller(tx))
        self._limit("user:" + uid)
        return uid

    def access(self, tx: Tx) -> StackAccess:
        """The caller's standing in the stack named by the `api_key` header."""
        access = stack_access(tx, self.caller(tx), self.headers.get("api_key"), self.headers.get("branch"))
        self.app.limiter.settle("stack:" + str(access.stack["api_key"]), "org:" + access.org_uid)
        self._limit("org:" + access.org_uid)
        return access

    def throttle_account_call(self) -> None:
        """Limit unauthenticated account calls (login, password reset, activation) per client address,
        so passwords cannot be sprayed and argon2 cannot be made to burn the server's CPU."""
        self._limit("addr:" + self.remote_addr, "auth")

    @property
    def kind(self) -> str:
        """Which of an organization's buckets this request spends from."""
        return "read" if self.method in ("GET", "HEAD") else "write"

    def _limit(self, key: str, kind: str | None = None) -> None:
        if key in self._limited:
            return  # a handler re-run on a thread (see `endpoint`) does not pay twice
        self._limited.add(key)
        self._verdict(self.app.limiter.take(key, kind or self.kind))

    def _verdict(self, verdict: Verdict | None, message: str | None = None) -> None:
        if verdict is None:
            return
        self.response_headers["X-RateLimit-Limit"] = str(verdict.limit)
        self.response_headers["X-RateLimit-Remaining"] = str(verdict.remaining)
        if not verdict.allowed:
            raise RateLimited(message, retry_after=verdict.retry_after)

    def refuse_early(self) -> None:
        """429 before any database work when a bucket this request would spend from is empty: its
        address's failed-auth bucket (it carries a credential), or the organization of the stack it
        names (as last seen). Refusing then costs far less than answering, so a client that
        ignores Retry-After cannot take the server from other organizations or other addresses."""
        limiter = self.app.limiter
        if any(self.headers.get(name) for name in CREDENTIAL_HEADERS):
            verdict = limiter.peek("addr:" + self.remote_addr, "failed_auth")
            if verdict is not None and not verdict.allowed:
                raise RateLimited(
                    "Too many requests with bad credentials from this address; try again later.",
                    retry_after=verdict.retry_after,
                )
        api_key = self.headers.get("api_key")
        org = limiter.home("stack:" + api_key) if api_key else None
        if org is not None:
            verdict = limiter.peek(org, self.kind)
            if verdict is not None and not verdict.allowed:
                self._verdict(verdict)


class Router:
    """A list of routes declared with decorators, one Router per resource module, all of one API."""

    def __init__(self, api: str = "cma") -> None:
        if api not in APIS:
            raise ValueError(f"unknown API {api!r}; one of {', '.join(APIS)}")
        self.api = api
        self.routes: list[tuple[str, str, Handler]] = []
        self.streaming: set[tuple[str, str]] = set()  # (method, path) of routes that stream their body
        # (method, path) this API will serve: answered 501 "not supported yet" until a route lands
        self.planned: list[tuple[str, str]] = []

    def plan(self, method: str, *paths: str) -> None:
        """Declare paths the API will serve; each answers 501 in its shape until it has a route."""
        self.planned += [(method, path) for path in paths]

    def add(self, method: str, path: str, *, stream: bool = False) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.routes.append((method, path, fn))
            if stream:
                self.streaming.add((method, path))
            return fn

        return register

    def get(self, path: str) -> Callable[[Handler], Handler]:
        return self.add("GET", path)

    def post(self, path: str, *, stream: bool = False) -> Callable[[Handler], Handler]:
        return self.add("POST", path, stream=stream)

    def put(self, path: str, *, stream: bool = False) -> Callable[[Handler], Handler]:
        return self.add("PUT", path, stream=stream)

    def delete(self, path: str) -> Callable[[Handler], Handler]:
        return self.add("DELETE", path)


def _render(result: Any, req: Req) -> Response:
    """The handler's answer as a response; JSON larger than `max_response_bytes` is a 413 (error_code
    413) telling the client to ask for a lower limit (Contentstack clients page with skip/limit, so
    a silently shorter page would make them skip items)."""
    if isinstance(result, Response):
        for k, v in req.response_headers.items():
            result.headers[k] = v
        return result
    status = 200
    if isinstance(result, tuple):
        status, result = result
    response = JSONResponse(result, status_code=status, headers=req.response_headers)
    limit = req.settings.max_response_bytes
    if limit and len(response.body) > limit:
        raise APIError(
            f"The answer would be {len(response.body)} bytes, more than the {limit} this server sends at "
            "once (max_response_bytes): ask for fewer items with a lower 'limit'.",
            error_code=413,
            errors={"limit": ["is too high for the size of these items."]},
        )
    return response


# Answers up to this weight (about one per value, plus one per 64 characters of text) are rendered
# on the event loop; heavier ones on a thread, so one big page cannot hold up every other request.
RENDER_INLINE_WEIGHT = 4000


def _light(value: Any, budget: int = RENDER_INLINE_WEIGHT) -> bool:
    """Is `value` cheap to render? Looks at no more than `budget` values to decide."""
    stack = [value]
    while stack:
        v = stack.pop()
        budget -= 1
        if isinstance(v, dict):
            budget -= len(v)
            if budget < 0:
                return False
            stack.extend(v.values())
        elif isinstance(v, list | tuple):
            budget -= len(v)
            if budget < 0:
                return False
            stack.extend(v)
        elif isinstance(v, str):
            budget -= len(v) >> 6
        if budget < 0:
            return False
    return True


_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()
HANDLER_THREADS = 40  # as many as Starlette's own thread pool (anyio's default limiter)


async def in_thread(handler: Handler, req: Req) -> Any:
    """`handler(req)` on a worker thread, with the caller's context variables.

    What `starlette.concurrency.run_in_threadpool` does, on a plain thread pool, which costs about
    half as much CPU per call. As there, a cancelled request still waits for its handler to finish
    (a write transaction is never abandoned half-way).
    """
    global _EXECUTOR
    if _EXECUTOR is None:
        with _EXECUTOR_LOCK:
            if _EXECUTOR is None:
                _EXECUTOR = ThreadPoolExecutor(HANDLER_THREADS, thread_name_prefix="stackyard-handler")
    future = asyncio.get_running_loop().run_in_executor(_EXECUTOR, copy_context().run, handler, req)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise


def endpoint(
    app_state: AppState, handler: Handler, *, api: str = "cma", stream: bool = False
) -> Callable[[Request], Any]:
    """The Starlette endpoint running `handler`; errors are rendered in `api`'s shape."""
    settings = app_state.settings
    inline = settings.inline_reads and app_state.db.reads_are_local and not stream
    spool_dir = Path(settings.data_dir) / "tmp"

    async def call(req: Req) -> Response:
        """GETs on SQLite run right here: a few local reads cost less than the thread hop and the GIL
        hand-offs it brings. Should such a handler try to write, it starts over on a thread. A heavy
        answer is rendered on a thread too; handlers on threads render there."""
        if inline and req.method in ("GET", "HEAD"):
            try:
                with reads_only():
                    result = handler(req)
            except NeedsThread:
                pass
            else:
                if isinstance(result, Response) or _light(result):
                    return _render(result, req)
                return await in_thread(lambda r: _render(result, r), req)
        return await in_thread(lambda r: _render(handler(r), r), req)

    async def run(request: Request) -> Response:
        scope = request.scope
        request_id = scope.get("state", {}).get("request_id", "")
        client = scope.get("client")
        req = Req(
            app=app_state,
            method=request.method,
            path=dict(request.path_params),
            query=request.query_params,
            headers=request.headers,
            body=b"",
            request_id=request_id,
            remote_addr=client[0] if client else "",
        )
        try:
            req.refuse_early()
            _refuse_nul(req)
            declared = request.headers.get("content-length")
            if stream:
                req._upload = await spool(
                    request.stream(),
                    declared,
                    settings.max_upload_bytes,
                    spool_dir,
                    request.headers.get("content-type", ""),
                )
            else:
                req.body = await read_within(request.stream(), declared, settings.max_body_bytes)
            return await call(req)
        except APIError as err:
            if isinstance(err, RateLimited) and settings.rate_limit_hold_seconds > 0:
                # A closed-loop client would otherwise get its next refusal at once, and refusals
                # at line rate take the event loop (and the GIL) from other organizations.
                await asyncio.sleep(settings.rate_limit_hold_seconds)
            return error_response(err, request_id, req.response_headers, api=api)
        except ClientDisconnect:
            # Routine (a dropped connection, or one refused as too slow): one line, no traceback,
            # and no path (it may hold a token; the access log line of this request id has it redacted).
            log.info(
                "client disconnected before its body arrived (%s, request %s)", request.method, request_id
            )
            gone = BadRequest("The client disconnected before the whole body arrived.")
            return error_response(gone, request_id, api=api)
        except Exception as exc:
            conflict = as_conflict(exc)
            if conflict is not None:
                return error_response(conflict, request_id, req.response_headers, api=api)
            log.exception(
                "unhandled error in %s %s (request %s)", request.method, request.url.path, request_id
            )
            return error_response(ServerError(), request_id, api=api)
        finally:
            if req._upload is not None:
                req._upload.close()

    run.__name__ = handler.__name__
    return run


def _refuse_nul(req: Req) -> None:
    """NUL characters mean nothing in a uid or a query, and PostgreSQL cannot store them: refuse
    them up front (400) rather than let a query fail deep in a handler (500)."""
    if any("\x00" in v for v in req.path.values()) or any(
        "\x00" in k or "\x00" in v for k, v in req.query.multi_items()
    ):
        raise BadRequest("The URL contains a NUL character.", errors={"url": ["must not contain NUL."]})


def _specificity(path: str) -> tuple[int, ...]:
    """Literal segments before parameters, so /content_types/import wins over /content_types/{uid}."""
    return tuple(1 if seg.startswith("{") else 0 for seg in path.strip("/").split("/"))


def build_routes(app_state: AppState, routers: list[Router]) -> list[BaseRoute]:
    """One route table per API (see `api.dispatch.APIRoutes`). Planned paths without a route answer
    501; an API with neither routes nor planned paths answers 501 for all its paths. A router's
    paths must lie under its API's prefixes."""
    for r in routers:
        for method, path in [(m, p) for (m, p, _) in r.routes] + r.planned:
            home = api_of_path(path)
            if home != ("cma" if r.api == "cda" else r.api):
                raise ValueError(f"{method} {path} is a {home} path, not one of the {r.api} API")
    tables: dict[str, IndexedRoutes] = {}
    pending: set[str] = set()
    for api in APIS:
        mine = [r for r in routers if r.api == api]
        table = [
            (m, p, endpoint(app_state, h, api=api, stream=(m, p) in r.streaming))
            for r in mine
            for (m, p, h) in r.routes
        ]
        served = {(m, p) for (m, p, _) in table}
        table += [(m, p, planned_endpoint(api)) for r in mine for (m, p) in r.planned if (m, p) not in served]
        if not table:
            if mine:
                pending.add(api)
            continue
        table.sort(key=lambda t: _specificity(t[1]))
        routes = [Route(p, run, methods=[m]) for (m, p, run) in table]
        # A {p:path} parameter may span segments: such a table keeps Starlette's plain scan.
        tables[api] = IndexedRoutes(routes, indexed=not any(":path}" in r.path for r in routes))
    return [APIRoutes(tables, pending)]
