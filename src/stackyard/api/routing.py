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

A handler whose write is done by a writer thread of its own (`automation.intake`) answers `Later`:
the request waits for that future without holding a handler thread. Declared with `inline=True`,
such a POST also runs its reads on the event loop on SQLite, as GETs do (a small body only; one
that writes itself starts over on a thread).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from stackyard.api.body import read_within, spool
from stackyard.api.dispatch import APIS, APIRoutes, IndexedRoutes, Reply, api_of_path, planned_endpoint
from stackyard.api.errors import error_response
from stackyard.api.rendering import (
    INLINE_BODY_BYTES,
    Handler,
    JSONResponse,
    Later,
    in_thread,
    render,
    rendered,
)
from stackyard.api.request import MAX_SKIP, Req, RequestHeaders, RequestQuery
from stackyard.errors import APIError, BadRequest, RateLimited, ServerError
from stackyard.store.conflicts import as_conflict
from stackyard.store.engine import NeedsThread, reads_only

if TYPE_CHECKING:
    from stackyard.api.state import AppState

log = logging.getLogger("stackyard.server")
__all__ = [
    "MAX_SKIP",
    "Endpoint",
    "Handler",
    "JSONResponse",
    "Later",
    "Req",
    "Router",
    "build_routes",
    "endpoint",
]


class Router:
    """A list of routes declared with decorators, one Router per resource module, all of one API."""

    def __init__(self, api: str = "cma") -> None:
        if api not in APIS:
            raise ValueError(f"unknown API {api!r}; one of {', '.join(APIS)}")
        self.api = api
        self.routes: list[tuple[str, str, Handler]] = []
        self.streaming: set[tuple[str, str]] = set()  # (method, path) of routes that stream their body
        self.inline: set[tuple[str, str]] = set()  # (method, path) of writes that read on the loop
        # (method, path) this API will serve: answered 501 "not supported yet" until a route lands
        self.planned: list[tuple[str, str]] = []

    def plan(self, method: str, *paths: str) -> None:
        """Declare paths the API will serve; each answers 501 in its shape until it has a route."""
        self.planned += [(method, path) for path in paths]

    def add(
        self, method: str, path: str, *, stream: bool = False, inline: bool = False
    ) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.routes.append((method, path, fn))
            if stream:
                self.streaming.add((method, path))
            if inline:
                self.inline.add((method, path))
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


class Endpoint:
    """The ASGI app of one route: runs `handler` on a `Req` made straight from the scope (no
    Starlette `Request`), errors rendered in `api`'s shape. Starlette's `Route` takes it as an ASGI
    app, and the server's dispatch (`api.dispatch.Dispatch`) calls it directly once a route matched."""

    def __init__(
        self,
        app_state: AppState,
        handler: Handler,
        *,
        api: str = "cma",
        stream: bool = False,
        inline: bool = False,
    ) -> None:
        settings = app_state.settings
        self.app_state = app_state
        self.handler = handler
        self.api = api
        self.stream = stream
        self.settings = settings
        self.inline = settings.inline_reads and app_state.db.reads_are_local and not stream
        self.inline_write = self.inline and inline
        self.spool_dir = Path(settings.data_dir) / "tmp"
        self.__name__ = handler.__name__

    async def call(self, req: Req) -> Any:
        """GETs on SQLite run right here: a few local reads cost less than the thread hop and the GIL
        hand-offs it brings. Should such a handler try to write, it starts over on a thread. Answers
        are rendered where the handler ran (`api.rendering`)."""
        handler = self.handler
        if self.inline and (
            req.method in ("GET", "HEAD") or (self.inline_write and len(req.body) <= INLINE_BODY_BYTES)
        ):
            try:
                with reads_only():
                    result = handler(req)
            except NeedsThread:
                pass
            else:
                return await _render_when_done(result, req)
        return await self._on_thread(req)

    async def _on_thread(self, req: Req) -> Any:
        """The handler run and its answer rendered on a worker thread (a `Later` waited for here)."""
        result = await in_thread(lambda r: rendered(self.handler(r), r), req)
        return await _render_when_done(result, req) if isinstance(result, Later) else result

    def _holds(self, err: APIError) -> bool:
        """Is `err` a refusal to answer only after the rate-limit hold?"""
        return isinstance(err, RateLimited) and self.settings.rate_limit_hold_seconds > 0

    async def _refused(self, err: APIError, req: Req) -> Response:
        """`err`'s answer; a rate-limit refusal after the hold (a closed-loop client would otherwise
        get its next refusal at once, and refusals at line rate take the event loop, and the GIL,
        from other organizations)."""
        if self._holds(err):
            await asyncio.sleep(self.settings.rate_limit_hold_seconds)
        return error_response(err, req.request_id, req.response_headers, api=self.api)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.answer(scope, receive)
        await response(scope, receive, send)

    def _req(self, scope: Scope) -> Req:
        state = scope.get("state")
        client = scope.get("client")
        return Req(
            app=self.app_state,
            method=scope["method"],
            path=scope.get("path_params") or {},
            query=RequestQuery(scope.get("query_string", b"")),
            headers=RequestHeaders(scope),
            body=b"",
            request_id=state.get("request_id", "") if state else "",
            remote_addr=client[0] if client else "",
        )

    def answer_now(self, scope: Scope) -> Reply | None:
        """The whole answer to a bodiless GET or HEAD, when this route's handler runs on the event
        loop (`inline`) and its answer is JSON, a whole response or an error: what `answer`
        would send, without the ASGI cycle. Otherwise None, and the request goes on to `answer`,
        taking along what was done here (the handler's result, its error, or that it needs a
        thread), so nothing runs twice."""
        if not self.inline or scope["method"] not in ("GET", "HEAD"):
            return None
        req = self._req(scope)
        response: Response
        try:
            req.refuse_early()
            _refuse_nul(req, scope.get("query_string", b""))
            with reads_only():
                result = self.handler(req)
            if not _whole(result):
                scope["state"][_PREPARED] = _Prepared(req, scope["path"], result=result)
                return None
            response = render(result, req)
        except NeedsThread:
            scope["state"][_PREPARED] = _Prepared(req, scope["path"], thread=True)
            return None
        except APIError as err:
            if self._holds(err):  # the hold before the refusal is a wait: the ASGI path's
                scope["state"][_PREPARED] = _Prepared(req, scope["path"], error=err)
                return None
            response = error_response(err, req.request_id, req.response_headers, api=self.api)
        except Exception as exc:
            response = self._failed(exc, req, scope["path"])
        return (
            response.status_code,
            response.raw_headers,
            b"" if scope["method"] == "HEAD" else bytes(response.body),
        )

    def _failed(self, exc: Exception, req: Req, path: str) -> Response:
        """The answer to a handler's unexpected exception: a conflict's, or a logged 500."""
        conflict = as_conflict(exc)
        if conflict is not None:
            return error_response(conflict, req.request_id, req.response_headers, api=self.api)
        log.exception("unhandled error in %s %s (request %s)", req.method, path, req.request_id)
        return error_response(ServerError(), req.request_id, api=self.api)

    async def _finish(self, prepared: _Prepared, request_id: str) -> Any:
        """`answer` for a request whose handler `answer_now` already ran (or found needing a thread)."""
        req = prepared.req
        req.request_id = request_id
        try:
            if prepared.error is not None:
                raise prepared.error
            if prepared.thread:
                return await self._on_thread(req)
            return await _render_when_done(prepared.result, req)
        except APIError as err:
            return await self._refused(err, req)
        except Exception as exc:
            return self._failed(exc, req, prepared.path)

    async def answer(self, scope: Scope, receive: Receive) -> Any:
        """The response to the request in `scope` (an ASGI callable)."""
        settings = self.settings
        api = self.api
        state = scope.get("state")
        request_id = state.get("request_id", "") if state else ""
        prepared = state.pop(_PREPARED, None) if state else None
        if prepared is not None:
            return await self._finish(prepared, request_id)
        method = scope["method"]
        req = self._req(scope)
        headers = req.headers
        try:
            req.refuse_early()
            _refuse_nul(req, scope.get("query_string", b""))
            declared = headers.get("content-length")
            if self.stream:
                req._upload = await spool(
                    _chunks(receive),
                    declared,
                    settings.max_upload_bytes,
                    self.spool_dir,
                    headers.get("content-type", ""),
                )
            elif declared is not None or "transfer-encoding" in headers:
                req.body = await read_within(_chunks(receive), declared, settings.max_body_bytes)
            # else: HTTP/1.1 has no body without either header (RFC 9112 §6.3); nothing to read
            return await self.call(req)
        except APIError as err:
            return await self._refused(err, req)
        except ClientDisconnect:
            # Routine (a dropped connection, or one refused as too slow): one line, no traceback,
            # and no path (it may hold a token; the access log line of this request id has it redacted).
            log.info("client disconnected before its body arrived (%s, request %s)", method, request_id)
            gone = BadRequest("The client disconnected before the whole body arrived.")
            return error_response(gone, request_id, api=api)
        except Exception as exc:
            return self._failed(exc, req, scope["path"])
        finally:
            if req._upload is not None:
                req._upload.close()


# Where `Endpoint.answer_now` leaves, in the scope's state, what `Endpoint.answer` takes over.
_PREPARED = "stackyard.prepared"


def prepared(scope: Scope) -> bool:
    """Has `answer_now` already run this request's handler (its result waits for `answer`)?"""
    return _PREPARED in scope.get("state", ())


async def _render_when_done(result: Any, req: Req) -> Response:
    """`render` of a handler's answer, a `Later` waited for first."""
    if isinstance(result, Later):
        result = await result.answer()
    return render(result, req)


def _whole(result: Any) -> bool:
    """Can `answer_now` send this result as it is: JSON, or a response whose body is all there
    (not streamed, no background work)? (A `Later` is waited for on the ASGI path.)"""
    if isinstance(result, Later):
        return False
    if isinstance(result, Response):
        return type(result) in (Response, JSONResponse) and result.background is None
    return True


@dataclass(slots=True)
class _Prepared:
    req: Req
    path: str
    result: Any = None
    error: APIError | None = None
    thread: bool = False  # the handler wants to write: run it on a thread


def endpoint(
    app_state: AppState, handler: Handler, *, api: str = "cma", stream: bool = False, inline: bool = False
) -> Endpoint:
    """The ASGI endpoint running `handler`; errors are rendered in `api`'s shape."""
    return Endpoint(app_state, handler, api=api, stream=stream, inline=inline)


async def _chunks(receive: Receive) -> AsyncIterator[bytes]:
    """The request body as it arrives; a disconnect before its end is `ClientDisconnect`."""
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "http.request":
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return
        elif kind == "http.disconnect":
            raise ClientDisconnect()


def _refuse_nul(req: Req, raw_query: bytes = b"") -> None:
    """NUL characters mean nothing in a uid or a query, and PostgreSQL cannot store them: refuse
    them up front (400) rather than let a query fail deep in a handler (500). A query string whose
    raw bytes hold neither a NUL nor `%00` cannot decode to one, and is not looked at further."""
    query_may = not raw_query or b"\x00" in raw_query or b"%00" in raw_query
    if any("\x00" in v for v in req.path.values()) or (
        query_may and any("\x00" in k or "\x00" in v for k, v in req.query.multi_items())
    ):
        raise BadRequest("The URL contains a NUL character.", errors={"url": ["must not contain NUL."]})


def _specificity(path: str) -> tuple[int, ...]:
    """Literal segments before parameters, so /content_types/import wins over /content_types/{uid}."""
    return tuple(1 if seg.startswith("{") else 0 for seg in path.strip("/").split("/"))


def build_routes(app_state: AppState, routers: list[Router]) -> list[APIRoutes]:
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
        table: list[tuple[str, str, Any]] = [
            (m, p, endpoint(app_state, h, api=api, stream=(m, p) in r.streaming, inline=(m, p) in r.inline))
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
