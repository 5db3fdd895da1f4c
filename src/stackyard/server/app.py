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

from stackyard.api.routing import JSONResponse, Router, build_routes, error_response
from stackyard.api.state import AppState
from stackyard.core.ratelimit import RateLimiter
from stackyard.errors import APIError
from stackyard.server import openapi
from stackyard.server.background import Background
from stackyard.server.middleware import RequestContext
from stackyard.settings import Settings
from stackyard.store import migrations
from stackyard.store.engine import Database

log = logging.getLogger("stackyard.server")


def all_routers() -> list[Router]:
    """Every domain's routers. A new resource module adds its router here."""
    from stackyard.api.cma import ROUTERS as CMA
    from stackyard.api.cma.identity import router as identity

    return [identity, *CMA]


def create_app(settings: Settings, db: Database | None = None) -> Starlette:
    """The whole server as one ASGI app. Applies migrations before accepting requests."""
    owns_db = db is None
    db = db or Database(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        group_commit=settings.sqlite_group_commit,
    )
    migrations.upgrade(db)
    limits: dict[str, tuple[float, float]] = {"auth": (settings.auth_attempts_per_minute / 60, 60.0)}
    if settings.rate_limit_enabled:
        limits["read"] = (settings.rate_limit_reads, settings.rate_limit_burst_seconds)
        limits["write"] = (settings.rate_limit_writes, settings.rate_limit_burst_seconds)
    limiter = RateLimiter(limits)
    state = AppState(settings=settings, db=db, limiter=limiter)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "database": db.dialect})

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: 116, 405: 115}.get(exc.status_code, 100)
        err = APIError(None if code != 100 else str(exc.detail), error_code=code, status=exc.status_code)
        return error_response(err, request.scope.get("state", {}).get("request_id", ""))

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        err = APIError(error_code=500, status=500)
        return error_response(err, request.scope.get("state", {}).get("request_id", ""))

    routers = all_routers()
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        openapi.route(routers),
        *build_routes(state, routers),
    ]

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        background = Background(db, settings)
        await background.start()
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
    wrapped: Any = RequestContext(
        app, max_body_bytes=settings.max_body_bytes, log_requests=settings.access_log
    )
    wrapped.state = state
    return wrapped
