"""CMA routes for asset folders (catalogue §2.5): `assets/folders[/{uid}]`.

The management SDK's `create_folder(dict)` sends a form body (`asset=name`) by mistake (§5 item 5):
it is not JSON, so it answers 400 in Contentstack's shape; `create_folder(json.dumps(data))` works.
"""

from __future__ import annotations

from typing import Any

from stackyard.api.cma.assets import storage
from stackyard.api.routing import Req, Router
from stackyard.content.assets import folders

router = Router()
ONE = "/v3/assets/folders/{uid}"


@router.post("/v3/assets/folders")
def create(r: Req) -> Any:
    data = r.envelope("asset")
    with r.db.write() as tx:
        folder = folders.create(tx, r.access(tx), data)
    return 201, {"notice": "Folder created successfully.", "asset": folder}


@router.get(ONE)
def fetch(r: Req) -> Any:
    with r.db.read() as tx:
        return {"asset": folders.fetch(tx, r.access(tx), r.path["uid"])}


@router.put(ONE)
def update(r: Req) -> Any:
    data = r.envelope("asset")
    with r.db.write() as tx:
        folder = folders.update(tx, r.access(tx), r.path["uid"], data)
    return {"notice": "Folder updated successfully.", "asset": folder}


@router.delete(ONE)
def delete(r: Req) -> Any:
    with r.db.write() as tx:
        folders.delete(tx, r.access(tx), storage(r), r.path["uid"])
    return {"notice": "Folder deleted successfully."}
