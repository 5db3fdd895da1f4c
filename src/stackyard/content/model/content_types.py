"""Content types: the schemas entries are written against, keyed by (stack, branch, uid).

A content type stores a global field by reference (`reference_to`); `load` and `render` inline the
global field's current schema, so every content type using it sees its changes. What `load` builds
is cached per process (`core.cache`) until an event of the stack's content model drops it.
"""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import require, visible
from stackyard.content.model import checked
from stackyard.content.model import refs as model_refs
from stackyard.content.model.checked import Checked
from stackyard.content.model.fields import Errors, add
from stackyard.content.model.schema import (
    UID,
    UID_MAX,
    Owner,
    Refs,
    check_content_type_fields,
    check_field_rules,
    check_options,
    check_schema,
)
from stackyard.content.publishing import snapshots
from stackyard.core import cache, spine
from stackyard.errors import NotFound, UnprocessableEntity, invalid
from stackyard.ids import now
from stackyard.store.engine import Row, Tx, jdump, jload

NOT_FOUND_CODE = 118
INVALID_CODE = 121
IN_USE_CODE = 164
TITLE_LIMIT = 255
DESCRIPTION_LIMIT = 2000
CREATE_FAILED = "Content Type creation failed. Please enter valid data."
UPDATE_FAILED = "Content Type could not be updated. Please enter valid data."


def not_found(uid: str) -> NotFound:
    """422/118, as Contentstack answers for an unknown content type."""
    return NotFound(
        f"The Content Type '{uid}' was not found. Please try again.",
        error_code=NOT_FOUND_CODE,
        errors={"uid": ["is not valid."]},
    )


def _row(tx: Tx, api_key: str, branch: str, uid: str) -> Row | None:
    return tx.one(
        "SELECT * FROM content_types WHERE api_key = ? AND branch = ? AND uid = ?", api_key, branch, uid
    )


def exists(tx: Tx, api_key: str, branch: str, uid: str) -> bool:
    return (
        tx.one(
            "SELECT 1 AS x FROM content_types WHERE api_key = ? AND branch = ? AND uid = ?",
            api_key,
            branch,
            uid,
        )
        is not None
    )


def inline_global_fields(tx: Tx, api_key: str, branch: str, schema: list[Any]) -> list[Any]:
    """A copy of `schema` with each global field's current schema inlined (recursively)."""
    return _inline(tx, api_key, branch, schema, ())


def _global_schema(tx: Tx, api_key: str, branch: str, uid: str, seen: tuple[str, ...]) -> list[Any]:
    if uid in seen:  # validation refuses cycles; never loop on stored data that has one anyway
        return []
    schema = tx.scalar(
        "SELECT schema FROM global_fields WHERE api_key = ? AND branch = ? AND uid = ?", api_key, branch, uid
    )
    if schema is None:
        return []
    return _inline(tx, api_key, branch, jload(schema), (*seen, uid))


def _inline(tx: Tx, api_key: str, branch: str, schema: list[Any], seen: tuple[str, ...]) -> list[Any]:
    out: list[Any] = []
    for field in schema:
        if not isinstance(field, dict):
            out.append(field)
            continue
        f = dict(field)
        data_type = f.get("data_type")
        if data_type == "global_field" and isinstance(f.get("reference_to"), str):
            f["schema"] = _global_schema(tx, api_key, branch, f["reference_to"], seen)
        elif data_type == "group" and isinstance(f.get("schema"), list):
            f["schema"] = _inline(tx, api_key, branch, f["schema"], seen)
        elif data_type == "blocks" and isinstance(f.get("blocks"), list):
            blocks = []
            for block in f["blocks"]:
                if not isinstance(block, dict):
                    blocks.append(block)
                    continue
                b = dict(block)
                if isinstance(b.get("reference_to"), str):
                    b["schema"] = _global_schema(tx, api_key, branch, b["reference_to"], seen)
                elif isinstance(b.get("schema"), list):
                    b["schema"] = _inline(tx, api_key, branch, b["schema"], seen)
                blocks.append(b)
            f["blocks"] = blocks
        out.append(f)
    return out


def render(tx: Tx, r: Row, *, inline: bool = True) -> dict[str, Any]:
    """The content type object as Contentstack returns it."""
    schema = jload(r["schema"])
    if inline:
        schema = inline_global_fields(tx, r["api_key"], r["branch"], schema)
    return {
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
        "title": r["title"],
        "uid": r["uid"],
        "_version": r["version"],
        "inbuilt_class": False,
        "schema": schema,
        "last_activity": {},
        "maintain_revisions": True,
        "description": r["description"],
        "DEFAULT_ACL": [],
        "SYS_ACL": {},
        "field_rules": jload(r["field_rules"]),
        "options": jload(r["options"]),
        "abilities": {
            "get_one_object": True,
            "get_all_objects": True,
            "create_object": True,
            "update_object": True,
            "delete_object": True,
            "delete_all_objects": True,
        },
        "created_by": r["created_by"],
        "updated_by": r["updated_by"],
    }


LOADED = "content_types.loaded"


def forget_loaded(tx: Tx) -> None:
    """Drop what `loaded` kept in this transaction: the model is changing in it."""
    tx.state.pop(LOADED, None)


def loaded(tx: Tx, api_key: str, branch: str, uid: str) -> dict[str, Any]:
    """`load`, once per transaction and content type: a transaction that works on many entries of
    one type (a bulk job's chunk) reads its schema once. Writes of the model call `forget_loaded`."""
    memo: dict[tuple[str, str, str], dict[str, Any]] = tx.state.setdefault(LOADED, {})
    key = (api_key, branch, uid)
    if key not in memo:
        memo[key] = load(tx, api_key, branch, uid)
    return memo[key]


def load(tx: Tx, api_key: str, branch: str, uid: str) -> dict[str, Any]:
    """The stored content type with global field schemas inlined; 422/118 when there is none.

    No permission check: callers (entries, delivery) have already checked theirs. Read transactions
    share one cached copy: the answer is a fresh dict, but its schema must not be changed in place.
    """

    def build() -> dict[str, Any]:
        r = _row(tx, api_key, branch, uid)
        if r is None:
            raise not_found(uid)
        return render(tx, r)

    key = ("schema", api_key, branch, uid)
    return dict(cache.cached(tx, key, build, lambda _: cache.schema_tags(api_key, branch)))


# -- validation shared with global fields -------------------------------------------------------


def check_identity(
    tx: Tx, table: str, api_key: str, branch: str, data: dict[str, Any], current: Row | None, errors: Errors
) -> tuple[str, str, str]:
    """(uid, title, description) of a content type or global field: uid new and well formed, title unique."""
    uid = current["uid"] if current is not None else data.get("uid")
    if current is not None and data.get("uid") not in (None, current["uid"]):
        add(errors, "uid", "cannot be changed.")
    if not isinstance(uid, str) or not UID.match(uid) or len(uid) > UID_MAX:
        add(
            errors,
            "uid",
            f"is not valid: lowercase letters, digits and _, starting with a letter, at most {UID_MAX}.",
        )
        uid = ""
    elif current is None and tx.one(
        f"SELECT 1 AS x FROM {table} WHERE api_key = ? AND branch = ? AND uid = ?", api_key, branch, uid
    ):
        add(errors, "uid", "is not unique.")
    title = data.get("title", current["title"] if current is not None else None)
    if not isinstance(title, str) or not title.strip() or len(title) > TITLE_LIMIT:
        add(errors, "title", f"is required: a string of 1 to {TITLE_LIMIT} characters.")
        title = ""
    elif tx.one(
        f"SELECT 1 AS x FROM {table} WHERE api_key = ? AND branch = ? AND title = ? AND uid <> ?",
        api_key,
        branch,
        title.strip(),
        uid,
    ):
        add(errors, "title", "is not unique.")
    description = data.get("description", current["description"] if current is not None else "")
    if description is None:
        description = ""
    if not isinstance(description, str) or len(description) > DESCRIPTION_LIMIT:
        add(errors, "description", f"must be a string of at most {DESCRIPTION_LIMIT} characters.")
        description = ""
    return uid, title.strip(), description


def _prepare(
    tx: Tx, access: StackAccess, data: dict[str, Any], current: Row | None
) -> tuple[dict[str, Any], Refs]:
    """The content type to store, checked as a whole; raises 422/121 naming every fault."""
    api_key, branch = access.api_key, access.branch
    errors: Errors = {}
    uid, title, description = check_identity(tx, "content_types", api_key, branch, data, current, errors)
    raw_schema = data.get("schema", jload(current["schema"]) if current is not None else None)
    schema, refs, schema_errors = check_schema(
        raw_schema, Owner("content_type", uid), model_refs.lookup(tx, api_key, branch)
    )
    errors.update(schema_errors)
    raw_options = data.get("options", jload(current["options"]) if current is not None else None)
    options, option_errors = check_options(raw_options, schema)
    errors.update(option_errors)
    if not schema_errors:
        for key, messages in check_content_type_fields(schema, options).items():
            errors.setdefault(key, []).extend(messages)
    raw_rules = data.get("field_rules", jload(current["field_rules"]) if current is not None else None)
    rules, rule_errors = check_field_rules(raw_rules, inline_global_fields(tx, api_key, branch, schema))
    if not schema_errors:
        errors.update(rule_errors)
    if errors:
        raise invalid(errors, CREATE_FAILED if current is None else UPDATE_FAILED, INVALID_CODE)
    clean = {
        "uid": uid,
        "title": title,
        "description": description,
        "schema": schema,
        "options": options,
        "field_rules": rules,
    }
    return clean, refs


# -- service ----------------------------------------------------------------------------------


def _get(tx: Tx, access: StackAccess, uid: str, action: str) -> Row:
    r = _row(tx, access.api_key, access.branch, uid)
    if r is None:
        raise not_found(uid)
    require(access, "content_type", action, uid)
    return r


def _shown(tx: Tx, r: Row, inline: bool, include_branch: bool) -> dict[str, Any]:
    out = render(tx, r, inline=inline)
    if include_branch:
        out["_branch"] = r["branch"]
    return out


def find(
    tx: Tx,
    access: StackAccess,
    skip: int = 0,
    limit: int = 100,
    *,
    inline: bool = False,
    include_branch: bool = False,
    count: bool = True,
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of content types, and how many there are in all (None unless `count`)."""
    cond, params = visible(access, "content_type", "uid").sql()
    where = f"api_key = ? AND branch = ? AND {cond}"
    rows, total = tx.page(
        "content_types",
        where,
        (access.api_key, access.branch, *params),
        "created_at, uid",
        skip,
        limit,
        count=count,
    )
    return [_shown(tx, r, inline, include_branch) for r in rows], total


def fetch(
    tx: Tx, access: StackAccess, uid: str, *, inline: bool = False, include_branch: bool = False
) -> dict[str, Any]:
    return _shown(tx, _get(tx, access, uid, "read"), inline, include_branch)


_TABLES = {model_refs.CONTENT_TYPE: "content_types", model_refs.GLOBAL_FIELD: "global_fields"}


def write_model(
    tx: Tx,
    access: StackAccess,
    kind: str,
    clean: dict[str, Any],
    refs: Refs,
    *,
    insert: bool,
    create_failed: str,
) -> None:
    """Store a validated content type or global field (their tables share columns), with the model
    references it makes, its event and its audit entry. `kind` is model_refs.CONTENT_TYPE or GLOBAL_FIELD."""
    table, t, actor = _TABLES[kind], now(), access.caller.actor
    forget_loaded(tx)
    options, field_rules = jdump(clean.get("options", {})), jdump(clean.get("field_rules", []))
    if insert:
        # ON CONFLICT: a concurrent create of the same uid (PostgreSQL) is a 422, not a 500.
        inserted = tx.run(
            f"INSERT INTO {table} (api_key, branch, uid, title, description, schema, options, field_rules, "
            "created_by, updated_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            access.api_key,
            access.branch,
            clean["uid"],
            clean["title"],
            clean["description"],
            jdump(clean["schema"]),
            options,
            field_rules,
            actor,
            actor,
            t,
            t,
        )
        if not inserted:
            raise invalid({"uid": ["is not unique."]}, create_failed, INVALID_CODE)
    else:
        tx.run(
            f"UPDATE {table} SET title = ?, description = ?, schema = ?, options = ?, field_rules = ?, "
            "version = version + 1, updated_by = ?, updated_at = ? WHERE api_key = ? AND branch = ? AND uid = ?",
            clean["title"],
            clean["description"],
            jdump(clean["schema"]),
            options,
            field_rules,
            actor,
            t,
            access.api_key,
            access.branch,
            clean["uid"],
        )
    model_refs.save(tx, access.api_key, access.branch, kind, clean["uid"], refs)
    event = "create" if insert else "update"
    spine.record(tx, access, f"{kind}.{event}", clean["uid"], {"title": clean["title"]})


def check(tx: Tx, access: StackAccess, data: dict[str, Any], uid: str | None = None) -> Checked:
    """Check a create (or, with `uid`, an update) ahead of its write, in a read (`model.checked`)."""
    at = checked.position(tx, access.api_key)
    if uid is None:
        require(access, "content_type", "create")
    current = _get(tx, access, uid, "update") if uid is not None else None
    return Checked(data, _prepare(tx, access, data, current), at)


def create(tx: Tx, access: StackAccess, data: dict[str, Any], ahead: Checked | None = None) -> dict[str, Any]:
    require(access, "content_type", "create")
    clean, refs = checked.reuse(tx, access, ahead, data) or _prepare(tx, access, data, None)
    write_model(tx, access, model_refs.CONTENT_TYPE, clean, refs, insert=True, create_failed=CREATE_FAILED)
    return load(tx, access.api_key, access.branch, clean["uid"])


def update(
    tx: Tx, access: StackAccess, uid: str, data: dict[str, Any], ahead: Checked | None = None
) -> dict[str, Any]:
    current = _get(tx, access, uid, "update")
    clean, refs = checked.reuse(tx, access, ahead, data) or _prepare(tx, access, data, current)
    write_model(tx, access, model_refs.CONTENT_TYPE, clean, refs, insert=False, create_failed=CREATE_FAILED)
    return load(tx, access.api_key, access.branch, uid)


def _delete_entries(tx: Tx, access: StackAccess, uid: str) -> int:
    """Remove the content type's entries (forced delete), with an entry.delete event for each."""
    key, branch = access.api_key, access.branch
    # Lock the entries before the spine locks the stack row at commit: entry updates take the same
    # two locks in that order, so a forced delete racing an update cannot deadlock on PostgreSQL.
    rows = tx.all(
        "SELECT uid, locale, version, title FROM entries WHERE api_key = ? AND branch = ? AND content_type_uid = ? "
        "ORDER BY uid, locale" + tx.for_update,
        key,
        branch,
        uid,
    )
    snapshots.withdraw(tx, access, kind=snapshots.ENTRY, content_type_uid=uid)
    for r in rows:
        spine.record(
            tx,
            access,
            "entry.delete",
            r["uid"],
            {"title": r["title"]},
            content_type=uid,
            locale=r["locale"],
            version=r["version"],
        )
    tx.run("DELETE FROM entries WHERE api_key = ? AND branch = ? AND content_type_uid = ?", key, branch, uid)
    tx.run(
        "DELETE FROM entry_versions WHERE api_key = ? AND branch = ? AND content_type_uid = ?",
        key,
        branch,
        uid,
    )
    tx.run(
        "DELETE FROM entry_references WHERE api_key = ? AND branch = ? "
        "AND (from_content_type_uid = ? OR to_content_type_uid = ?)",
        key,
        branch,
        uid,
        uid,
    )
    return len(rows)


def delete(tx: Tx, access: StackAccess, uid: str, *, force: bool) -> None:
    """Delete a content type. While it has entries this needs `force`, and then takes them too."""
    forget_loaded(tx)
    r = _get(tx, access, uid, "delete")
    key, branch = access.api_key, access.branch
    if not force:
        count = tx.scalar(
            "SELECT COUNT(*) AS n FROM entries WHERE api_key = ? AND branch = ? AND content_type_uid = ?",
            key,
            branch,
            uid,
        )
        if count:
            raise UnprocessableEntity(
                f"The Content Type '{uid}' has {count} entries. Delete them first, or pass force=true.",
                error_code=IN_USE_CODE,
                errors={"entries": [f"{count} entries use this content type."]},
            )
    removed = _delete_entries(tx, access, uid)
    tx.run("DELETE FROM content_types WHERE api_key = ? AND branch = ? AND uid = ?", key, branch, uid)
    model_refs.forget(tx, key, branch, model_refs.CONTENT_TYPE, uid)
    _drop_from_labels(tx, key, branch, uid)
    spine.record(tx, access, "content_type.delete", uid, {"title": r["title"], "entries_deleted": removed})


def _drop_from_labels(tx: Tx, api_key: str, branch: str, ct_uid: str) -> None:
    for label in tx.all(
        "SELECT uid, content_types FROM labels WHERE api_key = ? AND branch = ?", api_key, branch
    ):
        cts = jload(label["content_types"])
        if ct_uid in cts:
            tx.run(
                "UPDATE labels SET content_types = ? WHERE api_key = ? AND branch = ? AND uid = ?",
                jdump([c for c in cts if c != ct_uid]),
                api_key,
                branch,
                label["uid"],
            )


def references(tx: Tx, access: StackAccess, uid: str) -> list[str]:
    """Uids of the content types that refer to this one (directly or through global fields)."""
    _get(tx, access, uid, "read")
    found = model_refs.content_types_referring_to(tx, access.api_key, access.branch, uid)
    shown = visible(access, "content_type", "uid")
    return [u for u in found if shown.admits(u)]


def export(tx: Tx, access: StackAccess, uid: str) -> dict[str, Any]:
    """The stored content type as a file-ready object: global fields by reference, plus `_branches`."""
    r = _get(tx, access, uid, "read")
    out = render(tx, r, inline=False)
    out["_branches"] = [r["branch"]]
    return out


def import_(tx: Tx, access: StackAccess, data: Any, *, overwrite: bool) -> dict[str, Any]:
    """Create a content type from an exported object; with `overwrite`, replace one with its uid."""
    if isinstance(data, dict) and isinstance(data.get("content_type"), dict):
        data = data["content_type"]
    if not isinstance(data, dict):
        raise invalid(
            {"content_type": ["must be a JSON object (an exported content type)."]},
            CREATE_FAILED,
            INVALID_CODE,
        )
    uid = data.get("uid")
    fields = {
        k: data[k] for k in ("uid", "title", "description", "schema", "options", "field_rules") if k in data
    }
    if overwrite and isinstance(uid, str) and exists(tx, access.api_key, access.branch, uid):
        return update(tx, access, uid, fields)
    return create(tx, access, fields)
