"""CMA routes for entries (catalogue §2.4): CRUD, locales, versions, references, import/export."""

from __future__ import annotations

from typing import Any

from stackyard.api.routing import Req, Router
from stackyard.content.entries import entries
from stackyard.content.entries import lists as entry_lists
from stackyard.content.entries import localization as entry_locales
from stackyard.content.entries import transfer as entry_io
from stackyard.content.entries import versions as entry_versions
from stackyard.content.publishing import snapshots
from stackyard.core.readonly import writable
from stackyard.errors import BadRequest, invalid

router = Router()
BASE = "/v3/content_types/{ct}/entries"
ONE = BASE + "/{uid}"
MAX_VERSION = 2**31 - 1
MAX_SKIP = 2**62


def _fields(r: Req, key: str) -> list[str]:
    return [v for v in r.query.getlist(key) if v]


def _shown(r: Req, entry: dict[str, Any]) -> dict[str, Any]:
    """The entry as the request asks: projected, and with `_branch` for `include_branch=true`."""
    entry = _project(entry, _fields(r, "only[BASE][]"), _fields(r, "except[BASE][]"))
    if r.flag("include_branch"):
        entry["_branch"] = r.headers.get("branch") or "main"
    return entry


def _project(entry: dict[str, Any], only: list[str], excepts: list[str]) -> dict[str, Any]:
    """`only[BASE][]` keeps the named top-level fields (and uid); `except[BASE][]` drops them."""
    if only:
        keep = {"uid", *(name.split(".")[0] for name in only)}
        entry = {k: v for k, v in entry.items() if k in keep}
    if excepts:
        drop = {name.split(".")[0] for name in excepts} - {"uid"}
        entry = {k: v for k, v in entry.items() if k not in drop}
    return entry


@router.get(BASE)
def find(r: Req) -> Any:
    skip, limit = r.page()
    ask = entry_lists.Listing(
        query=r.json_param("query"),
        locale=r.param("locale"),
        include_fallback=r.flag("include_fallback"),
        skip=min(skip, MAX_SKIP),
        limit=limit,
        asc=r.param("asc") or None,
        desc=r.param("desc") or None,
        count=r.flag("include_count"),
    )
    with r.db.read() as tx:
        access = r.access(tx)
        items, count = entry_lists.find(tx, access, r.path["ct"], ask)
        if r.flag("include_publish_details"):
            snapshots.attach(tx, access.api_key, access.branch, snapshots.ENTRY, items)
    out: dict[str, Any] = {"entries": [_shown(r, e) for e in items]}
    if r.flag("include_count"):
        out["count"] = count
    return out


@router.get(ONE)
def fetch(r: Req) -> Any:
    version = r.param("version")
    number: int | None = None
    if version not in (None, ""):
        number = r.int_param("version", 1, minimum=1, maximum=MAX_VERSION)
    with r.db.read() as tx:
        access = r.access(tx)
        entry = entries.fetch(
            tx,
            access,
            r.path["ct"],
            r.path["uid"],
            r.param("locale"),
            include_fallback=r.flag("include_fallback"),
            version=number,
        )
        if r.flag("include_publish_details"):
            snapshots.attach(tx, access.api_key, access.branch, snapshots.ENTRY, [entry])
    return {"entry": _shown(r, entry)}


@router.post(BASE)
def create(r: Req) -> Any:
    data = r.envelope("entry")
    with r.db.write() as tx:
        entry = entries.create(tx, r.access(tx), r.path["ct"], data, r.param("locale"))
    return 201, {"notice": entries.NOTICES["create"], "entry": _shown(r, entry)}


@router.put(ONE)
def update(r: Req) -> Any:
    data = writable("entry", r.envelope("entry"))
    with r.db.write() as tx:
        kind, entry = entries.update(tx, r.access(tx), r.path["ct"], r.path["uid"], data, r.param("locale"))
    return {"notice": entries.NOTICES[kind], "entry": _shown(r, entry)}


@router.delete(ONE)
def delete(r: Req) -> Any:
    body = r.json() if r.body.strip() else {}
    listed = body.get("entry", {}).get("locales") if isinstance(body.get("entry"), dict) else None
    codes: list[str] | None
    if listed is not None:
        if not isinstance(listed, list) or not listed or not all(isinstance(c, str) for c in listed):
            raise invalid({"entry.locales": ["must be a non-empty list of locale codes."]})
        codes = [c.lower() for c in listed]
    elif r.flag("delete_all_localized") or not r.param("locale"):
        codes = None
    else:
        codes = [str(r.param("locale")).lower()]
    with r.db.write() as tx:
        entries.delete(tx, r.access(tx), r.path["ct"], r.path["uid"], codes)
    return {"notice": "Entry deleted successfully."}


@router.get(ONE + "/locales")
def languages(r: Req) -> Any:
    with r.db.read() as tx:
        return {"locales": entry_locales.languages(tx, r.access(tx), r.path["ct"], r.path["uid"])}


@router.post(ONE + "/unlocalize")
def unlocalize(r: Req) -> Any:
    with r.db.write() as tx:
        entry_locales.unlocalize(tx, r.access(tx), r.path["ct"], r.path["uid"], r.param("locale"))
    return {"notice": "Entry unlocalized successfully."}


@router.get(ONE + "/versions")
def versions(r: Req) -> Any:
    skip, limit = r.page()
    with r.db.read() as tx:
        items, count = entry_versions.find(
            tx,
            r.access(tx),
            r.path["ct"],
            r.path["uid"],
            r.param("locale"),
            skip,
            limit,
            named=r.flag("named"),
        )
    return {"versions": items, "count": count}


def _version_number(r: Req) -> int:
    raw = r.path["n"]
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_VERSION:
        raise BadRequest(
            "The version must be a whole number of 1 or more.", errors={"version": ["is not valid."]}
        )
    return int(raw)


@router.post(ONE + "/versions/{n}/name")
def name_version(r: Req) -> Any:
    data = r.envelope("entry")
    with r.db.write() as tx:
        entry_versions.name(tx, r.access(tx), r.path["ct"], r.path["uid"], _version_number(r), data)
    return {"notice": "Version name assigned successfully"}


@router.delete(ONE + "/versions/{n}/name")
def unname_version(r: Req) -> Any:
    body = r.json() if r.body.strip() else {}
    inner = body.get("entry") if isinstance(body.get("entry"), dict) else {}
    locale = r.param("locale") or (inner or {}).get("locale")
    with r.db.write() as tx:
        entry_versions.unname(tx, r.access(tx), r.path["ct"], r.path["uid"], _version_number(r), locale)
    return {"notice": "Version name deleted successfully"}


@router.get(ONE + "/references")
def references(r: Req) -> Any:
    with r.db.read() as tx:
        found = entry_io.references(tx, r.access(tx), r.path["ct"], r.path["uid"])
    return {"references": found, "count": len(found)}


@router.get(ONE + "/export")
def export(r: Req) -> Any:
    with r.db.read() as tx:
        return entry_io.export(tx, r.access(tx), r.path["ct"], r.path["uid"], r.param("locale"))


def _import(r: Req, entry_uid: str | None) -> Any:
    part = next((p for p in r.parts() if p.name == "entry"), None)
    if part is None:
        raise invalid({"entry": ["is required: a multipart file field holding the entry JSON."]})
    data = entry_io.parse_file(part.data)
    with r.db.write() as tx:
        created, entry = entry_io.import_(
            tx,
            r.access(tx),
            r.path["ct"],
            data,
            r.param("locale"),
            overwrite=r.flag("overwrite"),
            entry_uid=entry_uid,
        )
    return (201 if created else 200), {"notice": "Entry imported successfully.", "entry": entry}


@router.post(BASE + "/import")
def import_new(r: Req) -> Any:
    return _import(r, None)


@router.post(ONE + "/import")
def import_into(r: Req) -> Any:
    return _import(r, r.path["uid"])
