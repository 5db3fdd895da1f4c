"""CMA routes for assets (catalogue §2.5): upload, fetch, find, update, replace, versions,
references, RTE listing, publish. Folders are in `folders.py`, downloads and images in `api/files.py`.

Uploads (`POST /v3/assets`, and `PUT /v3/assets/{uid}` with a file) are streaming routes: the body
is spooled to disk, its file part copied out in chunks (`api.multipart`), and only then stored; a
PUT without a file is a JSON update (title, description, tags, folder; `version` restores one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stackyard.api.multipart import Form, read_form
from stackyard.api.routing import Req, Router
from stackyard.content.assets import assets, publishing, versions
from stackyard.content.assets.records import Incoming
from stackyard.content.assets.storage import Storage, open_storage
from stackyard.content.publishing import actions
from stackyard.errors import BadRequest, PayloadTooLarge, invalid

router = Router()
ONE = "/v3/assets/{uid}"
FILE_FIELDS = ("asset[upload]", "asset", "upload", "file")
META = ("title", "description", "tags", "parent_uid")


def base_url(r: Req) -> str:
    """Where clients reach this server: `public_url`, else the request's own host."""
    if r.settings.public_url:
        return str(r.settings.public_url).rstrip("/")
    scheme = "https" if r.settings.tls_cert else "http"
    return f"{scheme}://{r.headers.get('host') or 'localhost'}"


def storage(r: Req) -> Storage:
    return open_storage(r.settings)


def _spool_dir(r: Req) -> Path:
    return Path(r.settings.data_dir) / "tmp"


def _meta(form: Form) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in META:
        for name in (f"asset[{key}]", key):
            if name in form.fields:
                out[key] = form.fields[name]
                break
    return out


def _incoming(form: Form) -> Incoming:
    for name in FILE_FIELDS:
        received = form.files.get(name)
        if received is not None:
            return Incoming(received.filename, received.take(), received.size, received.sha256, received.head)
    if form.files:
        received = next(iter(form.files.values()))
        return Incoming(received.filename, received.take(), received.size, received.sha256, received.head)
    raise invalid(
        {"upload": ["is required: send the file as the form field 'asset[upload]'."]}, "Please upload a file."
    )


def _is_multipart(r: Req) -> bool:
    """By the body, not the header: the management SDK can leave `multipart/form-data` on JSON calls."""
    f = r.upload.file
    f.seek(0)
    head = f.read(2)
    f.seek(0)
    return head == b"--"


def _json_body(r: Req) -> dict[str, Any]:
    if r.upload.size > r.settings.max_body_bytes:
        raise PayloadTooLarge()
    r.body = r.upload.read()
    return r.json()


def _store_then(r: Req, write: Any, asset_uid: str | None = None) -> Any:
    """Check the caller may write, store the uploaded file, then run `write(tx, access, stored, meta)`."""
    with r.db.read() as tx:
        assets.may_store(r.access(tx), asset_uid)
    store = storage(r)
    with read_form(r.upload, _spool_dir(r)) as form:
        meta = _meta(form)
        stored = assets.store_file(store, _incoming(form))
    try:
        with r.db.write() as tx:
            return write(tx, r.access(tx), stored, meta)
    except BaseException:
        with r.db.read() as tx:
            assets.discard(tx, store, stored["storage_key"])
        raise


@router.post("/v3/assets", stream=True)
def upload(r: Req) -> Any:
    asset = _store_then(
        r, lambda tx, access, stored, meta: assets.create(tx, access, stored, meta, base_url(r))
    )
    return 201, {"notice": "Asset created successfully.", "asset": asset}


def _find(r: Req, kind: str | None = None) -> Any:
    skip, limit = r.page()
    folder = r.param("folder")
    with r.db.read() as tx:
        items, count = assets.find(
            tx,
            r.access(tx),
            base=base_url(r),
            folder=folder,
            include_folders=r.flag("include_folders"),
            kind=kind,
            query=_query(r),
            skip=skip,
            limit=limit,
            count=r.flag("include_count"),
            descending=r.param("asc") is None,
        )
    out: dict[str, Any] = {"assets": items}
    if count is not None:
        out["count"] = count
    return out


def _query(r: Req) -> dict[str, Any]:
    """`query={...}` as JSON; the management SDK's bare `query=is_dir&query=name` (a dict's keys, §2.5)
    reads as "folders" (`is_dir`) and "has a name" (every folder has one)."""
    values = [v for v in r.query.getlist("query") if v]
    if not values:
        return {}
    if len(values) == 1 and values[0].lstrip().startswith("{"):
        return r.json_param("query")
    out: dict[str, Any] = {}
    for v in values:
        if v == "is_dir":
            out["is_dir"] = True
        elif v not in ("name",):
            raise BadRequest(
                "The 'query' parameter must be a JSON object.", error_code=102, errors={"query": [v]}
            )
    return out


@router.get("/v3/assets")
def find(r: Req) -> Any:
    return _find(r)


@router.get("/v3/assets/images")
def images(r: Req) -> Any:
    return _find(r, "images")


@router.get("/v3/assets/videos")
def videos(r: Req) -> Any:
    return _find(r, "videos")


@router.get("/v3/assets/rt")
def rte(r: Req) -> Any:
    """Images for the rich-text editor: [{image, thumb, title}]."""
    with r.db.read() as tx:
        items, _ = assets.find(tx, r.access(tx), base=base_url(r), kind="images", limit=r.page()[1])
    return [{"image": a["url"], "thumb": a["url"] + "?width=150", "title": a["title"]} for a in items]


@router.get(ONE)
def fetch(r: Req) -> Any:
    version = r.int_param("version", 0, minimum=0, maximum=2**31 - 1) or None
    with r.db.read() as tx:
        return {"asset": assets.fetch(tx, r.access(tx), r.path["uid"], base_url(r), version)}


@router.put(ONE, stream=True)
def update_or_replace(r: Req) -> Any:
    uid = r.path["uid"]
    if _is_multipart(r):
        asset = _store_then(
            r,
            lambda tx, access, stored, meta: assets.replace(tx, access, uid, stored, meta, base_url(r)),
            uid,
        )
        return {"notice": "Asset updated successfully.", "asset": asset}
    body = _json_body(r)
    data = body.get("asset")
    if not isinstance(data, dict):
        raise invalid({"asset": ["is required and must be an object."]})
    restore = body.get("version")
    if restore is not None and (not isinstance(restore, int) or isinstance(restore, bool) or restore < 1):
        raise invalid({"version": ["must be a version number."]})
    data = {k: v for k, v in data.items() if k in META}
    if "permanent_url" in body["asset"] and not data and restore is None:
        with r.db.read() as tx:
            return {
                "notice": "Asset updated successfully.",
                "asset": assets.fetch(tx, r.access(tx), uid, base_url(r)),
            }
    with r.db.write() as tx:
        asset = assets.update(tx, r.access(tx), uid, data, base_url(r), restore=restore)
    return {"notice": "Asset updated successfully.", "asset": asset}


@router.delete(ONE)
def delete(r: Req) -> Any:
    with r.db.write() as tx:
        assets.delete(tx, r.access(tx), storage(r), r.path["uid"])
    return {"notice": "Asset deleted successfully."}


@router.get(ONE + "/versions")
def version_list(r: Req) -> Any:
    skip, limit = r.page()
    with r.db.read() as tx:
        return {"versions": versions.find(tx, r.access(tx), r.path["uid"], skip, limit)}


@router.post(ONE + "/versions/{n}/name")
def version_name(r: Req) -> Any:
    data = r.envelope("upload")
    with r.db.write() as tx:
        versions.name(tx, r.access(tx), r.path["uid"], r.path["n"], data)
    return 201, {"notice": "Version name assigned successfully."}


@router.delete(ONE + "/versions/{n}/name")
def version_unname(r: Req) -> Any:
    from starlette.responses import Response

    with r.db.write() as tx:
        versions.unname(tx, r.access(tx), r.path["uid"], r.path["n"])
    return Response(status_code=204)


@router.get(ONE + "/references")
def references(r: Req) -> Any:
    with r.db.read() as tx:
        return {"references": assets.references(tx, r.access(tx), r.path["uid"])}


def _publish(r: Req, action: str) -> Any:
    body = r.json()
    with r.db.write() as tx:
        access = r.access(tx)
        act, when = actions.parse(
            tx, access, body, action=action, kind="asset", uid=r.path["uid"], content_type_uid=""
        )
        publishing.request(tx, access, act, when)
    return {"notice": f"Asset sent for {action}ing."}


@router.post(ONE + "/publish")
def publish(r: Req) -> Any:
    return _publish(r, actions.PUBLISH)


@router.post(ONE + "/unpublish")
def unpublish(r: Req) -> Any:
    return _publish(r, actions.UNPUBLISH)
