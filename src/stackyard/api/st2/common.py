"""What every st2 route shares: the principal of a request, st2's paging and projection, and routes
that answer with and without a trailing slash (st2 clients send both)."""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any

from starlette.responses import Response

from stackyard.api.body import parse_json
from stackyard.api.routing import Handler, Req, Router
from stackyard.automation import auth
from stackyard.automation.common import Principal, as_bool
from stackyard.errors import BadRequest, Forbidden
from stackyard.store.engine import Tx

API = "/api/v1"


def route(router: Router, method: str, path: str, *, inline: bool = False) -> Callable[[Handler], Handler]:
    """Register a handler at `path` and at `path/` (`inline`: see `api.routing.Later`)."""

    def register(fn: Handler) -> Handler:
        router.add(method, path, inline=inline)(fn)
        router.add(method, path + "/", inline=inline)(fn)
        return fn

    return register


def principal(r: Req, tx: Tx) -> Principal:
    cookies: dict[str, str] = {}
    raw = r.headers.get("cookie")
    if raw:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(raw)
        except Exception:
            jar = SimpleCookie()
        cookies = {k: m.value for k, m in jar.items()}
    return auth.authenticate(tx, r.headers, r.query, cookies, r.request_id, r.remote_addr)


def body(r: Req) -> Any:
    """The JSON body, whatever Content-Type (st2 sends DELETE bodies without one); {} when empty."""
    if not r.body.strip():
        return {}
    return parse_json(r.body, max_depth=r.settings.max_json_depth)


def obj(r: Req) -> dict[str, Any]:
    data = body(r)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    return data


def flag(r: Req, name: str, default: bool = False) -> bool:
    return as_bool(r.query.get(name), default)


def page(r: Req, p: Principal, default: int | None) -> tuple[int, int | None]:
    """(offset, limit) by st2's rules: limit -1 is all (admins only), 0 or below -1 is a 400, more
    than the page size is for admins only."""
    raw_offset = r.query.get("offset") or "0"
    raw_limit = r.query.get("limit")
    try:
        offset = int(raw_offset)
        limit = default if raw_limit in (None, "") else int(raw_limit)
    except ValueError:
        raise BadRequest("limit and offset must be integers.") from None
    if offset < 0:
        raise BadRequest("offset must not be negative.")
    if limit is None:
        return offset, None
    if limit == -1:
        if not p.is_admin:
            raise Forbidden('Administrator access required to request "limit=-1".')
        return offset, None
    if limit <= 0:
        raise BadRequest(f'Limit, "{limit}" specified, must be a positive number.')
    if limit > r.settings.automation_max_page_size and not p.is_admin:
        raise Forbidden(
            f'Limit "{limit}" specified, maximum value is "{r.settings.automation_max_page_size}"'
        )
    return offset, limit


def counted(r: Req, items: list[dict[str, Any]], total: int, limit: int | None) -> list[dict[str, Any]]:
    r.response_headers["X-Total-Count"] = str(total)
    if limit is not None:
        r.response_headers["X-Limit"] = str(limit)
    return project(r, items)


def _names(raw: str | None) -> list[str]:
    return [n.strip().split(".", 1)[0] for n in (raw or "").split(",") if n.strip()]


def project(r: Req, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """include_attributes / exclude_attributes (top-level keys; id and ref always kept)."""
    include = _names(r.query.get("include_attributes"))
    exclude = _names(r.query.get("exclude_attributes"))
    if include and exclude:
        raise BadRequest("exclude_attributes and include_attributes arguments are mutually exclusive.")
    if include:
        keep = {*include, "id", "ref"}
        return [{k: v for k, v in item.items() if k in keep} for item in items]
    if exclude:
        return [{k: v for k, v in item.items() if k not in exclude} for item in items]
    return items


def one(r: Req, item: dict[str, Any]) -> dict[str, Any]:
    return project(r, [item])[0]


def no_content() -> Response:
    return Response(status_code=204)
