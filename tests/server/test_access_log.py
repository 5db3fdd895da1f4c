"""The access log as `serve` sets it up: one JSON line per request on its stream, no credentials."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import anyio
import httpx
import pytest

from stackyard.server.app import create_app
from stackyard.server.middleware import access_log
from stackyard.settings import Settings
from stackyard.store.engine import Database


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """The access logger with one plain stream handler, as `serve.configure_logging` leaves it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(message)s"))
    saved = access_log.handlers, access_log.propagate, access_log.level
    access_log.handlers, access_log.propagate = [handler], False
    access_log.setLevel(logging.INFO)
    try:
        yield out
    finally:
        access_log.handlers, access_log.propagate = saved[0], saved[1]
        access_log.setLevel(saved[2])


def test_one_line_per_request_without_credentials(
    db: Database, settings: Settings, stream: io.StringIO
) -> None:
    app = create_app(settings.replace(access_log=True), db)

    async def drive() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await client.get("/healthz")
            await client.get(
                "/v3/environments", headers={"authtoken": "secret-token-value", "api_key": "blt1"}
            )

    anyio.run(drive)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("GET", "/healthz", 200),
        ("GET", "/v3/environments", 401),
    ]
    assert all(line["request_id"] and line["api"] for line in lines)
    assert "secret-token-value" not in stream.getvalue()
