"""Assembling the ASGI app: state, routes of every domain, middleware and error handlers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stackyard.api.asset_first import AssetFirst
from stackyard.api.cda.cache_first import CacheFirst
from stackyard.api.dispatch import Dispatch, api_of
from stackyard.api.errors import error_response, route_not_found
from stackyard.api.routing import JSONResponse, Router, build_routes
from stackyard.api.state import AppState
from stackyard.content.assets import storage as asset_storage
from stackyard.content.delivery import cache as delivery_cache
from stackyard.content.entries import validation
from stackyard.core import cache, heap
from stackyard.core.ratelimit import RateLimiter
from stackyard.errors import APIError, ServerError
from stackyard.server import listen, openapi
from stackyard.server.background import Background
from stackyard.server.middleware import RequestContext
from stackyard.settings import Settings
from stackyard.store import migrations
from stackyard.store.engine import Database

log = logging.getLogger("stackyard.server")


def all_routers() -> list[Router]:
    """Every API's routers. A new resource module adds its router to its API package's ROUTERS."""
    from stackyard.api.cda import ROUTERS as CDA
    from stackyard.api.cma import ROUTERS as CMA
    from stackyard.api.cma.identity import router as identity
    from stackyard.api.st2 import ROUTERS as ST2
    from stackyard.api.stackpath import ROUTERS as STACKPATH

    return [identity, *CMA, *CDA, *ST2, *STACKPATH]


def create_app(
    settings: Settings, db: Database | None = None, extra_routers: list[Router] | None = None
) -> Starlette:
    """The whole server as one ASGI app. Applies migrations before accepting requests.

    `extra_routers` are served beside `all_routers()` (tests use it for routes of their own)."""
    owns_db = db is None
    db = db or Database(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        group_commit=settings.sqlite_group_commit,
    )
    migrations.upgrade(db)
    db.limit_queries(settings.query_timeout_ms)
    validation.configure(db, max_field_items=settings.max_field_items)
    cache.configure(db, max_entries=settings.cache_entries, catch_up=settings.cache_catch_up_events)
    responses = delivery_cache.configure(db, max_bytes=settings.delivery_cache_bytes)
    limits: dict[str, tuple[float, float]] = {
        "auth": (settings.auth_attempts_per_minute / 60, 60.0),
        "failed_auth": (settings.failed_auth_per_minute / 60, 60.0),
    }
    if settings.rate_limit_enabled:
        limits["read"] = (settings.rate_limit_reads, settings.rate_limit_burst_seconds)
        limits["write"] = (settings.rate_limit_writes, settings.rate_limit_burst_seconds)
    limiter = RateLimiter(limits)
    state = AppState(settings=settings, db=db, limiter=limiter)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "database": db.dialect, "delivery_cache": responses.snapshot()})

    async def http_error(request: Request, exc: Exception) -> Response:
        """Starlette's own answers (no route: 404, another method: 405 with Allow), in the API's shape."""
        assert isinstance(exc, HTTPException)
        api = api_of(request.scope)
        if exc.status_code == 404:
            err = route_not_found(api, request.url.path)
        elif exc.status_code == 405:
            err = APIError(error_code=115)
        else:
            err = APIError(str(exc.detail), status=exc.status_code)
        request_id = request.scope.get("state", {}).get("request_id", "")
        return error_response(err, request_id, dict(exc.headers or {}), api=api)

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        request_id = request.scope.get("state", {}).get("request_id", "")
        return error_response(ServerError(), request_id, api=api_of(request.scope))

    routers = [*all_routers(), *(extra_routers or [])]
    tables = build_routes(state, routers)
    routes = [Route("/healthz", healthz, methods=["GET"]), openapi.route(routers), *tables]

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        background = Background(db, settings)
        await background.start()
        heap.settle()  # what start-up made lives on: later collections need not walk it (core.heap)
        await listen.wait_at_gate()  # with --workers: they listen together (`listen.StartGate`)
        try:
            yield
        finally:
            await background.stop()
            if owns_db:
                db.close()

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    # A trailing-slash miss is a JSON 404 like any other, not a 307 with an empty body.
    app.router.redirect_slashes = False
    app.state.stackyard = state
    # The middleware refuses, unread, a body no route would take; each route applies its own limit.
    streams = any(r.streaming for r in routers)
    asset_storage.configure(db, settings)  # for asset work outside requests (bulk deletes, the demo)
    # Delivery reads answered from the response cache skip routing and everything after it; public
    # asset URLs whose derived image is made are answered before routing (`api.asset_first`).
    assets_first = AssetFirst(Dispatch(app, tables[0]), db, settings.image_cache_entries)
    front = CacheFirst(assets_first, db, enabled=settings.delivery_cache_bytes > 0)
    wrapped: Any = RequestContext(
        front,
        max_body_bytes=max(settings.max_body_bytes, settings.max_upload_bytes if streams else 0),
        log_requests=settings.access_log,
    )
    wrapped.state = state
    return wrapped
