"""Entry export and import (a JSON file of one entry), and the entries that refer to an entry.

Export answers the bare entry object. Import takes that object (or `{"entry": {...}}`): into a new
entry, or as a new version of an existing one: the one in the path (`/entries/{uid}/import`), or,
with `overwrite=true`, the one the file's `uid` names. An import into an existing entry replaces
the whole entry: fields missing from the file are cleared.
"""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import content_locales
from stackyard.content.entries import entries
from stackyard.content.model import content_types
from stackyard.core import json_input
from stackyard.errors import APIError, BadRequest, invalid
from stackyard.store.engine import Tx


def export(tx: Tx, access: StackAccess, ct_uid: str, entry_uid: str, locale: str | None) -> dict[str, Any]:
    return entries.fetch(tx, access, ct_uid, entry_uid, locale)


def parse_file(raw: bytes) -> dict[str, Any]:
    """The entry object of an import file; a 400 when it is not JSON, 422 when not an entry."""
    try:
        data = json_input.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(
            "The import file is not valid JSON.", error_code=101, errors={"entry": ["is not JSON."]}
        ) from None
    if isinstance(data, dict) and isinstance(data.get("entry"), dict):
        data = data["entry"]
    if not isinstance(data, dict):
        raise invalid({"entry": ["must be a JSON object of field values."]}, "Entry import failed.", 119)
    return data


def import_(
    tx: Tx,
    access: StackAccess,
    ct_uid: str,
    data: dict[str, Any],
    locale: str | None,
    *,
    overwrite: bool,
    entry_uid: str | None = None,
) -> tuple[bool, dict[str, Any]]:
    """Import one entry; answers (created, entry). `entry_uid` (or, with overwrite, the file's uid) picks the target."""
    target = entry_uid
    if target is None and overwrite and isinstance(data.get("uid"), str):
        ct = entries.content_type(tx, access, ct_uid, "read")
        if entries.lookup(tx, access)(data["uid"]) == ct.uid:
            target = data["uid"]
    if target is None:
        return True, entries.create(tx, access, ct_uid, data, locale)
    ct = entries.content_type(tx, access, ct_uid, "update")
    code = entries.in_locale(tx, access, ct, locale, "update")
    existing = entries.rows(tx, access, ct, target, lock=True)
    current = next((r for r in existing if r["locale"] == code), None)
    body = {k: v for k, v in data.items() if k != "_version"}
    body = entries.follow_master(access, ct, existing, code, body)
    w = entries.check(tx, access, ct, body, code, create=current is None, exclude=target)
    if w.tags is None:
        w.tags = []
    r = entries.store(tx, access, ct, target, code, w, previous=current, localized=current is None)
    entries.record(tx, access, ct, "import", r)
    entries.spread_master(tx, access, ct, r, existing)
    return False, entries.render(r)


def references(tx: Tx, access: StackAccess, ct_uid: str, entry_uid: str) -> list[dict[str, Any]]:
    """The entries (per locale the caller may read) whose reference fields point at this entry."""
    ct = entries.content_type(tx, access, ct_uid, "read")
    entries.rows(tx, access, ct, entry_uid)
    shown, shown_params = content_locales(access, "e.locale").sql()
    found = tx.all(
        "SELECT e.uid, e.content_type_uid, e.locale, e.version, e.title, v.version_name, "
        "v.created_by AS v_by, v.created_at AS v_at FROM entry_references r "
        "JOIN entries e ON e.api_key = r.api_key AND e.branch = r.branch AND e.uid = r.from_uid "
        "AND e.locale = r.from_locale "
        "LEFT JOIN entry_versions v ON v.api_key = e.api_key AND v.branch = e.branch AND v.uid = e.uid "
        "AND v.locale = e.locale AND v.version = e.version "
        f"WHERE r.api_key = ? AND r.branch = ? AND r.to_uid = ? AND {shown} "
        "ORDER BY e.content_type_uid, e.uid, e.locale",
        access.api_key,
        access.branch,
        entry_uid,
        *shown_params,
    )
    titles: dict[str, str] = {}
    out = []
    for r in found:
        ref_ct = r["content_type_uid"]
        if ref_ct not in titles:
            try:
                titles[ref_ct] = str(
                    content_types.load(tx, access.api_key, access.branch, ref_ct).get("title")
                )
            except APIError:
                titles[ref_ct] = ref_ct
        item: dict[str, Any] = {
            "entry_uid": r["uid"],
            "content_type_uid": ref_ct,
            "locale": r["locale"],
            "_version": r["version"],
            "title": r["title"],
            "content_type_title": titles[ref_ct],
            "publish_details": [],
        }
        if r["version_name"]:
            # Contentstack names the referring entry's version as {title, updated_by, updated_at}
            item["_version_name"] = {
                "title": r["version_name"],
                "updated_by": r["v_by"],
                "updated_at": r["v_at"],
            }
        out.append(item)
    return out
