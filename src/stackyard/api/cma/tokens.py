"""CMA routes for delivery and management tokens (catalogue §2.8): envelope `token` / `tokens`.

The secret appears in `token` of the create answer only; a delivery token's preview token
(live preview) in `preview_token` of the answer that makes it.
"""

from __future__ import annotations

from typing import Any

from stackyard.api.routing import Req, Router
from stackyard.core.readonly import writable
from stackyard.stacks import tokens

router = Router()
_PATHS: dict[tokens.Kind, str] = {
    "delivery": "/v3/stacks/delivery_tokens",
    "management": "/v3/stacks/management_tokens",
}


def _declare(kind: tokens.Kind, path: str) -> None:
    title = "Delivery Token" if kind == "delivery" else "Management Token"

    def find(r: Req) -> Any:
        with r.db.read() as tx:
            items = tokens.find(tx, r.access(tx), kind)
        out: dict[str, Any] = {"tokens": items}
        if r.flag("include_count"):
            out["count"] = len(items)
        return out

    def fetch(r: Req) -> Any:
        with r.db.read() as tx:
            return {"token": tokens.fetch(tx, r.access(tx), kind, r.path["uid"])}

    def create(r: Req) -> Any:
        data = r.envelope("token")
        with r.db.write() as tx:
            token = tokens.create(tx, r.access(tx), kind, data)
        return 201, {"notice": f"{title} created successfully.", "token": token}

    def update(r: Req) -> Any:
        data = writable("token", r.envelope("token"))
        with r.db.write() as tx:
            token = tokens.update(tx, r.access(tx), kind, r.path["uid"], data)
        return {"notice": f"{title} updated successfully.", "token": token}

    def delete(r: Req) -> Any:
        with r.db.write() as tx:
            tokens.delete(tx, r.access(tx), kind, r.path["uid"])
        return {"notice": f"{title} deleted successfully."}

    for fn in (find, fetch, create, update, delete):
        fn.__name__ = f"{kind}_token_{fn.__name__}"
    router.get(path)(find)
    router.get(path + "/{uid}")(fetch)
    router.post(path)(create)
    router.put(path + "/{uid}")(update)
    router.delete(path + "/{uid}")(delete)


for _kind, _path in _PATHS.items():
    _declare(_kind, _path)


@router.post("/v3/stacks/delivery_tokens/{uid}/preview_token")
def preview_token_create(r: Req) -> Any:
    with r.db.write() as tx:
        token = tokens.create_preview(tx, r.access(tx), r.path["uid"])
    return 201, {"notice": "Preview token generated successfully.", "token": token}


@router.delete("/v3/stacks/delivery_tokens/{uid}/preview_token")
def preview_token_delete(r: Req) -> Any:
    with r.db.write() as tx:
        tokens.delete_preview(tx, r.access(tx), r.path["uid"])
    return {"notice": "Preview token deleted successfully."}
