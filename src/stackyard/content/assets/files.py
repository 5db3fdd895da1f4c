"""Which stored file a download URL names, and a local copy of it for the image pipeline.

    f = files.public(tx, api_key, uid, upload_uid)    # /v3/assets/{api_key}/{uid}/{upload_uid}/{name}
    f = files.latest(tx, access, uid)                 # /v3/assets/{api_key}/{uid} (CMA, authenticated)

The public URL needs no credential, as Contentstack's asset URLs do not: its upload uid is random per
uploaded file, so only someone given the URL can fetch it. It keeps answering the file of that
upload for as long as some version of the asset has it; a deleted asset's URLs answer 404.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from stackyard.access.caller import StackAccess
from stackyard.content.assets import acl
from stackyard.content.assets.records import asset_missing, row
from stackyard.content.assets.storage import Storage, opened
from stackyard.store.engine import Tx

UID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class File:
    api_key: str
    uid: str
    filename: str
    content_type: str
    size: int
    storage_key: str
    upload_uid: str
    version: int


def valid_uid(value: str) -> bool:
    return bool(UID.match(value))


def public(tx: Tx, api_key: str, asset_uid: str, upload_uid: str) -> File:
    if not (valid_uid(api_key) and valid_uid(asset_uid) and valid_uid(upload_uid)):
        raise asset_missing()
    r = tx.one(
        "SELECT v.uid, v.filename, v.content_type, v.file_size, v.storage_key, v.upload_uid, v.version "
        "FROM asset_versions v WHERE v.api_key = ? AND v.uid = ? AND v.upload_uid = ? "
        "ORDER BY v.version DESC LIMIT 1",
        api_key,
        asset_uid,
        upload_uid,
    )
    if r is None:
        raise asset_missing()
    return _file(api_key, r)


def latest(tx: Tx, access: StackAccess, asset_uid: str) -> File:
    r = row(tx, access, asset_uid)
    acl.require(tx, access, "read", r)
    return _file(access.api_key, r)


def by_url(tx: Tx, api_key: str, text: str) -> File | None:
    """An asset of this stack named by its URL or path (`/v3/assets/K/uid/upload/name`) or its uid."""
    parts = [p for p in text.split("?", 1)[0].split("/") if p]
    if "assets" in parts:
        parts = parts[parts.index("assets") + 1 :]
    if len(parts) >= 3 and parts[0] == api_key:
        try:
            return public(tx, api_key, parts[1], parts[2])
        except Exception:
            return None
    if len(parts) == 1 and valid_uid(parts[0]):
        r = tx.one(
            "SELECT uid, filename, content_type, file_size, storage_key, upload_uid, version FROM assets "
            "WHERE api_key = ? AND uid = ? AND is_dir = 0 LIMIT 1",
            api_key,
            parts[0],
        )
        return _file(api_key, r) if r is not None else None
    return None


def _file(api_key: str, r: dict[str, object]) -> File:
    return File(
        api_key=api_key,
        uid=str(r["uid"]),
        filename=str(r["filename"]),
        content_type=str(r["content_type"]),
        size=int(str(r["file_size"])),
        storage_key=str(r["storage_key"]),
        upload_uid=str(r["upload_uid"]),
        version=int(str(r["version"])),
    )


@contextmanager
def local_source(store: Storage, key: str, spool_dir: Path) -> Iterator[Path]:
    """A path of the stored file on this machine for as long as the block runs: the file itself,
    or a private copy fetched from the object store, deleted afterwards (derived images are cached,
    so a source is fetched again only for a plan never made before)."""
    path = store.local_path(key)
    if path is not None:
        yield path
        return
    spool_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=str(spool_dir), prefix="source-")
    target = Path(name)
    try:
        with opened(store, key) as src, os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(src, out, 1024 * 1024)
        yield target
    finally:
        target.unlink(missing_ok=True)
