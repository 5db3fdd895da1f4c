"""st2 auth: `POST /auth/v1/tokens` (HTTP Basic), token validation, `GET /api/v1/user`, API keys."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stackyard.api.routing import Req, Router
from stackyard.api.st2.common import API, counted, flag, no_content, obj, page, principal, route
from stackyard.automation import auth

router = Router(api="st2")


@route(router, "POST", "/auth/v1/tokens")
def create_token(r: Req) -> tuple[int, dict[str, Any]]:
    r.throttle_account_call()
    token = auth.login(r.db, r.headers.get("authorization"), obj(r), r.settings)
    r.response_headers["X-API-URL"] = "/api/v1"
    return 201, token


@route(router, "POST", "/auth/v1/tokens/validate")
def validate_token(r: Req) -> dict[str, Any]:
    data = obj(r)
    with r.db.read() as tx:
        principal(r, tx)
        return auth.validate(tx, data.get("token"))


@route(router, "GET", API + "/user")
def whoami(r: Req) -> dict[str, Any]:
    with r.db.read() as tx:
        return auth.whoami(principal(r, tx))


@route(router, "GET", API + "/apikeys")
def list_keys(r: Req) -> list[dict[str, Any]]:
    with r.db.read() as tx:
        p = principal(r, tx)
        offset, limit = page(r, p, 50)
        items, total = auth.list_keys(
            tx, p, r.query.get("user"), flag(r, "show_secrets"), offset, limit or 10**9
        )
        return counted(r, items, total, limit)


@route(router, "GET", API + "/apikeys/{key}")
def get_key(r: Req) -> dict[str, Any]:
    with r.db.read() as tx:
        return auth.get_key(tx, principal(r, tx), r.path["key"], flag(r, "show_secrets"))


@route(router, "POST", API + "/apikeys")
def create_key(r: Req) -> tuple[int, dict[str, Any]]:
    data = obj(r)
    with r.db.write() as tx:
        return 201, auth.create_key(tx, principal(r, tx), data)


@route(router, "PUT", API + "/apikeys/{key}")
def update_key(r: Req) -> dict[str, Any]:
    data = obj(r)
    with r.db.write() as tx:
        return auth.update_key(tx, principal(r, tx), r.path["key"], data)


@route(router, "DELETE", API + "/apikeys/{key}")
def delete_key(r: Req) -> Response:
    with r.db.write() as tx:
        auth.delete_key(tx, principal(r, tx), r.path["key"])
    return no_content()
