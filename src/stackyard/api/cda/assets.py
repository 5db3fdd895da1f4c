"""CDA routes for published assets (catalogue §3.1): `GET /v3/assets` and `/v3/assets/{uid}`.

Thin on purpose: the delivery token, stack and environment are checked by `content.assets.delivery`
(the environment is the query parameter, else the header, §5 item 9); what is served is the
snapshot publishing wrote. Image URLs inside point at this server (the public asset URL).
"""

from __future__ import annotations

from typing import Any

from stackyard.api.cma.asset_files import tag_header
from stackyard.api.cma.assets import base_url
from stackyard.api.routing import Req, Router
from stackyard.content.assets import delivery
from stackyard.content.delivery import tags

router = Router(api="cda")


def _base(r: Req) -> str:
    """Where asset URLs point: this server, or nowhere with `relative_urls=true` (paths only)."""
    return "" if r.flag("relative_urls") else base_url(r)


def _env(r: Req, tx: Any) -> str:
    name = r.param("environment") or r.headers.get("environment")
    return delivery.environment(tx, r.caller(tx), r.headers.get("api_key"), name)


@router.get("/v3/assets")
def find(r: Req) -> Any:
    skip, limit = r.page()
    with r.db.read() as tx:
        env = _env(r, tx)
        items, count = delivery.find(
            tx,
            str(r.headers.get("api_key")),
            env,
            base=_base(r),
            locale=r.param("locale"),
            skip=skip,
            limit=limit,
            count=r.flag("include_count"),
            dimension=r.flag("include_dimension"),
        )
    api_key = str(r.headers.get("api_key"))
    r.response_headers[tag_header(r)] = tags.header([tags.assets(api_key), tags.stack(api_key)])
    out: dict[str, Any] = {"assets": items}
    if count is not None:
        out["count"] = count
    return out


@router.get("/v3/assets/{uid}")
def fetch(r: Req) -> Any:
    with r.db.read() as tx:
        env = _env(r, tx)
        api_key = str(r.headers.get("api_key"))
        asset = delivery.fetch(
            tx,
            api_key,
            env,
            r.path["uid"],
            base=_base(r),
            locale=r.param("locale"),
            dimension=r.flag("include_dimension"),
        )
    r.response_headers[tag_header(r)] = tags.header([tags.asset(api_key, r.path["uid"]), tags.stack(api_key)])
    return {"asset": asset}
