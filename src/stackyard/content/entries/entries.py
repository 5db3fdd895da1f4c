"""Entries: per-locale, versioned content of a content type (catalogue §2.4, §4.1).

An entry is one row per (stack, branch, uid, locale) in `entries`, with every saved version in
`entry_versions` and its outgoing references in `entry_references`. Writes validate the whole
entry against the content type first (`validation.check`), so nothing invalid is stored.

Fields marked `non_localizable` belong to the master locale's copy: every other copy of the entry
shows the master's values for them. Writes to such a field in another locale are ignored, not
refused (as a fetched copy sent back whole must save), and a save of the master copy carries its
values to the other copies, each as a new version with its own event. Only top-level fields count;
an entry with no copy in the master locale has nothing to follow.

Concurrent writes to one entry are serialized: SQLite has one writer, and on PostgreSQL the row is
read `FOR UPDATE`, so a second update waits and applies on top of the first. A client that sends
the `_version` it last saw gets 409 if someone saved in between, instead of overwriting silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import content_locales, require
from stackyard.content.assets import records as asset_records
from stackyard.content.entries import operations as entry_ops
from stackyard.content.entries import validation
from stackyard.content.model import content_types
from stackyard.content.publishing import snapshots
from stackyard.core import spine
from stackyard.errors import Conflict, invalid, not_found
from stackyard.ids import now, uid
from stackyard.stacks import locales
from stackyard.store.engine import Row, Tx, jdump, jload
from stackyard.store.query import compile_query

CREATE_FAILED = 119
UPDATE_FAILED = 120
STALE = 162
MAX_TAGS = 100
NOTICES = {
    "create": "Entry created successfully.",
    "update": "Entry updated successfully.",
    "localize": "Entry localized successfully.",
}


@dataclass(frozen=True)
class Target:
    """The content type an entry request addresses, loaded once per request."""

    uid: str
    title: str
    schema: list[dict[str, Any]]


def content_type(tx: Tx, access: StackAccess, ct_uid: str, action: str) -> Target:
    """The content type (422/118 when missing), after checking the caller may `action` its entries."""
    ct = content_types.loaded(tx, access.api_key, access.branch, ct_uid)
    require(access, "entry", action, ct_uid)
    return Target(ct_uid, str(ct.get("title", ct_uid)), list(ct.get("schema") or []))


def locale_of(tx: Tx, access: StackAccess, code: str | None) -> str:
    """The locale a request names (default: the master locale); 422 when the stack has no such locale."""
    if code is None or code == "":
        return str(access.stack["master_locale"])
    code = code.lower()
    if not locales.exists(tx, access.api_key, code, access.branch):
        raise invalid(
            {"locale": [f"'{code}' is not a language of this stack."]}, "The language was not found."
        )
    return code


def in_locale(tx: Tx, access: StackAccess, ct: Target, code: str | None, action: str) -> str:
    """The locale a request names (as `locale_of`), after checking the caller may `action` the
    content type's entries in it: a custom role's locale rules bind every entry action (403)."""
    found = locale_of(tx, access, code)
    require(access, "entry", action, ct.uid, locale=found)
    return found


def row(
    tx: Tx, access: StackAccess, ct: Target, entry_uid: str, locale: str, *, lock: bool = False
) -> Row | None:
    sql = "SELECT * FROM entries WHERE api_key = ? AND branch = ? AND content_type_uid = ? AND uid = ? AND locale = ?"
    if lock:
        sql += tx.for_update
    return tx.one(sql, access.api_key, access.branch, ct.uid, entry_uid, locale)


def rows(tx: Tx, access: StackAccess, ct: Target, entry_uid: str, *, lock: bool = False) -> list[Row]:
    """Every locale of an entry, the locale it was created in first; 422/141 when there is none."""
    # By the primary key's prefix only: with the content type in the WHERE clause SQLite's planner
    # may take the content type index and scan every entry of the type (the type is checked below).
    sql = "SELECT * FROM entries WHERE api_key = ? AND branch = ? AND uid = ? ORDER BY localized, created_at, locale"
    params = (access.api_key, access.branch, entry_uid)
    if lock and tx.dialect == "postgresql":
        # Lock the entry's rows, then read again: the locking read's snapshot predates a copy that a
        # writer we waited for may have just committed (a new locale), and the second read sees it.
        tx.all(sql + tx.for_update, *params)
    found = [r for r in tx.all(sql, *params) if r["content_type_uid"] == ct.uid]
    if not found:
        raise not_found()
    return found


def render(r: Row, *, version: Row | None = None) -> dict[str, Any]:
    """The CMA entry object; with `version`, as that version was saved."""
    src = version or r
    data = jload(src["data"])
    out: dict[str, Any] = {
        "uid": r["uid"],
        "title": src["title"],
        "locale": r["locale"],
        "tags": jload(src["tags"]),
        "_version": src["version"],
        "created_at": r["created_at"],
        "created_by": r["created_by"],
        "updated_at": version["created_at"] if version else r["updated_at"],
        "updated_by": version["created_by"] if version else r["updated_by"],
        "ACL": {},
        "_in_progress": False,
        "publish_details": [],
    }
    if version is not None and version.get("version_name"):
        out["_version_name"] = version["version_name"]
    for k, v in data.items():
        out.setdefault(k, v)
    return out


def lookup(tx: Tx, access: StackAccess) -> validation.Lookup:
    """entry uid -> its content type uid (None when no such entry), for reference checks."""

    def find_ct(entry_uid: str) -> str | None:
        value = tx.scalar(
            "SELECT content_type_uid FROM entries WHERE api_key = ? AND branch = ? AND uid = ? LIMIT 1",
            access.api_key,
            access.branch,
            entry_uid,
        )
        return None if value is None else str(value)

    return find_ct


def _tags(value: Any, errors: dict[str, list[str]]) -> list[str] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) > MAX_TAGS
        or not all(isinstance(t, str) and 0 < len(t) <= 100 for t in value)
    ):
        errors["tags"] = [f"must be a list of at most {MAX_TAGS} non-empty strings."]
        return None
    return list(dict.fromkeys(value))


@dataclass
class Write:
    """A checked entry body, ready to store."""

    data: dict[str, Any]
    tags: list[str] | None
    refs: list[tuple[str, str]] = field(default_factory=list)


def check(
    tx: Tx,
    access: StackAccess,
    ct: Target,
    body: dict[str, Any],
    locale: str,
    *,
    create: bool,
    exclude: str = "",
) -> Write:
    """Validate a body (field values plus tags) as a whole; 422 naming every fault."""
    checked = validation.check(
        ct.schema,
        body,
        create=create,
        lookup=lookup(tx, access),
        max_items=validation.item_cap(tx.db),
        asset_exists=lambda asset_uid: asset_records.exists(tx, access.api_key, access.branch, asset_uid),
    )
    errors = checked.errors
    tags = _tags(body.get("tags"), errors)
    if checked.unique and tx.dialect == "postgresql":
        # Two concurrent saves of the same unique value would both pass the check below otherwise.
        tx.scalar(
            "SELECT pg_advisory_xact_lock(hashtext(?)) AS x",
            f"entries:{access.api_key}:{access.branch}:{ct.uid}:{locale}",
        )
    for name, value in checked.unique:
        where = compile_query(tx.dialect, ct.schema, {name: value})
        taken = tx.one(
            f"SELECT uid FROM entries WHERE api_key = ? AND branch = ? AND content_type_uid = ? AND locale = ? "
            f"AND uid <> ? AND {where.sql} LIMIT 1",
            access.api_key,
            access.branch,
            ct.uid,
            locale,
            exclude,
            *where.params,
        )
        if taken is not None:
            errors.setdefault(name, []).append("is not unique.")
    if errors:
        code = CREATE_FAILED if create else UPDATE_FAILED
        message = (
            "Entry creation failed. Please enter valid data."
            if create
            else "Entry update failed. Please enter valid data."
        )
        raise invalid(errors, message, code)
    return Write(checked.data, tags, checked.refs)


def store(
    tx: Tx,
    access: StackAccess,
    ct: Target,
    entry_uid: str,
    locale: str,
    w: Write,
    *,
    previous: Row | None,
    localized: bool = False,
) -> Row:
    """Insert or replace (uid, locale) with a new version, its snapshot and its references."""
    t = now()
    actor = access.caller.actor
    version = 1 if previous is None else int(previous["version"]) + 1
    tags = w.tags if w.tags is not None else (jload(previous["tags"]) if previous else [])
    title = w.data.get("title") if isinstance(w.data.get("title"), str) else ""
    key, branch = access.api_key, access.branch
    if previous is None:
        tx.run(
            "INSERT INTO entries (api_key, branch, uid, locale, content_type_uid, version, title, data, tags, "
            "localized, created_by, updated_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            key,
            branch,
            entry_uid,
            locale,
            ct.uid,
            version,
            title,
            jdump(w.data),
            jdump(tags),
            1 if localized else 0,
            actor,
            actor,
            t,
            t,
        )
    else:
        tx.run(
            "UPDATE entries SET version = ?, title = ?, data = ?, tags = ?, updated_by = ?, updated_at = ? "
            "WHERE api_key = ? AND branch = ? AND uid = ? AND locale = ?",
            version,
            title,
            jdump(w.data),
            jdump(tags),
            actor,
            t,
            key,
            branch,
            entry_uid,
            locale,
        )
    tx.run(
        "INSERT INTO entry_versions (api_key, branch, uid, locale, version, content_type_uid, title, data, tags, "
        "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        key,
        branch,
        entry_uid,
        locale,
        version,
        ct.uid,
        title,
        jdump(w.data),
        jdump(tags),
        actor,
        t,
    )
    tx.run(
        "DELETE FROM entry_references WHERE api_key = ? AND branch = ? AND from_uid = ? AND from_locale = ?",
        key,
        branch,
        entry_uid,
        locale,
    )
    for to_uid, to_ct in dict(w.refs).items():
        tx.run(
            "INSERT INTO entry_references (api_key, branch, from_uid, from_locale, from_content_type_uid, to_uid, "
            "to_content_type_uid) VALUES (?, ?, ?, ?, ?, ?, ?)",
            key,
            branch,
            entry_uid,
            locale,
            ct.uid,
            to_uid,
            to_ct,
        )
    found = row(tx, access, ct, entry_uid, locale)
    assert found is not None
    return found


def record(tx: Tx, access: StackAccess, ct: Target, event: str, r: Row) -> None:
    """The event and the audit entry every entry write carries, in the write's transaction."""
    spine.record(
        tx,
        access,
        f"entry.{event}",
        r["uid"],
        {"title": r["title"]},
        content_type=ct.uid,
        locale=r["locale"],
        version=r["version"],
    )


def create(
    tx: Tx, access: StackAccess, ct_uid: str, body: dict[str, Any], locale: str | None
) -> dict[str, Any]:
    ct = content_type(tx, access, ct_uid, "create")
    code = in_locale(tx, access, ct, locale, "create")
    w = check(tx, access, ct, body, code, create=True)
    r = store(tx, access, ct, uid(), code, w, previous=None)
    record(tx, access, ct, "create", r)
    return render(r)


def _stale(body: dict[str, Any], current: Row) -> None:
    sent = body.get("_version")
    if isinstance(sent, int) and not isinstance(sent, bool) and sent != current["version"]:
        raise Conflict(
            f"The entry was saved by someone else: you sent _version {sent}, it is at {current['version']}.",
            error_code=STALE,
            errors={"_version": [f"is {sent}; the entry is at version {current['version']}."]},
        )


def update(
    tx: Tx, access: StackAccess, ct_uid: str, entry_uid: str, body: dict[str, Any], locale: str | None
) -> tuple[str, dict[str, Any]]:
    """Save fields of (uid, locale); answers (notice key, entry). A locale without its own copy is localized."""
    ct = content_type(tx, access, ct_uid, "update")
    code = in_locale(tx, access, ct, locale, "update")
    existing = rows(tx, access, ct, entry_uid, lock=True)
    current = next((r for r in existing if r["locale"] == code), None)
    if current is None:
        # A copy the caller may not read is no base: the new copy starts from what was sent.
        base = fallback(tx, access, existing, code)
        stored = _known(ct, jload(base["data"])) if base is not None else {}
        merged, op_errors = entry_ops.apply(ct.schema, stored, body)
        if op_errors:
            raise invalid(op_errors, "Entry update failed. Please enter valid data.", UPDATE_FAILED)
        data = follow_master(access, ct, existing, code, {**stored, **merged})
        w = check(tx, access, ct, data, code, create=False, exclude=entry_uid)
        if w.tags is None:
            w.tags = jload(base["tags"]) if base is not None else []
        r = store(tx, access, ct, entry_uid, code, w, previous=None, localized=True)
        record(tx, access, ct, "localize", r)
        spread_master(tx, access, ct, r, existing)
        return "localize", render(r)
    _stale(body, current)
    stored = _known(ct, jload(current["data"]))
    merged, op_errors = entry_ops.apply(ct.schema, stored, body)
    if op_errors:
        raise invalid(op_errors, "Entry update failed. Please enter valid data.", UPDATE_FAILED)
    data = follow_master(access, ct, existing, code, {**stored, **merged})
    w = check(tx, access, ct, data, code, create=False, exclude=entry_uid)
    r = store(tx, access, ct, entry_uid, code, w, previous=current)
    record(tx, access, ct, "update", r)
    spread_master(tx, access, ct, r, existing)
    return "update", render(r)


def _shared(ct: Target) -> set[str]:
    """The top-level fields whose values all copies take from the master locale's."""
    return {
        str(f["uid"])
        for f in ct.schema
        if isinstance(f, dict) and isinstance(f.get("uid"), str) and f.get("non_localizable") is True
    }


def follow_master(
    access: StackAccess, ct: Target, existing: list[Row], code: str, data: dict[str, Any]
) -> dict[str, Any]:
    """`data` for the copy in `code`, its non-localizable fields set as the master copy has them
    (whatever was sent for them); unchanged in the master locale, or when there is no master copy."""
    shared = _shared(ct)
    master_code = access.stack["master_locale"]
    master = next((r for r in existing if r["locale"] == master_code), None)
    if not shared or master is None or code == master_code:
        return data
    master_data = jload(master["data"])
    out = {k: v for k, v in data.items() if k not in shared}
    out.update({k: master_data[k] for k in shared if k in master_data})
    return out


def spread_master(tx: Tx, access: StackAccess, ct: Target, saved: Row, existing: list[Row]) -> None:
    """After a save of the master copy (`saved`), give every other copy its non-localizable values."""
    if saved["locale"] != access.stack["master_locale"] or not _shared(ct):
        return
    everyone = [saved, *(r for r in existing if r["locale"] != saved["locale"])]
    for other in everyone[1:]:
        stored = _known(ct, jload(other["data"]))
        data = follow_master(access, ct, everyone, other["locale"], stored)
        if data == stored:
            continue
        w = check(tx, access, ct, data, other["locale"], create=False, exclude=str(other["uid"]))
        r = store(tx, access, ct, str(other["uid"]), other["locale"], w, previous=other)
        record(tx, access, ct, "update", r)


def _known(ct: Target, data: dict[str, Any]) -> dict[str, Any]:
    """Stored values of fields the content type still has: a field removed from the schema since
    must not make every later save of the entry fail as "not a field of this content type"."""
    names = {f.get("uid") for f in ct.schema if isinstance(f, dict)} | {"title"}
    return {k: v for k, v in data.items() if k in names}


def fallback(tx: Tx, access: StackAccess, existing: list[Row], code: str) -> Row | None:
    """The copy a locale without its own falls back to: along the locale chain, else the first
    locale; only copies in locales the caller may read (None when there is none)."""
    readable = content_locales(access)
    by_locale = {r["locale"]: r for r in existing if readable.admits(r["locale"])}
    for candidate in locales.chain(tx, access.api_key, code, access.branch):
        if candidate in by_locale:
            return by_locale[candidate]
    return next(iter(by_locale.values()), None)


def fetch(
    tx: Tx,
    access: StackAccess,
    ct_uid: str,
    entry_uid: str,
    locale: str | None,
    *,
    include_fallback: bool = False,
    version: int | None = None,
) -> dict[str, Any]:
    ct = content_type(tx, access, ct_uid, "read")
    code = in_locale(tx, access, ct, locale, "read")
    r = row(tx, access, ct, entry_uid, code)
    if r is None and include_fallback:
        readable = content_locales(access)
        for candidate in locales.chain(tx, access.api_key, code, access.branch)[1:]:
            if not readable.admits(candidate):
                continue
            r = row(tx, access, ct, entry_uid, candidate)
            if r is not None:
                break
    if r is None:
        raise not_found()
    if version is None:
        return render(r)
    snapshot = tx.one(
        "SELECT * FROM entry_versions WHERE api_key = ? AND branch = ? AND uid = ? AND locale = ? AND version = ?",
        access.api_key,
        access.branch,
        entry_uid,
        r["locale"],
        version,
    )
    if snapshot is None:
        raise not_found()
    return render(r, version=snapshot)


def delete(tx: Tx, access: StackAccess, ct_uid: str, entry_uid: str, codes: list[str] | None) -> list[str]:
    """Delete some locales of an entry (None: all of them); answers the locales deleted."""
    ct = content_type(tx, access, ct_uid, "delete")
    existing = rows(tx, access, ct, entry_uid, lock=True)
    have = {r["locale"]: r for r in existing}
    if codes is None:
        codes = list(have)
    missing = [c for c in codes if c not in have]
    if missing:
        raise not_found()
    # Deleting the whole entry deletes every copy: each must be one the caller may delete.
    for code in codes:
        require(access, "entry", "delete", ct.uid, locale=code)
    for code in codes:
        drop_locale(tx, access, entry_uid, code)
        record(tx, access, ct, "delete", have[code])
    return codes


def drop_locale(tx: Tx, access: StackAccess, entry_uid: str, code: str) -> None:
    """Remove one locale's copy of an entry, its versions and its references, and unpublish what was
    published from it (in its own locale and in those that fell back to it)."""
    snapshots.withdraw(tx, access, kind=snapshots.ENTRY, uid=entry_uid, source_locale=code)
    for table, column in (("entries", "uid"), ("entry_versions", "uid"), ("entry_references", "from_uid")):
        locale_column = "from_locale" if table == "entry_references" else "locale"
        tx.run(
            f"DELETE FROM {table} WHERE api_key = ? AND branch = ? AND {column} = ? AND {locale_column} = ?",
            access.api_key,
            access.branch,
            entry_uid,
            code,
        )
