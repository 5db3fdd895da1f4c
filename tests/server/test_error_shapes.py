"""Every error path answers in the shape of the API the request belongs to, with the same status.

Contentstack (CMA, CDA): {"error_message", "error_code", "errors"}; StackStorm: {"faultstring"};
StackPath: {"code", "message", "details"}. Each API gets probe routes of its own in a test app,
and every path is driven through it: a handler's APIError, 404, 405, 413 (middleware, route,
chunked, streamed), 429, 500 and bad JSON.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest

from stackyard.api.dispatch import classify
from stackyard.api.routing import Req, Router, build_routes
from stackyard.api.state import AppState
from stackyard.core.ratelimit import RateLimiter
from stackyard.errors import CODES, Forbidden, RateLimited, invalid
from stackyard.server.app import create_app
from stackyard.settings import Settings
from stackyard.store.engine import Database

CONTENTSTACK = {"error_message", "error_code", "errors"}
DELIVERY = {
    "api_key": "blt0123456789abcdef",
    "access_token": "cs0123456789abcdef",
    "environment": "production",
}
# What each probe answers, and the gRPC code StackPath puts in `code` for that status.
STATUS = {
    "handler_error": 403,
    "validation": 422,
    "no_route": 404,
    "wrong_method": 405,
    "too_large_before_routing": 413,
    "too_large_declared": 413,
    "too_large_chunked": 413,
    "upload_too_large": 413,
    "rate_limited": 429,
    "unhandled": 500,
    "bad_json": 400,
}
GRPC = {400: 3, 403: 7, 404: 5, 405: 12, 413: 8, 422: 3, 429: 8, 500: 13, 501: 12}
CONTENTSTACK_CODES = {
    "handler_error": 161,
    "validation": 120,
    "no_route": 116,
    "wrong_method": 115,
    "too_large_before_routing": 113,
    "too_large_declared": 113,
    "too_large_chunked": 113,
    "upload_too_large": 113,
    "rate_limited": 429,
    "unhandled": 500,
    "bad_json": 101,
}


def probe_router(api: str, prefix: str) -> Router:
    router = Router(api=api)

    @router.get(prefix + "/forbidden")
    def forbidden(r: Req) -> Any:
        raise Forbidden("Not yours.")

    @router.post(prefix + "/invalid")
    def invalid_name(r: Req) -> Any:
        raise invalid({"name": ["is required.", "must be text."]})

    @router.post(prefix + "/echo")
    def echo(r: Req) -> Any:
        return {"echo": r.json()}

    @router.post(prefix + "/upload", stream=True)
    def upload(r: Req) -> Any:
        return {"size": r.upload.size}

    @router.get(prefix + "/busy")
    def busy(r: Req) -> Any:
        raise RateLimited(retry_after=2.2)

    @router.get(prefix + "/boom")
    def boom(r: Req) -> Any:
        raise RuntimeError("a bug")

    return router


def probe_app(settings: Settings, db: Database, api: str, prefix: str) -> Any:
    # bodies: 1000 bytes for plain routes, 5000 for streaming ones (the middleware's outer limit)
    limited = settings.replace(max_body_bytes=1000, max_upload_bytes=5000)
    return create_app(limited, db, extra_routers=[probe_router(api, prefix)])


async def _chunks(data: bytes, size: int = 256) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def drive(app: Any, prefix: str, headers: dict[str, str]) -> dict[str, httpx.Response]:
    """Every error path of the probe routes under `prefix`, by name (see STATUS)."""
    big = b'{"a": "' + b"x" * 2000 + b'"}'
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as c:
        answers = {
            "handler_error": await c.get(prefix + "/forbidden"),
            "validation": await c.post(prefix + "/invalid", json={}),
            "no_route": await c.get(prefix + "/nowhere"),
            "wrong_method": await c.delete(prefix + "/echo"),
            # declared over every route's limit: refused by the middleware, even where no route is
            "too_large_before_routing": await c.post(prefix + "/nowhere", content=b"x" * 6000),
            "too_large_declared": await c.post(prefix + "/echo", content=big),
            "too_large_chunked": await c.post(prefix + "/echo", content=_chunks(big)),
            "upload_too_large": await c.post(prefix + "/upload", content=_chunks(b"x" * 6000)),
            "rate_limited": await c.get(prefix + "/busy"),
            "unhandled": await c.get(prefix + "/boom"),
            "bad_json": await c.post(prefix + "/echo", content=b'{"a": '),
        }
        # and the same routes still answer what they accept
        ok = await c.post(prefix + "/echo", json={"a": 1})
        assert ok.status_code == 200 and ok.json() == {"echo": {"a": 1}}, ok.text
        ok = await c.post(prefix + "/upload", content=_chunks(b"x" * 4000))
        assert ok.status_code == 200 and ok.json() == {"size": 4000}, ok.text
    return answers


def check_common(name: str, r: httpx.Response) -> dict[str, Any]:
    """Status, JSON, request id and the headers that must survive every shape."""
    assert r.status_code == STATUS[name], (name, r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json"), name
    assert r.headers.get("x-request-id"), name
    if name == "wrong_method":
        assert r.headers["allow"] == "POST"
    if name == "rate_limited":
        assert r.headers["retry-after"] == "3"
    body = r.json()
    assert isinstance(body, dict), (name, body)
    return body


def check_contentstack(answers: dict[str, httpx.Response]) -> None:
    for name, r in answers.items():
        body = check_common(name, r)
        assert set(body) == CONTENTSTACK, (name, body)
        assert isinstance(body["error_message"], str) and body["error_message"], name
        assert body["error_code"] == CONTENTSTACK_CODES[name], (name, body)
        assert isinstance(body["errors"], dict | list), name
    assert answers["validation"].json()["errors"] == {"name": ["is required.", "must be text."]}
    assert "body" in answers["bad_json"].json()["errors"]


def test_cma_errors_have_the_contentstack_shape(db: Database, settings: Settings) -> None:
    app = probe_app(settings, db, "cma", "/v3/probe")
    check_contentstack(anyio.run(drive, app, "/v3/probe", {}))


def test_cda_errors_have_the_contentstack_shape(db: Database, settings: Settings) -> None:
    # given delivery probe routes on the /v3 paths the CMA also serves
    app = probe_app(settings, db, "cda", "/v3/probe")
    # when every error path is driven with a delivery credential
    check_contentstack(anyio.run(drive, app, "/v3/probe", DELIVERY))

    async def more() -> tuple[httpx.Response, ...]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            in_query = {k: v for k, v in DELIVERY.items() if k != "environment"}
            return (
                await c.get("/v3/probe/forbidden", headers=in_query, params={"environment": "production"}),
                await c.get("/v3/probe/forbidden", headers=in_query),
                await c.get("/v3/taxonomies", headers=DELIVERY),
            )

    env_in_query, no_environment, planned = anyio.run(more)
    # then the environment may come as a query parameter too
    assert env_in_query.status_code == 403
    # and without one the request is the CMA's, which has no such route
    assert no_environment.status_code == 404 and no_environment.json()["error_code"] == 116
    # and the delivery paths without a route yet still answer 501
    assert planned.status_code == 501 and planned.json()["error_code"] == 501


def test_st2_errors_have_the_stackstorm_shape(db: Database, settings: Settings) -> None:
    app = probe_app(settings, db, "st2", "/api/v1/probe")
    answers = anyio.run(drive, app, "/api/v1/probe", {"X-Auth-Token": "t"})
    for name, r in answers.items():
        body = check_common(name, r)
        assert set(body) == {"faultstring"}, (name, body)
        assert isinstance(body["faultstring"], str) and body["faultstring"], name
    assert answers["no_route"].json()["faultstring"] == 'No route matches "/api/v1/probe/nowhere" path'
    assert answers["handler_error"].json()["faultstring"] == "Not yours."
    assert answers["unhandled"].json()["faultstring"] == CODES[500][1]
    assert answers["unhandled"].json()["faultstring"] != "a bug"  # internals stay in the log


def test_stackpath_errors_have_the_stackpath_shape(db: Database, settings: Settings) -> None:
    app = probe_app(settings, db, "stackpath", "/stack/v1/probe")
    answers = anyio.run(drive, app, "/stack/v1/probe", {"Authorization": "Bearer t"})
    for name, r in answers.items():
        body = check_common(name, r)
        assert set(body) == {"code", "message", "details"}, (name, body)
        assert body["code"] == GRPC[r.status_code], (name, body)
        assert isinstance(body["message"], str) and body["message"], name
        info = [d for d in body["details"] if d["@type"] == "stackpath.rpc.RequestInfo"]
        assert info == [{"@type": "stackpath.rpc.RequestInfo", "requestId": r.headers["x-request-id"]}]
    details = answers["validation"].json()["details"]
    assert {
        "@type": "stackpath.rpc.BadRequest",
        "fieldViolations": [
            {"field": "name", "description": "is required."},
            {"field": "name", "description": "must be text."},
        ],
    } in details


def test_apis_without_routes_answer_501_in_their_own_shape(db: Database, settings: Settings) -> None:
    # given the real app, where StackStorm and StackPath have no routes yet, nor some delivery paths
    app = create_app(settings, db)

    async def go() -> dict[str, httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            return {
                "st2": await c.get("/api/v1/actions"),
                "st2_auth": await c.post("/auth/v1/tokens", json={}),
                "stackpath": await c.get("/stack/v1/stacks"),
                "cda": await c.get("/v3/taxonomies", headers=DELIVERY),
                "cda_entries": await c.get("/v3/taxonomies/entries", headers=DELIVERY),
                "cda_management_route": await c.get("/v3/environments", headers=DELIVERY),
                "cda_no_route": await c.get("/v3/nowhere", headers=DELIVERY),
                "cma": await c.get("/v3/user", headers={k: DELIVERY[k] for k in ("api_key", "access_token")}),
            }

    answers = anyio.run(go)
    for name in ("st2", "st2_auth", "stackpath", "cda", "cda_entries"):
        assert answers[name].status_code == 501, (name, answers[name].text)
        assert answers[name].headers.get("x-request-id")
    assert answers["st2"].json() == {
        "faultstring": "The StackStorm API is not supported by this server yet: GET /api/v1/actions"
    }
    assert answers["st2_auth"].json()["faultstring"].endswith("POST /auth/v1/tokens")
    stackpath = answers["stackpath"].json()
    assert set(stackpath) == {"code", "message", "details"} and stackpath["code"] == 12
    assert (
        stackpath["message"] == "The StackPath API is not supported by this server yet: GET /stack/v1/stacks"
    )
    assert answers["cda"].json() == {
        "error_message": "Content delivery is not supported by this server yet: GET /v3/taxonomies",
        "error_code": 501,
        "errors": {},
    }
    # a delivery request for a path the CDA will never serve goes on to the CMA, refused there
    assert answers["cda_management_route"].status_code == 401
    assert set(answers["cda_management_route"].json()) == CONTENTSTACK
    assert answers["cda_no_route"].status_code == 404
    assert answers["cda_no_route"].json()["error_code"] == 116
    # and a delivery token without an environment is a management request, refused as such
    assert answers["cma"].status_code == 401 and set(answers["cma"].json()) == CONTENTSTACK


def test_a_route_for_a_planned_delivery_path_replaces_the_501(db: Database, settings: Settings) -> None:
    # given a CDA route for one of the planned delivery paths
    router = Router(api="cda")

    @router.get("/v3/taxonomies")
    def taxonomies(r: Req) -> Any:
        return {"taxonomies": []}

    app = create_app(settings, db, extra_routers=[router])

    async def go() -> tuple[httpx.Response, ...]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            return (
                await c.get("/v3/taxonomies", headers=DELIVERY),
                await c.get("/v3/taxonomies/blog", headers=DELIVERY),
                await c.get("/v3/content_types"),
            )

    landed, still_planned, management = anyio.run(go)
    # then that path answers, the others still answer 501, and the CMA's route is untouched
    assert landed.status_code == 200 and landed.json() == {"taxonomies": []}
    assert still_planned.status_code == 501
    assert management.status_code == 401 and management.json()["error_code"] == 105


@pytest.mark.parametrize(
    ("path", "headers", "query", "api"),
    [
        ("/v3/content_types", {}, {}, "cma"),
        ("/v3", {"authtoken": "t"}, {}, "cma"),
        ("/v3/content_types", DELIVERY, {}, "cda"),
        ("/v3/entries", {"api_key": "k", "access_token": "t"}, {"environment": "prod"}, "cda"),
        ("/v3/entries", {"api_key": "k", "access_token": "t"}, {}, "cma"),
        ("/v3/entries", {"access_token": "t", "environment": "prod"}, {}, "cma"),
        ("/v3/entries", {"api_key": "k", "access_token": "", "environment": "prod"}, {}, "cma"),
        ("/auth/v1/tokens", {}, {}, "st2"),
        ("/api/v1", {}, {}, "st2"),
        ("/stream/v1/stream", DELIVERY, {}, "st2"),
        ("/identity/v1/oauth2/token", {}, {}, "stackpath"),
        ("/stack/v1/stacks/s/sites", {}, {}, "stackpath"),
        ("/cdn/v1/stacks", {}, {}, "stackpath"),
        ("/healthz", {}, {}, "system"),
        ("/openapi.json", {}, {}, "system"),
        ("/", {}, {}, "system"),
        ("/v3x/entries", {}, {}, "system"),
        ("/api/v2/actions", {}, {}, "system"),
        ("/api", {}, {}, "system"),
    ],
)
def test_classify(path: str, headers: dict[str, str], query: dict[str, str], api: str) -> None:
    assert classify(path, headers, query) == api


def test_a_router_serves_only_paths_of_its_api(tmp_path: Any) -> None:
    with pytest.raises(ValueError, match="unknown API"):
        Router(api="graphql")
    misplaced = Router(api="st2")

    @misplaced.get("/v3/actions")
    def actions(r: Req) -> Any:
        return {}

    state = AppState(settings=Settings(data_dir=str(tmp_path)), db=None, limiter=RateLimiter({}))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="/v3/actions is a cma path"):
        build_routes(state, [misplaced])
