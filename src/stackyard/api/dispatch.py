"""Which API a request belongs to, and each API's own route table (DESIGN §2).

    /v3/...                                   cma, or cda when the request carries a delivery credential
    /auth/v1/..., /api/v1/..., /stream/v1/...  st2
    /identity/v1/..., /stack/v1/..., /cdn/v1/... stackpath
    anything else (/healthz, /openapi.json...) system

CMA and CDA share `/v3` paths, as Contentstack's two hosts do, so there the credential decides: a
request with `api_key` and `access_token` headers and an `environment` (header or query parameter)
is a delivery request; anything else is management (DESIGN §7). `classify` is a pure function of
path, headers and query; the middleware calls it once per request and leaves the answer in
`scope["state"]["api"]`, where routing and every error handler find it (`api_of`).

Each API has a route table of its own, so the same `/v3` path can mean one handler to the CMA and
another to the CDA. A delivery request the CDA's table does not match goes on to the CMA's, so a
delivery token on a management route is refused there as such (401, error_code 107) rather than
not found. An API declared with no routes yet answers 501 in its own error shape.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound, Route, get_route_path
from starlette.types import Receive, Scope, Send

from stackyard.api.errors import error_response, not_supported_yet
from stackyard.errors import ServerError

log = logging.getLogger("stackyard.server")

API = Literal["cma", "cda", "st2", "stackpath", "system"]
Reply = tuple[int, list[tuple[bytes, bytes]], bytes]  # a whole answer: status, raw headers, body
APIS: tuple[API, ...] = ("cma", "cda", "st2", "stackpath")

# First path segment, or first two: the API they belong to ("cma" standing for both /v3 APIs).
_PREFIXES: dict[str, API] = {
    "v3": "cma",
    "auth/v1": "st2",
    "api/v1": "st2",
    "stream/v1": "st2",
    "identity/v1": "stackpath",
    "stack/v1": "stackpath",
    "cdn/v1": "stackpath",
    "billing/v1": "stackpath",
    "delivery/v1": "stackpath",
    "waf/v1": "stackpath",
    "waf/v2": "stackpath",
    "dns/v1": "stackpath",
}


def api_of_path(path: str) -> API:
    """The API a path's prefix names; "cma" for every /v3 path (the credential may make it "cda")."""
    parts = path.split("/", 3)
    if len(parts) > 1 and parts[1] == "v3":
        return "cma"
    return _PREFIXES.get("/".join(parts[1:3]), "system") if len(parts) > 2 else "system"


def classify(path: str, headers: Mapping[str, str], query: Mapping[str, str]) -> API:
    """Which API answers a request; `headers` with lowercase names."""
    api = api_of_path(path)
    if (
        api == "cma"
        and headers.get("api_key")
        and headers.get("access_token")
        and (headers.get("environment") or query.get("environment"))
    ):
        return "cda"
    return api


_DELIVERY_HEADERS = (b"api_key", b"access_token", b"environment")


def classify_scope(scope: Scope) -> API:
    """`classify` for an ASGI scope, decoding only the headers and query it needs."""
    path = scope["path"]
    api = api_of_path(path)
    if api != "cma":
        return api
    headers = {
        k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"] if k in _DELIVERY_HEADERS
    }
    query: dict[str, str] = {}
    if headers.get("api_key") and headers.get("access_token") and not headers.get("environment"):
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    return classify(path, headers, query)


def api_of(scope: Scope) -> API:
    """The request's API: as the middleware classified it, or classified now (apps without it)."""
    state = scope.setdefault("state", {})
    api: API | None = state.get("api")
    if api is None:
        api = state["api"] = classify_scope(scope)
    return api


def _shape(path: str) -> tuple[int, tuple[str, ...]]:
    """How many slashes a path has, and its first two segments."""
    return path.count("/"), tuple(path.split("/")[1:3])


def _third(path: str) -> str | None:
    """A path's third segment; None when it is a parameter."""
    segments = path.split("/")
    third = segments[3] if len(segments) > 3 else ""
    return None if "{" in third else third


class IndexedRoutes(BaseRoute):
    """Our routes, tried in the same order as a flat list, but only those that could match.

    A `{param}` never spans a `/`, so a route matches only paths with as many slashes as its own,
    and, when its first two segments are literal (`/v3/environments/...`), only paths that begin
    with them, and with its third when that is literal too (every st2 path begins /api/v1/).
    Starlette would otherwise try every route's regex on every request; with a hundred
    routes that costs more than the handler of a short read. With `indexed=False` (a `{p:path}`
    parameter may span segments) every route is tried.

    A path that matches with another method answers 405 with an `Allow` header naming every method
    any route takes for that path (Starlette's own names only the first route's).
    """

    def __init__(self, routes: list[Route], *, indexed: bool = True) -> None:
        self.routes = routes
        self.indexed = indexed
        # (slashes, literal head, or None when a parameter is among the first two segments)
        shapes: list[tuple[int, tuple[str, ...] | None]] = []
        for r in routes:
            count, head = _shape(r.path)
            shapes.append((count, None if any("{" in seg for seg in head) else head))
        self._generic: dict[int, list[Route]] = {}
        self._by_head: dict[tuple[int, tuple[str, ...]], list[Route]] = {}
        for count, literal in set(shapes):
            if literal is not None:
                self._by_head[(count, literal)] = [
                    r for r, (c, h) in zip(routes, shapes, strict=True) if c == count and h in (literal, None)
                ]
        for r, (count, maybe) in zip(routes, shapes, strict=True):
            if maybe is None:
                self._generic.setdefault(count, []).append(r)
        # Narrower still by a literal third segment (/api/v1/<resource>/...: one head for all of st2).
        self._by_third: dict[tuple[int, tuple[str, ...], str], list[Route]] = {}
        for (count, literal), found in self._by_head.items():
            thirds = {_third(r.path) for r in found} - {None, ""}
            for third in thirds:
                self._by_third[(count, literal, third or "")] = [
                    r for r in found if _third(r.path) in (third, None)
                ]

    def _candidates(self, path: str) -> list[Route]:
        if not self.indexed:
            return self.routes
        count, head = _shape(path)
        narrow = self._by_third.get((count, head, _third(path) or ""))
        if narrow is not None:
            return narrow
        found = self._by_head.get((count, head))
        return found if found is not None else self._generic.get(count, [])

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        partial: Scope | None = None
        allowed: set[str] = set()
        for route in self._candidates(get_route_path(scope)):
            match, child = route.matches(scope)
            if match is Match.FULL:
                return Match.FULL, {**child, "stackyard.route": route}
            if match is Match.PARTIAL:
                allowed |= route.methods or set()
                if partial is None:
                    partial = child
        if partial is not None:
            return Match.PARTIAL, {**partial, "stackyard.allow": allowed}
        return Match.NONE, {}

    def resolve(self, scope: Scope) -> tuple[Any, dict[str, Any]] | None:
        """The ASGI app and path parameters of the route that fully matches `scope`, if one does:
        the route `matches` would find, without building the child scopes it answers."""
        path = get_route_path(scope)
        method = scope["method"]
        for route in self._candidates(path):
            found = route.path_regex.match(path)
            if found is not None and method in (route.methods or ()):
                params = found.groupdict()
                for key, value in params.items():
                    params[key] = route.param_convertors[key].convert(value)
                return route.app, params
        return None

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        allowed = scope.get("stackyard.allow")
        if allowed is not None:
            raise HTTPException(status_code=405, headers={"Allow": ", ".join(sorted(allowed))})
        route: Route = scope["stackyard.route"]
        scope["route"] = route
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)


# The table a request of an API goes on to when its own has no route for it.
_FALLBACK = {"cda": "cma"}


class APIRoutes(BaseRoute):
    """One route table per API; a request is matched against its own API's table (and, for the
    CDA, then the CMA's: the first full match wins, else the first partial one, a 405).

    An API in `pending` (declared, no routes yet) answers every request with 501 in its shape.
    Requests no table matches fall through to the app's 404, rendered in the request's shape.
    """

    def __init__(self, tables: dict[str, IndexedRoutes], pending: set[str]) -> None:
        self.tables = tables
        self.pending = pending

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        api = api_of(scope)
        if api in self.pending:
            return Match.FULL, {"stackyard.pending": api}
        partial: tuple[Match, Scope] | None = None
        for name in (api, _FALLBACK.get(api)):
            table = self.tables.get(name) if name else None
            if table is None:
                continue
            match, child = table.matches(scope)
            if match is Match.FULL:
                return match, {**child, "stackyard.table": table}
            if match is Match.PARTIAL and partial is None:
                partial = match, {**child, "stackyard.table": table}
        return partial or (Match.NONE, {})

    def resolve(self, scope: Scope) -> tuple[Any, dict[str, Any]] | None:
        """The app and path parameters of the route `matches` would call for a full match, if
        there is one (a pending API answers through `handle`, so it resolves to None)."""
        api = api_of(scope)
        if api in self.pending:
            return None
        for name in (api, _FALLBACK.get(api)):
            table = self.tables.get(name) if name else None
            if table is not None:
                found = table.resolve(scope)
                if found is not None:
                    return found
        return None

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        api = scope.get("stackyard.pending")
        if api is None:
            await scope["stackyard.table"].handle(scope, receive, send)
            return
        err = not_supported_yet(api, scope["method"], scope["path"])
        response = error_response(err, scope.get("state", {}).get("request_id", ""), api=api)
        await response(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        for table in self.tables.values():
            try:
                return table.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)


def planned_endpoint(api: str) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint of a path an API will serve but does not yet: 501 in `api`'s shape."""

    async def planned(request: Request) -> Response:
        request_id = request.scope.get("state", {}).get("request_id", "")
        err = not_supported_yet(api, request.method, request.url.path)
        return error_response(err, request_id, api=api)

    return planned


# Where `Dispatch.answer_now` leaves the route it found, for `Dispatch.__call__` (see there).
_RESOLVED = "stackyard.resolved"


class Dispatch:
    """The server's front door to the API route tables: a request one of them matches fully goes
    straight to its route's endpoint, without Starlette's middleware, router and exception layers
    (a short read costs little more than those layers did). Everything else — no route, another
    method (405), the system routes (/healthz, /openapi.json) — goes on to `app`, the Starlette
    app holding the same tables, which answers as before.

    An exception escaping an endpoint (they render their own errors, so only a failure while
    sending) is logged and, when no answer has started, answered 500 in the request's API shape.
    """

    def __init__(self, app: Any, routes: APIRoutes) -> None:
        self.app = app
        self.routes = routes
        # `answer_now` can say more than None: some route runs its handler on the loop
        self.answers_now = any(
            getattr(route.app, "inline", False) for table in routes.tables.values() for route in table.routes
        )

    def answer_now(self, scope: Scope) -> Reply | None:
        """The whole answer, when the route that fully matches `scope` can give it without the ASGI
        cycle (`routing.Endpoint.answer_now`); None sends the request on to `__call__`, which takes
        the route found here. (An exception here is the HTTP protocol's to handle: it sends the
        request on to the ASGI path, which answers it.)"""
        found = self.routes.resolve(scope)
        if found is None:
            return None
        app, params = found
        now = getattr(app, "answer_now", None)
        if now is None:
            return None
        scope["path_params"] = params
        scope["state"][_RESOLVED] = found
        answer: Reply | None = now(scope)
        return answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = scope.get("state", {}).pop(_RESOLVED, None) or self.routes.resolve(scope)
            if found is not None:
                app, scope["path_params"] = found
                await self._handle(app, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _handle(self, app: Any, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def sending(message: Any) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await app(scope, receive, sending)
        except Exception:
            log.exception("unhandled error")
            if started:
                raise
            request_id = scope.get("state", {}).get("request_id", "")
            await error_response(ServerError(), request_id, api=api_of(scope))(scope, receive, send)
