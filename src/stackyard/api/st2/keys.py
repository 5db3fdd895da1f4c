"""st2 key-value store: /keys."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stackyard.api.routing import Req, Router
from stackyard.api.st2.common import API, flag, no_content, obj, page, principal, route
from stackyard.automation import keys

router = Router(api="st2")


@route(router, "GET", API + "/keys")
def list_keys(r: Req) -> list[dict[str, Any]]:
    q = r.query
    with r.db.read() as tx:
        p = principal(r, tx)
        offset, limit = page(r, p, 100)
        return keys.list_(
            tx,
            p,
            r.settings,
            scope=q.get("scope"),
            user=q.get("user"),
            prefix=q.get("prefix"),
            decrypted=flag(r, "decrypt"),
            offset=offset,
            limit=limit,
            name=q.get("name"),
        )


@route(router, "GET", API + "/keys/{name}")
def get_key(r: Req) -> dict[str, Any]:
    with r.db.read() as tx:
        p = principal(r, tx)
        return keys.get(
            tx, p, r.settings, r.path["name"], r.query.get("scope"), r.query.get("user"), flag(r, "decrypt")
        )


@route(router, "PUT", API + "/keys/{name}")
def put_key(r: Req) -> dict[str, Any]:
    data = obj(r)
    with r.db.write() as tx:
        return keys.put(tx, principal(r, tx), r.settings, r.path["name"], data)


@route(router, "DELETE", API + "/keys/{name}")
def delete_key(r: Req) -> Response:
    with r.db.write() as tx:
        keys.delete(tx, principal(r, tx), r.path["name"], r.query.get("scope"), r.query.get("user"))
    return no_content()
