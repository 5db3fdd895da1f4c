"""Asset rows and how they are shown (catalogue §4.2): one table for files and folders.

    render(row, base="https://cms.example") -> {"uid", "filename", "url", "file_size": "5990", ...}

`file_size` is a string and `content_type` a MIME type, as Contentstack sends them (§5 item 24).
The `url` is `{base}/v3/assets/{api_key}/{uid}/{upload_uid}/{filename}`: the upload uid is random
per file, so a URL names one file version and cannot be guessed from the asset's uid.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from stackyard.access.caller import StackAccess
from stackyard.errors import NotFound
from stackyard.store.engine import Row, Tx, jload

FOLDER_TYPE = "application/vnd.contenstack.folder"  # sic, as Contentstack spells it
ASSET_NOT_FOUND = 145


@dataclass(frozen=True)
class Incoming:
    """An uploaded file, already on local disk: its bytes were hashed and sniffed on the way in."""

    filename: str
    path: Path
    size: int
    sha256: str
    head: bytes


def asset_missing() -> NotFound:
    return NotFound("Asset was not found.", error_code=ASSET_NOT_FOUND, errors={"uid": ["is not valid."]})


def folder_missing() -> NotFound:
    return NotFound("Folder was not found.", error_code=ASSET_NOT_FOUND, errors={"uid": ["is not valid."]})


def row(tx: Tx, access: StackAccess, uid: str, *, is_dir: bool = False) -> Row:
    r = tx.one(
        "SELECT * FROM assets WHERE api_key = ? AND branch = ? AND uid = ? AND is_dir = ?",
        access.api_key,
        access.branch,
        uid,
        1 if is_dir else 0,
    )
    if r is None:
        raise folder_missing() if is_dir else asset_missing()
    return r


def url(base: str, api_key: str, uid: str, upload_uid: str, filename: str) -> str:
    return f"{base}/v3/assets/{api_key}/{uid}/{upload_uid}/{quote(filename, safe='')}"


def render(r: Row, base: str = "", publish_details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The CMA shape of an asset or folder row (or of a version row joined with its asset)."""
    common = {
        "uid": r["uid"],
        "created_at": r["created_at"],
        "updated_at": r.get("updated_at", r["created_at"]),
        "created_by": r["created_by"],
        "updated_by": r.get("updated_by", r["created_by"]),
        "tags": jload(r["tags"]) or [],
        "parent_uid": r.get("parent_uid") or None,
        "ACL": {},
        "_version": r["version"],
    }
    if r.get("is_dir"):
        return {**common, "name": r["title"], "is_dir": True, "content_type": FOLDER_TYPE}
    out = {
        **common,
        "content_type": r["content_type"],
        "file_size": str(r["file_size"]),
        "filename": r["filename"],
        "url": url(base, r["api_key"], r["uid"], r["upload_uid"], r["filename"]),
        "title": r["title"],
        "description": r["description"],
        "is_dir": False,
        "app_user_object_uid": "system",
        "publish_details": publish_details or [],
    }
    if r["width"] is not None and r["height"] is not None:
        out["dimension"] = {"width": r["width"], "height": r["height"]}
    return out


def exists(tx: Tx, api_key: str, branch: str, asset_uid: str) -> bool:
    """Is there such an asset (not a folder)? Entry validation asks this of file fields."""
    return (
        tx.one(
            "SELECT 1 AS x FROM assets WHERE api_key = ? AND branch = ? AND uid = ? AND is_dir = 0",
            api_key,
            branch,
            asset_uid,
        )
        is not None
    )
