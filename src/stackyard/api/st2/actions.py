"""st2 runner types, actions and packs."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stackyard.api.routing import Req, Router
from stackyard.api.st2.common import API, counted, no_content, obj, one, page, principal, route
from stackyard.automation import actions, launch, packs
from stackyard.errors import BadRequest

router = Router(api="st2")


def _paged(r: Req, items: list[dict[str, Any]], default: int | None) -> list[dict[str, Any]]:
    with r.db.read() as tx:
        p = principal(r, tx)
    offset, limit = page(r, p, default)
    chosen = items[offset : None if limit is None else offset + limit]
    return counted(r, chosen, len(items), limit)


@route(router, "GET", API + "/runnertypes")
def list_runners(r: Req) -> list[dict[str, Any]]:
    return _paged(r, actions.runners(r.query.get("name")), 100)


@route(router, "GET", API + "/runnertypes/{name}")
def get_runner(r: Req) -> dict[str, Any]:
    with r.db.read() as tx:
        principal(r, tx)
    return one(r, actions.runner_by_name_or_id(r.path["name"]))


@route(router, "PUT", API + "/runnertypes/{name}")
def update_runner(r: Req) -> dict[str, Any]:
    with r.db.read() as tx:
        principal(r, tx).require_admin()
    found = actions.runner_by_name_or_id(r.path["name"])
    if obj(r).get("enabled", True) is not True:
        raise BadRequest("Built-in runner types cannot be disabled on this server.")
    return found


@route(router, "GET", API + "/actions")
def list_actions(r: Req) -> list[dict[str, Any]]:
    with r.db.read() as tx:
        p = principal(r, tx)
        items = actions.list_(tx, p, r.query.get("pack"), r.query.get("name"))
    return _paged(r, items, None)


@route(router, "GET", API + "/actions/{ref}")
def get_action(r: Req) -> dict[str, Any]:
    with r.db.read() as tx:
        return one(r, actions.get(tx, principal(r, tx), r.path["ref"]))


@route(router, "POST", API + "/actions")
def create_action(r: Req) -> tuple[int, dict[str, Any]]:
    data = obj(r)
    with r.db.write() as tx:
        return 201, actions.create(tx, principal(r, tx), data)


@route(router, "PUT", API + "/actions/{ref}")
def update_action(r: Req) -> dict[str, Any]:
    data = obj(r)
    with r.db.write() as tx:
        return actions.update(tx, principal(r, tx), r.path["ref"], data)


@route(router, "DELETE", API + "/actions/{ref}")
def delete_action(r: Req) -> Response:
    with r.db.write() as tx:
        actions.delete(tx, principal(r, tx), r.path["ref"])
    return no_content()


@route(router, "GET", API + "/packs")
def list_packs(r: Req) -> list[dict[str, Any]]:
    with r.db.read() as tx:
        items = actions.packs(tx, principal(r, tx), r.query.get("name") or r.query.get("ref"))
    return _paged(r, items, 100)


@route(router, "GET", API + "/packs/{ref}")
def get_pack(r: Req) -> dict[str, Any]:
    with r.db.read() as tx:
        return one(r, actions.pack(tx, principal(r, tx), r.path["ref"]))


@route(router, "POST", API + "/packs/register")
def register_packs(r: Req) -> dict[str, Any]:
    data = obj(r)
    with r.db.write() as tx:
        return packs.register(tx, principal(r, tx), r.settings, data.get("packs"))


@route(router, "POST", API + "/packs/install")
def install_packs(r: Req) -> tuple[int, dict[str, Any]]:
    """`st2 pack install /path/to/pack`: an execution of packs.install, finished when this answers
    (the CLI follows it on the stream, then reads `result.output.packs_list`). An install that
    fails answers 400 with its reason and leaves nothing registered (the CLI prints a failed
    install's execution poorly)."""
    data = obj(r)
    sources = data.get("packs")
    if not isinstance(sources, list) or not sources:
        raise BadRequest("packs must be a non-empty list of pack directories on the server.")
    for source in sources:
        packs.local_source(source)
    given = {"packs": sources, "force": data.get("force") is True}
    with r.db.read() as tx:
        p = principal(r, tx)
    p.require_admin()
    with r.db.write() as tx:
        action = actions.get(tx, p, "packs.install")
        row = launch.start(tx, r.settings, p.org_uid, p.username, action, given)
        if row["status"] != "succeeded":
            raise BadRequest(str(row["doc"]["result"].get("error") or "The pack could not be installed."))
    return 202, {"execution_id": row["id"]}
