"""Asset downloads and image delivery: `GET /v3/assets/{api_key}/{uid}` (the management SDK's
`download()`, authenticated) and the public asset URL `/v3/assets/{api_key}/{uid}/{upload_uid}/{name}`,
both taking the Image Delivery parameters of §3.7 (`?width=400&format=webp`).

Safety headers on every file: `X-Content-Type-Options: nosniff` and a `Content-Security-Policy`
that lets nothing run (`default-src 'none'; sandbox`). Files a browser could run (HTML, SVG, XML,
JavaScript, PDF) are always sent as `Content-Disposition: attachment`, so they never render inline
from the API's origin. Public URLs name one uploaded file and never change: they are sent with a
year-long immutable `Cache-Control`, an `ETag`, `Vary: Accept` when the format was negotiated
(`auto=webp`, `format=auto`), and the cache tags of the asset for the edge (`X-Tag`).

A cached derived image is answered straight from memory (on the event loop when reads run there);
a miss, or a file from object storage, moves to a worker thread first (`NeedsThread`).
"""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from starlette.responses import FileResponse, Response, StreamingResponse

from stackyard.api import asset_first
from stackyard.api.cma.assets import storage
from stackyard.api.routing import Req, Router
from stackyard.content.assets import files, sniff
from stackyard.content.assets.images import derived, params
from stackyard.content.assets.records import asset_missing
from stackyard.content.delivery import tags
from stackyard.store.engine import NeedsThread

router = Router()
CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"
IMMUTABLE = "public, max-age=31536000, immutable"


def _off_loop() -> None:
    """Raise NeedsThread when running on the event loop: what follows blocks (decoding, S3 reads)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise NeedsThread()


def _query(r: Req) -> dict[str, str]:
    """The query as one value per name. The delivery SDK's `image_transform` appends `?k=v` even to
    a URL that has a query already (`?a=1?width=100`, §3.7): such values are split again."""
    out: dict[str, str] = {}
    for k, v in r.query.multi_items():
        if "?" in v:
            v, _, rest = v.partition("?")
            out.update(parse_qsl(rest, keep_blank_values=True))
        out[k] = v
    return out


def tag_header(r: Req) -> str:
    """The name of the header carrying cache tags (`cache_tag_header`, X-Tag by default)."""
    return str(r.settings.cache_tag_header)


def _headers(r: Req, f: files.File, public: bool) -> dict[str, str]:
    disposition = "attachment" if sniff.active(f.content_type) else "inline"
    return {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CSP,
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(f.filename, safe='')}",
        "Cache-Control": IMMUTABLE if public else "private, no-cache",
        tag_header(r): tags.header(
            [tags.asset(f.api_key, f.uid), tags.assets(f.api_key), tags.stack(f.api_key)]
        ),
    }


def _not_modified(r: Req, etag: str, headers: dict[str, str]) -> Response | None:
    wanted = r.headers.get("if-none-match")
    if wanted and etag in [t.strip() for t in wanted.split(",")]:
        return Response(status_code=304, headers={**headers, "ETag": etag})
    return None


def _answer(r: Req, f: files.File, public: bool) -> Any:
    headers = _headers(r, f, public)
    query = _query(r)
    plan = (
        params.parse(query, r.headers.get("accept", "")) if sniff.is_image(f.content_type) else params.Plan()
    )
    if query.get("dl") in ("1", "true", "True"):
        headers["Content-Disposition"] = headers["Content-Disposition"].replace("inline", "attachment", 1)
    if plan.empty and not plan.negotiated:
        return _original(r, f, headers)
    cache = derived.for_settings(r.settings)
    if plan.negotiated:
        headers["Vary"] = "Accept"
    key = cache.key(f.storage_key, plan)
    image = cache.cached(key)
    if image is None:
        _off_loop()
        store = storage(r)
        spool = Path(r.settings.data_dir) / "tmp"
        with ExitStack() as sources:
            overlay_path = None
            if plan.overlay:
                with r.db.read() as tx:
                    layer = files.by_url(tx, f.api_key, plan.overlay)
                if layer is not None and sniff.is_image(layer.content_type):
                    overlay_path = sources.enter_context(files.local_source(store, layer.storage_key, spool))
                plan = replace(plan, overlay=layer.storage_key if layer else plan.overlay)
            image = cache.get(
                f.storage_key,
                plan,
                lambda: sources.enter_context(files.local_source(store, f.storage_key, spool)),
                f.content_type,
                (lambda _: overlay_path) if plan.overlay else None,
            )
    etag = f'"{image.etag}"'
    headers["Content-Disposition"] = (
        headers["Content-Disposition"].split(";")[0]
        + "; filename*=UTF-8''"
        + quote(_renamed(f.filename, image.mime), safe="")
    )
    if public:
        full = {**headers, "ETag": etag, "Content-Type": image.mime}
        asset_first.remember(r.db, f.api_key, f.uid, f.upload_uid, etag, image.body, full)
    return _not_modified(r, etag, headers) or Response(
        image.body, media_type=image.mime, headers={**headers, "ETag": etag}
    )


def _renamed(filename: str, mime: str) -> str:
    ext = {
        "image/jpeg": "jpg",
        "image/png": "png",
        "image/webp": "webp",
        "image/gif": "gif",
        "image/avif": "avif",
    }
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    return f"{stem}.{ext.get(mime, 'img')}"


def _original(r: Req, f: files.File, headers: dict[str, str]) -> Any:
    etag = f'"{f.storage_key[:32]}"'
    early = _not_modified(r, etag, headers)
    if early is not None:
        return early
    store = storage(r)
    headers = {**headers, "ETag": etag}
    path = store.local_path(f.storage_key)
    if path is not None:
        return FileResponse(
            path, media_type=f.content_type, headers=headers, content_disposition_type="inline"
        )
    _off_loop()
    body = store.open(f.storage_key)

    def chunks() -> Any:
        with body:
            while chunk := body.read(1024 * 1024):
                yield chunk

    headers["Content-Length"] = str(f.size)
    return StreamingResponse(chunks(), media_type=f.content_type, headers=headers)


@router.get("/v3/assets/{api_key}/{uid}")
def download(r: Req) -> Any:
    with r.db.read() as tx:
        access = r.access(tx)
        if access.api_key != r.path["api_key"]:
            raise asset_missing()
        f = files.latest(tx, access, r.path["uid"])
    return _answer(r, f, public=False)


@router.get("/v3/assets/{api_key}/{uid}/{upload_uid}/{filename}")
def public_file(r: Req) -> Any:
    with r.db.read() as tx:
        f = files.public(tx, r.path["api_key"], r.path["uid"], r.path["upload_uid"])
    return _answer(r, f, public=True)


# An asset URL with its file name is the documented one; without it, the upload uid alone works too.
@router.get("/v3/assets/{api_key}/{uid}/{upload_uid}")
def public_file_unnamed(r: Req) -> Any:
    return public_file(r)
